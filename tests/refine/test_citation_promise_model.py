"""Quotes of passages that hold markers, decoded by the real embedded model (issue 11, item 8)."""

from __future__ import annotations

import pytest

from citations._markers import marker_spans
from corpora import Passage
from refine import InputField, OutputField, Predict, Signature

pytestmark = pytest.mark.model

PASSAGES = [
    Passage.create("Rules", "Each claim must cite [7]. Notes [1][2] and the table \u30101\u3011 agree."),
    Passage.create("Ranges", "Sources [1-3] agree that the id [p1] names the first passage."),
]


class Quoted(Signature, instructions="Quote the passage that answers the question, then cite it."):
    passages: list[Passage] = InputField()
    question: str = InputField()
    answer: str = OutputField(extractive=True)


@pytest.mark.parametrize("question", ["What must each claim cite?", "What do sources [1-3] agree on?"])
def test_a_quote_of_a_passage_with_markers_validates_on_the_first_attempt(embedded_lm, question: str) -> None:
    prediction = Predict(Quoted, lm=embedded_lm, max_backtracks=0, strict=False, max_tokens=48)(
        passages=PASSAGES, question=question
    )
    assert prediction.ok, (prediction.answer, prediction.violations)
    # The only marker is the citation at the end: the quote holds none of the passage's own.
    assert [end for _, end in marker_spans(prediction.answer)] == [len(prediction.answer)]
