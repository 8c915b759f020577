"""refine's own programs, property-tested with refine.testing (the toolkit dogfooded).

CitedRAG, the assertion engine and backtracking, the reply parser, the citation verifier, and
save/load of programs.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import citations
from refine import (
    Assert,
    Citations,
    CitedRAG,
    Demo,
    Module,
    ParseError,
    Predict,
    Prediction,
    ScriptedLM,
    Signature,
    Suggest,
    check,
    checks,
)
from refine.signatures import parse_reply
from refine.testing import (
    check_invariants,
    cites_only_retrieved,
    corpora,
    inputs_for,
    outcome_of,
    questions,
    replies_for,
    scripted_lms,
    usage_adds_up,
)

PROGRAM = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RAG = CitedRAG(max_backtracks=1)


@PROGRAM
@given(questions(adversarial=True), corpora(adversarial=True), scripted_lms(RAG, kind="any"))
def test_cited_rag_returns_or_raises_typed_errors_on_any_reply(question, passages, lm):
    outcome = outcome_of(RAG, {"question": question, "passages": passages}, lm=lm)
    check_invariants(RAG, outcome, lm=lm)
    if isinstance(outcome, Prediction) and outcome.ok:
        cites_only_retrieved(outcome)


@PROGRAM
@given(questions(), corpora(adversarial=True), scripted_lms(RAG, constrained=True))
def test_cited_rag_on_a_grammar_backend_only_cites_retrieved_passages(question, passages, lm):
    outcome = outcome_of(RAG, {"question": question, "passages": passages}, lm=lm)
    check_invariants(RAG, outcome, lm=lm)
    cites_only_retrieved(outcome)
    assert isinstance(outcome, Prediction) and outcome.ok and len(lm.requests) == 1


class TwoHop(Module):
    def __init__(self, budget: int) -> None:
        self.search = Predict("question -> query", max_backtracks=budget)
        self.answer = Predict(
            "query -> answer, confidence: float", max_backtracks=budget, assertions=[Assert(checks.non_empty("answer"))]
        )

    def forward(self, question: str) -> Prediction:
        query = self.search(question=question)
        check(query, Suggest(len(query.query) <= 40, "Use at most 40 characters."))
        answer = self.answer(query=query.query)
        return check(answer, Assert(answer.answer[:1].isupper(), "Start with a capital letter."))


@PROGRAM
@given(questions(adversarial=True), st.integers(0, 2), st.data())
def test_backtracking_keeps_every_invariant(question, budget, data):
    program = TwoHop(budget)
    lm = data.draw(scripted_lms(program, kind="any"))
    outcome = outcome_of(program, {"question": question}, lm=lm)
    check_invariants(program, outcome, lm=lm)
    if isinstance(outcome, Prediction):
        assert outcome.answer[:1].isupper()


def test_a_parse_error_in_a_module_carries_the_whole_run():
    # Found by the property above: the error held only the failing call's attempts.
    lm = ScriptedLM(["0", ""], supports=())
    outcome = outcome_of(TwoHop(0), {"question": "A?"}, lm=lm)
    assert isinstance(outcome, ParseError)
    usage_adds_up(outcome, lm=lm)


@PROGRAM
@given(st.data())
def test_a_predictor_with_assertions_keeps_every_invariant(data):
    predict = Predict(
        "question -> answer",
        max_backtracks=data.draw(st.integers(0, 3)),
        assertions=[Assert(checks.max_words("answer", 3))],
    )
    lm = data.draw(scripted_lms(predict, kind="any"))
    outcome = outcome_of(predict, data.draw(inputs_for(predict.signature, adversarial=True)), lm=lm)
    check_invariants(predict, outcome, lm=lm)


SIGNATURES = [
    Signature("question -> answer, confidence: float"),
    Signature("passages: list[Passage], question -> answer, verdict: bool").with_field("answer", citations=Citations()),
    Signature("question -> items: list[str], n: int"),
]


@pytest.mark.parametrize("signature", SIGNATURES, ids=str)
def test_the_parser_returns_every_field_or_a_parse_error(signature):
    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.data())
    def check_parser(data):
        inputs = data.draw(inputs_for(signature, adversarial=True))
        reply = data.draw(replies_for(signature, inputs, kind="any"))
        try:
            values = parse_reply(signature, reply)
        except ParseError as exc:
            assert exc.text == reply
        else:
            assert set(values) == {f.name for f in signature.outputs}

    check_parser()


@settings(max_examples=200, deadline=None)
@given(corpora(adversarial=True), st.lists(st.integers(-2, 12), max_size=6))
def test_the_verifier_accepts_exactly_the_markers_in_range(passages, numbers):
    answer = " ".join(f"Claim number {i} holds [{n}]." for i, n in enumerate(numbers))
    report = citations.check(answer, passages)
    in_range = {passages[n - 1].id for n in numbers if 1 <= n <= len(passages)}
    assert {p.id for p in report.cited_passages} == in_range
    assert sorted(item.marker.ref for item in report.invalid) == sorted(
        n for n in numbers if n >= 0 and not 1 <= n <= len(passages)
    )


SAVED = (RAG.predict.signature, "question -> answer", "question, context -> answer, notes: list[str], score: int")


@PROGRAM
@given(st.sampled_from(SAVED), st.data())
def test_a_program_saved_with_demos_it_made_loads_the_same(signature, data):
    """Demos made of drawn inputs and the outputs a valid reply parses to survive save and load."""
    predict = Predict(signature)
    demos = []
    for _ in range(data.draw(st.integers(0, 3), label="demos")):
        inputs = data.draw(inputs_for(signature, adversarial=True), label="inputs")
        reply = data.draw(replies_for(signature, inputs, kind="valid"), label="reply")
        outcome = outcome_of(predict, inputs, lm=ScriptedLM([reply]))
        if isinstance(outcome, Prediction):
            demos.append(Demo({**inputs, **outcome.outputs}))
    taught = predict.with_demos(demos)
    with tempfile.TemporaryDirectory() as folder:
        path = taught.save(Path(folder) / "program.json")
        loaded = Predict.load(path)
        again = predict.load(path)
    assert loaded.demos == again.demos == taught.demos
    assert loaded.signature == taught.signature
