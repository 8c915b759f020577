"""Retrieval-augmented programs whose answers cite their sources.

:class:`CitedRAG` retrieves, answers with ``[n]`` markers and checks every citation;
:class:`SpanRAG` lets the model choose a short answer among verbatim spans of the passages
(:func:`answer_candidates`); :func:`lm_judge` makes any backend a citation-support judge.
"""

from refine.rag._cited import CitedAnswer, CitedQA, CitedRAG, ExtractiveQA, SearchFunction, SpanQA, SpanRAG
from refine.rag._judge import lm_judge
from refine.rag._spans import AnswerCandidate, answer_candidates, question_kind

__all__ = [
    "AnswerCandidate",
    "CitedAnswer",
    "CitedQA",
    "CitedRAG",
    "ExtractiveQA",
    "SearchFunction",
    "SpanQA",
    "SpanRAG",
    "answer_candidates",
    "lm_judge",
    "question_kind",
]
