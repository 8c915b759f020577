from __future__ import annotations

import contextlib
import re
from concurrent.futures import ThreadPoolExecutor

import pytest

import refine
from corpora import Passage
from refine import (
    Assert,
    AssertionFailed,
    BestOfN,
    Message,
    Module,
    Predict,
    Prediction,
    Refine,
    ScriptedLM,
    Suggest,
    UsageError,
    check,
    checks,
)
from refine.lm import LMRequest


def plain(replies):
    return ScriptedLM(replies, supports=())


def short(p):
    return len(p.answer) <= 5


# Predict-level (declarative) assertions


def test_assert_retries_with_feedback_then_passes():
    lm = plain(["far too long", "Paris"])
    pred = Predict("question -> answer", lm=lm, assertions=[Assert(short, "Use at most 5 characters.")])(question="q")
    assert pred.answer == "Paris" and pred.ok
    assert [a.ok for a in pred.attempts] == [False, True]
    first, retry = lm.requests
    assert retry.messages[: len(first.messages)] == first.messages
    assert retry.messages[-2:] == (
        Message("assistant", "far too long", generated=True),
        Message("user", "Use at most 5 characters.\nWrite the whole reply again, fixing this."),
    )
    assert retry.seed != first.seed and retry.temperature >= 0.7  # a retry samples anew


def test_exhausted_assert_raises_with_every_attempt():
    lm = plain(["one long", "two long", "three long"])
    predict = Predict("question -> answer", lm=lm, assertions=[Assert(short, "Use at most 5 characters.")])
    message = "Predict(Signature('question: str -> answer: str')) still fails after 3 attempts (max_backtracks=2): "
    with pytest.raises(AssertionFailed, match=re.escape(message + "Use at most 5 characters.")) as info:
        predict(question="q")
    assert [a.response.text for a in info.value.attempts] == ["one long", "two long", "three long"]
    assert [v.rule for v in info.value.failures] == ["assert"]


def test_exhausted_suggest_carries_on_with_the_last_answer_and_records_it():
    lm = plain(["one long", "two long"])
    pred = Predict("question -> answer", lm=lm, max_backtracks=1, assertions=[Suggest(short, "Be brief.")])(
        question="q"
    )
    assert pred.answer == "two long" and not pred.ok
    (failure,) = pred.failures
    assert failure.message == "Be brief." and not failure.hard and failure.rule == "suggest"
    assert len(pred.attempts) == 2


def test_suggest_with_a_score_keeps_the_best_attempt():
    lm = plain(["medium one", "the longest one", "tiny?"])
    rule = Suggest(lambda p: len(p.answer) < 3, "Be tiny.", score=lambda p: -abs(len(p.answer) - 10))
    pred = Predict("question -> answer", lm=lm, assertions=[rule])(question="q")
    assert pred.answer == "medium one" and len(pred.attempts) == 3


def test_a_suggestion_never_replaces_an_answer_that_passes_the_hard_checks():
    # The second reply satisfies the suggestion but breaks the assertion: the first stands.
    lm = plain(["Paris is lovely", "x", "no"])
    rules = [Assert(lambda p: p.answer != "x", "Not x."), Suggest(short, "Be brief.")]
    pred = Predict("question -> answer", lm=lm, assertions=rules)(question="q")
    assert pred.answer == "no" and pred.ok
    lm = plain(["Paris is lovely", "x", "x"])
    pred = Predict("question -> answer", lm=lm, assertions=rules)(question="q")
    assert pred.answer == "Paris is lovely" and [v.message for v in pred.failures] == ["Be brief."]


def test_declared_rules_are_hard_unless_strict_is_off():
    passages = [Passage.create("Cats", "Cats purr.")]
    sig = refine.CitedQA()
    with pytest.raises(AssertionFailed, match="cites nothing"):
        Predict(sig, lm=plain(["Cats purr.", "They purr."]), max_backtracks=1)(passages=passages, question="q")
    pred = Predict(sig, lm=plain(["Cats purr.", "They purr."]), max_backtracks=1, strict=False)(
        passages=passages, question="q"
    )
    assert pred.answer == "They purr." and all(not v.hard and v.rule == "citations" for v in pred.failures)


def test_library_checks_explain_themselves_as_feedback():
    passages = [Passage.create("Cats", "Cats purr at 25 Hz."), Passage.create("Dogs", "Dogs bark.")]
    lm = plain(["Cats purr at 30 Hz [1]. Dogs bark [3].", "Cats purr at 25 Hz [1]. Dogs bark [2]."])
    rules = [Assert(checks.citations_valid()), Assert(checks.numbers_cited())]
    pred = Predict("passages: list[Passage], question -> answer", lm=lm, assertions=rules)(
        passages=passages, question="q"
    )
    assert pred.answer.endswith("[2].")
    feedback = lm.requests[1].messages[-1].content
    assert "Sentence 2 cites [3], but only [1]..[2] exist; cite one of [1]..[2]." in feedback
    assert "The answer says 30, which no passage it cites contains" in feedback


def test_rules_refuse_bad_definitions_by_name():
    with pytest.raises(UsageError, match=r"Assert\(condition=short\) needs message=\.\.\."):
        Assert(short)
    with pytest.raises(UsageError, match="is neither a bool nor a function"):
        Suggest(42, "x")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="is already decided"):
        Predict("q -> a", assertions=[Assert(True, "x")])
    with pytest.raises(UsageError, match="holds a non-rule"):
        Predict("q -> a", assertions=[short])  # type: ignore[list-item]
    with pytest.raises(UsageError, match="max_backtracks=-1 must be >= 0"):
        Predict("q -> a", max_backtracks=-1)
    predict = Predict("question -> answer", lm=plain(["x"]), assertions=[Assert(lambda p: None, "m")])  # type: ignore[arg-type,return-value]
    with pytest.raises(UsageError, match="returned None; return True/False, or the problems found"):
        predict(question="q")


# Modules: imperative checks and backtracking across predictors


class Hops(Module):
    def __init__(self, soft: bool = False) -> None:
        self.query = Predict("question -> query")
        self.answer = Predict("query -> answer")
        self.soft = soft

    def forward(self, question: str) -> Prediction:
        q = self.query(question=question)
        check(q, Suggest(len(q.query.split()) <= 3, "Use at most 3 words."))
        a = self.answer(query=q.query)
        rule = Suggest if self.soft else Assert
        return check(a, rule(a.answer.startswith("A"), "Start with A."))


def test_a_failed_check_backtracks_to_the_predictor_that_wrote_the_output():
    lm = plain(["a very long search query", "short query", "Bad answer", "Answer"])
    result = Hops()(question="q", lm=lm)
    assert result.answer == "Answer" and result.ok
    assert [(s.name, len(s.attempts)) for s in result.trace] == [("query", 2), ("answer", 2)]
    assert len(result.attempts) == 4 and result.usage.calls == 4
    # The answer's retry extends its own prompt; the query was not asked again.
    assert lm.requests[3].messages[:2] == lm.requests[2].messages
    assert lm.requests[3].messages[-1].content.startswith("Start with A.")


def test_replayed_calls_cost_nothing_and_later_calls_run_again():
    class Chain(Module):
        def __init__(self) -> None:
            self.first = Predict("question -> query")
            self.second = Predict("query -> answer")

        def forward(self, question: str) -> Prediction:
            q = self.first(question=question)
            a = self.second(query=q.query)
            check(a, Assert(len(q.query) > 3, "Write a longer query.", target=q))
            return a

    lm = plain(["abc", "x", "abcdef", "y"])
    result = Chain()(question="q", lm=lm)
    assert [r.messages[-1].content for r in lm.requests] == [
        "Question: q",
        "Query: abc",
        "Write a longer query.\nWrite the whole reply again, fixing this.",
        "Query: abcdef",
    ]
    assert result.answer == "y"
    assert [(s.name, s.outputs) for s in result.trace] == [
        ("first", {"query": "abcdef"}),
        ("second", {"answer": "x"}),
        ("second", {"answer": "y"}),
    ]


def test_exhausted_assertion_in_a_module_raises_with_the_whole_run():
    lm = plain(["q", "B1", "B2", "B3"])
    with pytest.raises(AssertionFailed, match=r"assertion failed on 'answer' after 3 attempts: Start with A\.") as info:
        Hops()(question="q", lm=lm)
    assert len(info.value.attempts) == 4 and [s.name for s in info.value.trace] == ["query", "answer"]


def test_exhausted_suggestion_in_a_module_is_recorded_on_the_result():
    lm = plain(["q", "B1", "B2", "B3"])
    result = Hops(soft=True)(question="q", lm=lm)
    assert result.answer == "B3" and [v.message for v in result.failures] == ["Start with A."]


def test_user_code_catching_exceptions_cannot_swallow_a_backtrack():
    class Careless(Module):
        def __init__(self) -> None:
            self.answer = Predict("question -> answer")

        def forward(self, question: str) -> Prediction:
            a = self.answer(question=question)
            with contextlib.suppress(Exception):
                check(a, Assert(a.answer == "yes", "Say yes."))
            return a

    assert Careless()(question="q", lm=plain(["no", "yes"])).answer == "yes"


def test_module_assertions_default_to_the_latest_writer_of_the_fields_they_read():
    class Draft(Module):
        assertions = (Assert(checks.max_words("answer", 2)),)

        def __init__(self) -> None:
            self.draft = Predict("question -> answer")
            self.label = Predict("question -> topic")

        def forward(self, question: str) -> dict[str, str]:
            answer = self.draft(question=question).answer
            return {"answer": answer, "topic": self.label(question=question).topic}

    lm = plain(["three whole words", "geography", "two words"])
    result = Draft()(question="q", lm=lm)
    assert dict(result.outputs) == {"answer": "two words", "topic": "geography"}
    assert "Shorten the answer to at most 2 words (it has 3)." in lm.requests[2].messages[-1].content


def test_check_outside_a_module_is_final_at_once():
    pred = Predict("question -> answer", lm=plain(["no"]))(question="q")
    assert check(pred, Suggest(pred.answer == "yes", "Say yes.")).failures[0].message == "Say yes."
    with pytest.raises(AssertionFailed, match=r"\(outside a module run, so not retried\): Say yes."):
        check(pred, Assert(pred.answer == "yes", "Say yes."))


def test_forward_must_return_a_prediction_or_outputs():
    class Odd(Module):
        def forward(self, question: str) -> Prediction:
            return 42  # type: ignore[return-value]

    with pytest.raises(UsageError, match=r"Odd\.forward returned int; return a refine\.Prediction"):
        Odd()(question="q", lm=plain([]))


def test_an_unknown_target_is_named():
    class Wrong(Module):
        def __init__(self) -> None:
            self.answer = Predict("question -> answer")

        def forward(self, question: str) -> Prediction:
            a = self.answer(question=question)
            return check(a, Assert(False, "never", target="nowhere"))

    with pytest.raises(UsageError, match="target='nowhere' made no call in this run"):
        Wrong()(question="q", lm=plain(["x"]))


def _echo(request: LMRequest) -> str:
    """A deterministic reply that depends on the whole request, retries included."""
    last = request.messages[-1].content
    if "Start with A." in last:
        return f"A{len(request.messages)}"
    return f"reply to {last.split(': ', 1)[-1]}"


def test_threads_give_the_same_results_as_a_sequential_run():
    questions = [f"question {i}" for i in range(16)]
    module = Hops()
    lm = ScriptedLM([_echo] * 200, supports=())
    sequential = [module(question=q, lm=lm) for q in questions]
    with ThreadPoolExecutor(max_workers=8) as pool:
        threaded = list(pool.map(lambda q: module(question=q, lm=lm), questions))
    assert [dict(r.outputs) for r in threaded] == [dict(r.outputs) for r in sequential]
    assert [[a.request for a in r.attempts] for r in threaded] == [[a.request for a in r.attempts] for r in sequential]
    assert [[s.name for s in r.trace] for r in threaded] == [[s.name for s in r.trace] for r in sequential]


# Refine and BestOfN


class One(Module):
    def __init__(self) -> None:
        self.answer = Predict("question -> answer")

    def forward(self, question: str) -> Prediction:
        return self.answer(question=question)


def reward(inputs, prediction):
    return 1.0 if prediction.answer == "good" else len(prediction.answer) / 10


def test_refine_retries_the_last_call_with_the_score_as_feedback():
    lm = plain(["bad", "better", "good", "unused"])
    result = Refine(One(), N=5, reward=reward, threshold=1.0)(question="q", lm=lm)
    assert result.answer == "good" and len(result.attempts) == 3
    assert "This reply scores 0.30 but needs at least 1" in lm.requests[1].messages[-1].content
    assert lm.requests[2].messages[: len(lm.requests[1].messages)] == lm.requests[1].messages


def test_refine_returns_the_best_when_no_try_reaches_the_threshold():
    lm = plain(["longest one", "bad", "worse"])
    result = Refine(One(), N=3, reward=reward, threshold=5.0)(question="q", lm=lm)
    assert result.answer == "longest one" and len(result.attempts) == 3


def test_best_of_n_samples_independent_tries():
    lm = plain(["bad", "good", "unused"])
    result = BestOfN(One(), N=3, reward=reward, threshold=1.0)(question="q", lm=lm)
    assert result.answer == "good" and len(result.attempts) == 2
    first, second = lm.requests
    assert first.messages == second.messages  # no feedback: a fresh sample
    assert (second.seed, second.temperature) != (first.seed, first.temperature) and second.temperature >= 0.7


def test_rollouts_validate_their_settings():
    with pytest.raises(UsageError, match="N=0 must be >= 1"):
        BestOfN(One(), N=0, reward=reward, threshold=1)
    with pytest.raises(UsageError, match=r"module=.* is not a refine program; pass a refine\.Predict"):
        Refine(lambda q: q, N=2, reward=reward, threshold=1)  # type: ignore[arg-type]


def test_a_scored_suggestion_in_forward_goes_on_with_the_best_attempt():
    class Tiny(Module):
        def __init__(self) -> None:
            self.answer = Predict("question -> answer")

        def forward(self, question: str) -> Prediction:
            a = self.answer(question=question)
            return check(a, Suggest(len(a.answer) < 3, "Be tiny.", score=lambda p: -abs(len(p.answer) - 10)))

    lm = plain(["medium one", "the longest one", "tiny?"])
    result = Tiny()(question="q", lm=lm)
    assert result.answer == "medium one" and len(lm.requests) == 3
    assert [v.message for v in result.failures] == ["Be tiny."] and len(result.attempts) == 3


def test_a_module_lists_its_predictors_by_path():
    class Outer(Module):
        def __init__(self) -> None:
            self.inner = Hops()
            self.extra = [Predict("q -> a")]

    names = [name for name, _ in Outer().named_predictors()]
    assert names == ["inner.query", "inner.answer", "extra[0]"]
