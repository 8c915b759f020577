"""Property tests of the assertion loop (hypothesis): for any scripted replies,

- a hard assertion either passes or raises after exactly ``max_backtracks + 1`` attempts;
- a soft one never raises;
- the attempt history is complete;
- the prompt of attempt n+1 starts with the full prompt of attempt n.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from refine import Assert, AssertionFailed, Module, ParseError, Predict, Prediction, ScriptedLM, Suggest, check

REPLIES = st.lists(st.text(st.sampled_from("ab \n:"), max_size=6), min_size=4, max_size=4)
BUDGETS = st.integers(min_value=0, max_value=3)


def wants_a(p: Prediction) -> bool:
    return p.answer.startswith("a")


def assert_history(lm: ScriptedLM, attempts) -> None:
    assert [a.request for a in attempts] == lm.requests  # every call, in order, nothing else
    for before, after in zip(lm.requests, lm.requests[1:], strict=False):
        assert after.messages[: len(before.messages)] == before.messages
        assert after.seed != before.seed
    for attempt in attempts[:-1]:
        assert attempt.failures  # every retry has a reason


@settings(max_examples=150, deadline=None)
@given(REPLIES, BUDGETS)
def test_a_hard_assertion_passes_or_raises_after_exactly_all_attempts(texts, budget):
    lm = ScriptedLM(texts, supports=())
    predict = Predict("question -> answer", lm=lm, max_backtracks=budget, assertions=[Assert(wants_a, "Start with a.")])
    try:
        prediction = predict(question="q")
    except (AssertionFailed, ParseError) as exc:
        assert len(exc.attempts) == budget + 1 == len(lm.requests)
        assert_history(lm, exc.attempts)
    else:
        assert wants_a(prediction)
        assert len(prediction.attempts) <= budget + 1
        assert_history(lm, prediction.attempts)


@settings(max_examples=150, deadline=None)
@given(REPLIES.map(lambda ts: [t + "x" for t in ts]), BUDGETS)  # non-empty: always parses
def test_a_soft_assertion_never_raises(texts, budget):
    lm = ScriptedLM(texts, supports=())
    predict = Predict(
        "question -> answer", lm=lm, max_backtracks=budget, assertions=[Suggest(wants_a, "Start with a.")]
    )
    prediction = predict(question="q")
    assert_history(lm, prediction.attempts)
    if prediction.failures:
        assert len(prediction.attempts) == budget + 1
        assert prediction.answer == prediction.attempts[-1].outputs["answer"]
    else:
        assert wants_a(prediction)


class Pipeline(Module):
    def __init__(self, budget: int, hard: bool) -> None:
        self.first = Predict("question -> query", max_backtracks=budget)
        self.second = Predict("query -> answer", max_backtracks=budget)
        self.rule = Assert if hard else Suggest

    def forward(self, question: str) -> Prediction:
        query = self.first(question=question)
        check(query, self.rule(query.query.startswith("a"), "Start the query with a."))
        answer = self.second(query=query.query)
        return check(answer, self.rule(wants_a(answer), "Start the answer with a."))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.from_regex(r"[ab][ab ]{0,3}", fullmatch=True), min_size=8, max_size=8), BUDGETS, st.booleans())
def test_a_module_run_keeps_every_attempt_and_every_prefix(texts, budget, hard):
    lm = ScriptedLM(texts, supports=())
    try:
        result = Pipeline(budget, hard)(question="q", lm=lm)
    except AssertionFailed as exc:
        assert hard
        attempts, trace = exc.attempts, exc.trace
        assert len(trace[-1].attempts) == budget + 1  # the call that gave up used its whole budget
    else:
        attempts, trace = result.attempts, result.trace
        if hard:
            assert wants_a(result) and not result.failures
            assert trace[0].outputs is not None and trace[0].outputs["query"].startswith("a")
    assert sorted((a.request for a in attempts), key=lm.requests.index) == lm.requests
    assert sum(len(step.attempts) for step in trace) == len(lm.requests)
    for step in trace:
        assert len(step.attempts) <= budget + 1
        for before, after in zip(step.attempts, step.attempts[1:], strict=False):
            assert after.request.messages[: len(before.request.messages)] == before.request.messages
