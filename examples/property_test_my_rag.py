"""Property-testing your own RAG pipeline with refine.testing.

    pytest examples/property_test_my_rag.py

Two pipelines answer from the passages they are given and cite them. ``MyRAG`` returns the
answer as the model wrote it. ``HouseStyleRAG`` renumbers the citations afterwards, because its
page shows the question as item [1] and the passages from [2] on. The property says, for any
question, any passages (hostile ones included) and any reply a grammar backend could produce:
the pipeline returns an answer whose citations all name a passage it was given, or raises a typed
refine error, and every run invariant holds. hypothesis finds the reply that breaks
``HouseStyleRAG`` (a citation of the last passage, renumbered past the end) and shrinks it; the
report shows the drawn inputs, each LM call's reply, and the attempt history.
"""

from __future__ import annotations

import re

from hypothesis import given, settings

from refine import CitedQA, Module, Predict, Prediction
from refine.testing import check_invariants, cites_only_retrieved, corpora, outcome_of, questions, scripted_lms


class MyRAG(Module):
    def __init__(self) -> None:
        self.answer = Predict(CitedQA, max_backtracks=1)

    def forward(self, question: str, passages: list) -> Prediction:
        return self.answer(question=question, passages=passages)


class HouseStyleRAG(MyRAG):
    def forward(self, question: str, passages: list) -> Prediction | dict:
        answer = super().forward(question, passages).answer
        return {"answer": re.sub(r"\[(\d+)\]", lambda m: f"[{int(m.group(1)) + 1}]", answer)}


def check_pipeline(program: Module, question: str, passages: list, lm) -> None:
    outcome = outcome_of(program, {"question": question, "passages": passages}, lm=lm)
    check_invariants(program, outcome, lm=lm)
    cites_only_retrieved(outcome, passages=passages)


@settings(max_examples=50, deadline=None)
@given(questions(), corpora(adversarial=True), scripted_lms(CitedQA, constrained=True))
def test_my_rag_cites_only_the_passages_it_was_given(question, passages, lm):
    check_pipeline(MyRAG(), question, passages, lm)


@settings(max_examples=50, deadline=None)
@given(questions(), corpora(adversarial=True), scripted_lms(CitedQA, constrained=True))
def test_house_style_rag_cites_only_the_passages_it_was_given(question, passages, lm):
    check_pipeline(HouseStyleRAG(), question, passages, lm)  # hypothesis breaks this one
