"""Optimizers with the scripted LM: what is kept and why, repair demos, zero means none, seeds, trimming."""

from __future__ import annotations

import threading

import pytest

from corpora import Passage
from refine import Assert, Demo, Example, Module, Predict, ScriptedLM, Suggest, UsageError, check, checks, metrics
from refine.history import RepairDemo
from refine.optimizers import (
    BootstrapFewShot,
    DemoTrimWarning,
    LabeledFewShot,
    RandomSearch,
)
from refine.program._predict import feedback_turns
from refine.signatures import demo_messages, render_messages


def examples(n: int) -> list[Example]:
    return [Example(question=f"q{i}?", answers=[f"a{i}"], id=f"t{i}").with_inputs("question") for i in range(n)]


def short() -> Predict:
    return Predict("question -> answer", assertions=[Suggest(checks.max_words("answer", 2))])


def test_bootstrap_keeps_only_traces_that_kept_every_constraint_and_passed_the_metric():
    lm = ScriptedLM(["a0", "a1 is far too long", "a1 is far too long", "a1 too long", "wrong", "a3"], supports=())
    optimizer = BootstrapFewShot(metrics.em, threshold=1.0, max_labeled_demos=0, progress=False)
    program = short()
    compiled = optimizer.optimize(program, examples(4), lm=lm)
    reasons = [o.reason for o in compiled.report.outcomes]
    assert reasons[0] == "kept"
    assert reasons[1].startswith("a suggestion still fails: max_words: Shorten the answer")
    assert reasons[2] == "metric em=0 does not reach threshold=1"
    assert [o.kept for o in compiled.report.outcomes] == [True, False, False, True]
    assert compiled.program.demos == (
        Demo({"question": "q0?", "answer": "a0"}),
        Demo({"question": "q3?", "answer": "a3"}),
    )
    assert program.demos == ()  # the input program is untouched
    assert compiled.report.usage.calls == 6


def test_a_hard_assertion_that_gives_up_is_reported_by_name():
    lm = ScriptedLM(["", "", ""], supports=())
    program = Predict("question -> answer", assertions=[Assert(checks.non_empty("answer"))])
    report = BootstrapFewShot(metrics.em, threshold=1.0, progress=False).optimize(program, examples(1), lm=lm).report
    assert not report.outcomes[0].kept
    assert report.outcomes[0].reason.startswith("the teacher raised ")
    assert report.outcomes[0].attempts == 3


def test_a_retried_trace_is_a_demo_of_its_final_attempt_or_a_repair_demo():
    replies = ["a0 is far too long", "a0"]
    plain = BootstrapFewShot(metrics.em, threshold=1.0, max_labeled_demos=0, progress=False)
    compiled = plain.compile(short(), examples(1), lm=ScriptedLM(replies, supports=()))
    assert compiled.demos == (Demo({"question": "q0?", "answer": "a0"}),)
    repaired = BootstrapFewShot(metrics.em, threshold=1.0, max_labeled_demos=0, repair_demos=1, progress=False)
    result = repaired.optimize(short(), examples(1), lm=ScriptedLM(replies, supports=()))
    (demo,) = result.program.demos
    assert isinstance(demo, RepairDemo)
    assert (demo.reply, demo.feedback) == ("a0 is far too long", "Shorten the answer to at most 2 words (it has 5).")
    assert dict(demo.values) == {"question": "q0?", "answer": "a0"}
    assert result.report.repairs == {"self": 1} and result.report.outcomes[0].repaired == ("self",)


def test_repair_demos_render_the_way_a_retry_prompt_is():
    signature = short().signature
    demo = RepairDemo({"question": "q?", "answer": "a"}, "a b c", "Use at most 2 words.")
    user, failed, feedback, fixed = demo_messages(signature, demo)
    assert (user.role, user.content) == ("user", "Question: q?")
    assert (failed.role, failed.content, failed.generated) == ("assistant", "a b c", False)
    assert feedback == feedback_turns("a b c", "Use at most 2 words.")[1]
    assert (fixed.role, fixed.content) == ("assistant", "a")
    messages = render_messages(signature, {"question": "x?"}, [demo, Demo({"question": "y?", "answer": "b"})])
    assert [m.role for m in messages] == [
        "system",
        "user",
        "assistant",
        "user",
        "assistant",
        "user",
        "assistant",
        "user",
    ]
    # A repair demo written in another reply format shows as a plain demo.
    assert len(demo_messages(signature, demo, "json")) == 2


def test_zero_means_none():
    lm = ScriptedLM([])  # no call may be made
    optimizer = BootstrapFewShot(
        metrics.em, threshold=1.0, max_bootstrapped_demos=0, max_labeled_demos=0, progress=False
    )
    compiled = optimizer.optimize(short(), examples(3), lm=lm)
    assert compiled.program.demos == () and lm.requests == []
    assert {o.reason for o in compiled.report.outcomes} == {"not run: max_bootstrapped_demos=0"}
    assert LabeledFewShot(0).compile(short(), examples(3)).demos == ()


def test_a_float_metric_needs_an_explicit_threshold():
    optimizer = BootstrapFewShot(metrics.f1, progress=False)
    with pytest.raises(UsageError, match=r"metric f1 returned 1.0 for example 't0'.*pass threshold=\.\.\."):
        optimizer.compile(short(), examples(1), lm=ScriptedLM(["a0"]))
    boolean = BootstrapFewShot(lambda example, prediction: prediction.answer == "a0", progress=False)
    assert len(boolean.compile(short(), examples(1), lm=ScriptedLM(["a0"])).demos) == 1


def test_options_are_checked_with_value_and_fix():
    with pytest.raises(UsageError, match=r"max_bootstrapped_demos=-1 must be >= 0"):
        BootstrapFewShot(metrics.em, max_bootstrapped_demos=-1)
    with pytest.raises(UsageError, match=r"metric='em' is not callable"):
        BootstrapFewShot("em")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match=r"trainset: examples\[0\] has no id"):
        LabeledFewShot(1).compile(short(), [Example(question="q", answers=["a"]).with_inputs("question")])


def test_labeled_few_shot_is_deterministic_for_a_seed_and_reports_why_not():
    train = [*examples(6), Example(question="q?", id="no-answer").with_inputs("question")]
    first = LabeledFewShot(2).optimize(short(), train, seed=3)
    again = LabeledFewShot(2).optimize(short(), train, seed=3)
    assert first.program.demos == again.program.demos and len(first.program.demos) == 2
    assert sum(o.kept for o in first.report.outcomes) == 2
    assert first.report.outcomes[-1].reason == "it lacks 'answer', which predictor 'self' needs"


class TwoStep(Module):
    def __init__(self) -> None:
        self.search = Predict("question -> query")
        self.answer = Predict("query -> answer")

    def forward(self, question: str):
        query = self.search(question=question)
        check(query, Suggest(len(query.query.split()) <= 2, "Use at most 2 words."))
        return self.answer(query=query.query)


def test_a_module_gets_demos_for_each_predictor_from_the_final_pass():
    lm = ScriptedLM(["the long query here", "short q", "a0"], supports=())
    optimizer = BootstrapFewShot(metrics.em, threshold=1.0, max_labeled_demos=0, repair_demos=1, progress=False)
    program = TwoStep()
    compiled = optimizer.compile(program, examples(1), lm=lm)
    (search,) = compiled.search.demos
    assert isinstance(search, RepairDemo) and search.feedback == "Use at most 2 words."
    assert compiled.answer.demos == (Demo({"query": "short q", "answer": "a0"}),)
    assert program.search.demos == () and program.answer.demos == ()


def test_bootstrap_is_the_same_from_many_threads():
    def reply(request):
        return "a" + request.messages[-1].content.removeprefix("Question: q").rstrip("?")

    optimizer = BootstrapFewShot(metrics.em, threshold=1.0, max_labeled_demos=0, progress=False)
    results: list[tuple[Demo, ...]] = []

    def run() -> None:
        results.append(optimizer.compile(short(), examples(6), lm=ScriptedLM([reply] * 6)).demos)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4 and all(r == results[0] for r in results) and len(results[0]) == 4


def test_demos_are_trimmed_to_fit_the_context_window_with_a_warning():
    passages = [Passage.create("P", "word " * 300)]
    demos = [Demo({"passages": passages, "question": f"q{i}", "answer": "a [1]."}) for i in range(6)]
    program = Predict("passages: list[Passage], question -> answer", max_tokens=64, max_backtracks=0)
    train = [
        Example(passages=d.values["passages"], question=d.values["question"], answer="a [1].", id=f"p{i}").with_inputs(
            "passages", "question"
        )
        for i, d in enumerate(demos)
    ]
    with pytest.warns(DemoTrimWarning, match=r"predictor 'self': kept 2 of 6 demos .* context window of 1200 tokens"):
        compiled = LabeledFewShot(6, context_window=1200).optimize(program, train)
    assert len(compiled.program.demos) == 2 and compiled.report.trimmed == {"self": 4}


def test_the_window_and_tokenizer_are_the_backends_own_even_behind_a_cache(tmp_path):
    from refine import CachedLM
    from refine.program._window import context_window, token_counter

    class Small(ScriptedLM):
        n_ctx = 1200

        def count_tokens(self, text: str) -> int:
            return len(text)  # one token per character: far more than tiktoken counts

    lm = CachedLM(Small([]), tmp_path / "cache.db")
    assert context_window(lm, None) == 1200 and context_window(lm, 99) == 99
    assert token_counter(lm)("abcd") == 4
    assert context_window(ScriptedLM([]), None) == 8192
    lm.close()


class Windowed(ScriptedLM):
    """A scripted backend that tells its window and counts a token per word."""

    def __init__(self, replies, n_ctx: int) -> None:
        super().__init__(replies)
        self.n_ctx = n_ctx

    def count_tokens(self, text: str) -> int:
        return len(text.split())


def test_a_call_drops_the_demos_that_do_not_fit_the_backends_window_never_overflowing():
    demos = [Demo({"question": f"q{i} " + "word " * 100, "answer": "a"}) for i in range(5)]
    program = Predict("question -> answer", max_tokens=16, max_backtracks=0).with_demos(demos)
    roomy = Windowed(["Answer: a"], n_ctx=4096)
    program(question="q?", lm=roomy)  # everything fits: no warning (warnings are errors here)
    assert sum("word word" in m.content for m in roomy.requests[0].messages) == 5
    tight = Windowed(["Answer: a"], n_ctx=400)
    trimmed = r"kept 2 of 5 demos \(\d+ tokens\) so that its prompt fits .* of 400 tokens"
    with pytest.warns(DemoTrimWarning, match=trimmed):
        program(question="q?", lm=tight)
    assert sum("word word" in m.content for m in tight.requests[0].messages) == 2
    untold = ScriptedLM(["Answer: a"])  # a backend that says no window is sent every demo
    program(question="q?", lm=untold)
    assert sum("word word" in m.content for m in untold.requests[0].messages) == 5


def test_random_search_scores_every_candidate_and_keeps_the_best():
    def reply(request):
        return "a" + request.messages[-1].content.removeprefix("Question: q").rstrip("?")

    search = RandomSearch(metrics.em, num_candidates=4, threshold=1.0, max_bootstrapped_demos=2, progress=False)
    lm = ScriptedLM([reply] * 100)
    result = search.optimize(short(), examples(4), valset=examples(6)[4:], lm=lm, seed=1)
    kinds = [c.kind for c in result.report.candidates]
    assert kinds[:3] == ["zero-shot", "labelled", "bootstrapped"] and kinds[3].startswith("bootstrapped, shuffled")
    assert all(c.score == 1.0 for c in result.report.candidates)
    assert result.report.best == 0  # the earliest on ties
    # The teacher ran at most once per training example, however many candidates reused its traces.
    asked = [r.messages[-1].content for r in lm.requests]
    train = [q for q in asked if q in {f"Question: q{i}?" for i in range(4)}]
    assert len(train) == len(set(train)) and len(asked) - len(train) == 4 * 2
