"""CitedRAG: retrieve, answer with ``[n]`` markers, check every citation, retry with feedback."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import citations
from corpora import Passage
from refine._context import resolve_lm
from refine.constraints import Regex, cited_text_pattern
from refine.errors import UsageError
from refine.lm import LM
from refine.predict import Attempt, Predict, Usage, retry_request
from refine.retrieval import Hit
from refine.signatures import InputField, OutputField, Signature

__all__ = ["CitedAnswer", "CitedQA", "CitedRAG", "Retriever"]

logger = logging.getLogger(__name__)


class Retriever(Protocol):
    def search(self, query: str, k: int = 5) -> tuple[Hit, ...]: ...


class CitedQA(
    Signature,
    instructions=(
        "Answer the question in one to three short sentences, using only the numbered passages. "
        "End every sentence with the number of the passage that supports it, like [1] or [2]."
    ),
):
    # Passages before the question: small models answer better when the question comes last.
    passages: list[Passage] = InputField(description="numbered sources to cite")
    question: str = InputField()
    answer: str = OutputField(description="sentences that each end with a citation like [1]")


@dataclass(frozen=True, slots=True)
class CitedAnswer:
    """An answer, the passages it was given, the check of its citations, and how it was reached."""

    question: str
    answer: str
    hits: tuple[Hit, ...]
    report: citations.CitationReport
    attempts: tuple[Attempt, ...]

    @property
    def passages(self) -> tuple[Passage, ...]:
        return tuple(hit.passage for hit in self.hits)

    @property
    def cited(self) -> tuple[tuple[int, Passage], ...]:
        """``(n, passage)`` for each passage the answer cites validly, ``n`` being its marker number."""
        numbers = {p.id: n for n, p in enumerate(self.passages, 1)}
        return tuple((numbers[p.id], p) for p in self.report.cited_passages)

    @property
    def usage(self) -> Usage:
        return Usage.of(a.response for a in self.attempts)

    @property
    def ok(self) -> bool:
        """At least one citation, and every citation names a retrieved passage."""
        return self.report.valid


class CitedRAG:
    """Retrieve ``k`` passages, answer with citations, and retry with feedback when none is valid.

    ``k`` defaults to 3: the embedded 135M model is measurably more distracted by five.

    When the LM enforces regular expressions, the answer is decoded under a grammar in which every
    sentence ends with a marker ``[1]``..``[k]``: an invalid citation cannot be produced. Otherwise
    the citations are checked after decoding and turned into feedback for the retry.
    """

    def __init__(
        self,
        retriever: Retriever,
        *,
        k: int = 3,
        lm: LM | None = None,
        max_retries: int = 1,
        max_tokens: int = 200,
        constrained: bool = True,
    ) -> None:
        if k < 1:
            raise UsageError(f"k={k} must be >= 1")
        if max_retries < 0:
            raise UsageError(f"max_retries={max_retries} must be >= 0")
        self.retriever = retriever
        self.k = k
        self.lm = lm
        self.max_retries = max_retries
        self.max_tokens = max_tokens
        self.constrained = constrained
        self.predict = Predict(CitedQA, max_tokens=max_tokens, max_retries=0)

    def _check(self, attempt: Attempt, passages: Sequence[Passage]) -> tuple[Attempt, citations.CitationReport | None]:
        if attempt.outputs is None:
            return attempt, None
        report = citations.check(attempt.outputs["answer"], passages)
        if report.cited_passages:
            return attempt, report
        feedback = report.feedback() or (
            f"Your answer cites no passage. End each sentence with a citation [n], n from 1 to {len(passages)}."
        )
        return Attempt(attempt.request, attempt.response, attempt.outputs, ("no valid citation",), feedback), report

    def __call__(self, question: str, *, lm: LM | None = None) -> CitedAnswer:
        if not isinstance(question, str) or not question.strip():
            raise UsageError(f"question={question!r} is empty; ask a question in words")
        backend = resolve_lm(lm or self.lm)
        hits = self.retriever.search(question, k=self.k)
        if not hits:
            raise UsageError(f"no passage matches question={question!r}; rephrase it with words the corpus uses")
        passages = [hit.passage for hit in hits]
        request = self.predict.request({"question": question, "passages": passages})
        constraint = Regex(cited_text_pattern(len(passages)))
        if self.constrained and backend.supports(constraint):
            request = request.with_constraint(constraint)
        attempts: list[Attempt] = []
        report: citations.CitationReport | None = None
        for number in range(self.max_retries + 1):
            attempt, report = self._check(self.predict.attempt(backend, request), passages)
            attempts.append(attempt)
            if attempt.ok:
                break
            logger.info("attempt %d rejected: %s", number + 1, "; ".join(attempt.failures))
            if number < self.max_retries:
                request = retry_request(request, attempt, number + 1)
        last = attempts[-1]
        answer = last.outputs["answer"] if last.outputs is not None else last.response.text.strip()
        if report is None:
            report = citations.check(answer, passages)
        return CitedAnswer(question, answer, tuple(hits), report, tuple(attempts))
