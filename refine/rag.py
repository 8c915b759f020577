"""CitedRAG: retrieve, answer with ``[n]`` markers, check every citation, retry with feedback."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import citations
from corpora import Passage
from refine._context import resolve_lm
from refine._options import check_int
from refine.assertions import Rule
from refine.errors import ParseError, UsageError
from refine.history import Attempt, History, Violation
from refine.lm import LM
from refine.predict import Predict
from refine.retrieval import Hit
from refine.signatures import Citations, InputField, OutputField, Signature

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
    answer: str = OutputField(
        description="sentences that each end with a citation like [1]", citations=Citations(per="sentence")
    )


@dataclass(frozen=True, slots=True)
class CitedAnswer(History):
    """An answer, the passages it was given, the check of its citations, and how it was reached."""

    question: str
    answer: str
    hits: tuple[Hit, ...]
    report: citations.CitationReport
    attempts: tuple[Attempt, ...]
    failures: tuple[Violation, ...] = ()

    @property
    def violations(self) -> tuple[Violation, ...]:
        """The checks the answer still fails (suggestions, or declared rules unless ``strict``)."""
        return self.failures

    @property
    def passages(self) -> tuple[Passage, ...]:
        return tuple(hit.passage for hit in self.hits)

    @property
    def cited(self) -> tuple[tuple[int, Passage], ...]:
        """``(n, passage)`` for each passage the answer cites validly, ``n`` being its marker number."""
        numbers = {p.id: n for n, p in enumerate(self.passages, 1)}
        return tuple((numbers[p.id], p) for p in self.report.cited_passages)

    @property
    def ok(self) -> bool:
        """At least one citation, and every citation names a retrieved passage."""
        return self.report.valid


class CitedRAG:
    """Retrieve ``k`` passages and answer with citations that the signature requires.

    The citation rule is declared on :class:`CitedQA`'s ``answer`` field, so :class:`Predict`
    enforces it: on a grammar backend every sentence is decoded to end with a marker
    ``[1]``..``[k]`` (an invalid citation cannot be produced); elsewhere the citations are checked
    after decoding and turned into feedback for up to ``max_backtracks`` retries, along with
    any ``assertions`` (see :mod:`refine.checks`).

    With ``strict=True`` an answer whose citations still fail when the retries run out raises
    :class:`~refine.AssertionFailed`; by default (``strict=False``) it is returned with
    ``answer.ok`` false and the failures in ``answer.violations``, so that a caller can show an
    answer together with what is wrong with it.

    ``k`` defaults to 3: the embedded 135M model is measurably more distracted by five.
    """

    def __init__(
        self,
        retriever: Retriever,
        *,
        k: int = 3,
        lm: LM | None = None,
        signature: Signature | type[Signature] = CitedQA,
        assertions: Sequence[Rule] = (),
        max_backtracks: int = 2,
        strict: bool = False,
        max_tokens: int = 512,
        constrained: bool = True,
    ) -> None:
        if not callable(getattr(retriever, "search", None)):
            raise UsageError(
                f"retriever={retriever!r} has no search(query, k) method; pass a BM25Retriever or another Retriever"
            )
        k = check_int("k", k, minimum=1)
        self.retriever = retriever
        self.k = k
        self.lm = lm
        self.predict = Predict(
            signature,
            assertions=assertions,
            max_backtracks=max_backtracks,
            strict=strict,
            max_tokens=max_tokens,
            constrained=constrained,
        )
        names = {f.name for f in self.predict.signature.inputs}
        if names != {"passages", "question"} or "answer" not in {f.name for f in self.predict.signature.outputs}:
            raise UsageError(
                f"CitedRAG needs a signature with inputs passages, question and an output answer; "
                f"got {self.predict.signature}"
            )

    def __call__(self, question: str, *, lm: LM | None = None) -> CitedAnswer:
        if not isinstance(question, str) or not question.strip():
            raise UsageError(f"question={question!r} is empty; ask a question in words")
        backend = resolve_lm(lm or self.lm)
        hits = self.retriever.search(question, k=self.k)
        if not hits:
            shown = repr(question) if len(question) <= 80 else f"{question[:80]!r}... ({len(question)} characters)"
            raise UsageError(f"no passage matches question={shown}; rephrase it with words the corpus uses")
        passages = [hit.passage for hit in hits]
        try:
            prediction = self.predict(lm=backend, passages=passages, question=question)
        except ParseError as exc:
            # Only an empty reply fails to parse here; report it as an uncited answer.
            attempts = tuple(exc.attempts)
            answer = exc.text.strip()
            failures = attempts[-1].failures if attempts else ()
        else:
            attempts = prediction.attempts
            answer = prediction.answer
            failures = prediction.failures
        return CitedAnswer(question, answer, tuple(hits), citations.check(answer, passages), attempts, failures)
