"""CitedRAG: retrieve, answer with ``[n]`` markers, check every citation, retry with feedback."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

import citations
from corpora import Passage
from refine._options import check_int
from refine.checks import chosen_from
from refine.checks import max_words as max_words_check
from refine.errors import ParseError, UsageError
from refine.history import Prediction
from refine.lm import LM
from refine.program import Assert, Module, Predict, Rule
from refine.rag._spans import answer_candidates
from refine.retrieval import Hit
from refine.signatures import Citations, InputField, OutputField, Signature, as_passages

__all__ = ["CitedAnswer", "CitedQA", "CitedRAG", "ExtractiveQA", "Retriever", "SearchFunction", "SpanQA", "SpanRAG"]

logger = logging.getLogger(__name__)


class Retriever(Protocol):
    def search(self, query: str, k: int = 5) -> tuple[Hit, ...]: ...


# Any retrieval of one's own: ``search(query, k)`` returning passages or hits.
SearchFunction = Callable[[str, int], Sequence[Passage] | Sequence[Hit]]


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


class ExtractiveQA(
    Signature,
    instructions=(
        "Answer the question with a short quote copied word for word from one of the numbered passages, "
        "then the number of that passage, like [1]."
    ),
):
    """Answers that are only what a passage says: a verbatim quote of one passage, then its marker.

    On a grammar backend the quote is decoded as a substring of the passage its marker names.
    """

    passages: list[Passage] = InputField(description="numbered sources to quote")
    question: str = InputField()
    answer: str = OutputField(description="a verbatim quote of one passage, then its number", extractive=True)


class SpanQA(
    Signature,
    instructions=(
        "Answer the question with the candidate answer that the numbered passages support, "
        "copied exactly as it is written, with its passage number."
    ),
):
    """Short answers chosen among candidate spans of the passages, each with its marker."""

    passages: list[Passage] = InputField(description="numbered sources")
    question: str = InputField()
    candidates: list[str] = InputField(description="short answers taken from the passages, with their passage number")
    answer: str = OutputField(description="one of the candidates, exactly as written")


@dataclass(frozen=True, slots=True, repr=False)
class CitedAnswer(Prediction):
    """A :class:`~refine.Prediction` of an ``answer``, with the passages it was given and the check
    of its citations: ``report`` (a :class:`citations.CitationReport`), ``cited``, ``valid``.

    ``hits`` are the retrieval results the passages came from (empty when the caller gave the
    passages); ``plain`` is the answer without its markers.
    """

    passages: tuple[Passage, ...] = ()
    hits: tuple[Hit, ...] = ()
    _report: citations.CitationReport | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        Prediction.__post_init__(self)
        object.__setattr__(self, "_report", citations.check(self.answer, self.passages))

    @property
    def question(self) -> str:
        return str(self.inputs.get("question", ""))

    @property
    def plain(self) -> str:
        """The answer without its citation markers: ``"Paris [1]."`` -> ``"Paris."``."""
        return citations.strip_markers(self.answer)

    @property
    def report(self) -> citations.CitationReport:
        """The check of the answer's citations against the passages it was given."""
        report = self._report
        if report is None:  # never: __post_init__ sets it
            raise AttributeError("report")
        return report

    @property
    def cited(self) -> tuple[tuple[int, Passage], ...]:
        """``(n, passage)`` for each passage the answer cites validly, ``n`` being its marker number."""
        numbers = {p.id: n for n, p in enumerate(self.passages, 1)}
        return tuple((numbers[p.id], p) for p in self.report.cited_passages)

    @property
    def valid(self) -> bool:
        """At least one citation, and every citation names a passage that was given."""
        return self.report.valid


class CitedRAG(Module):
    """Retrieve ``k`` passages and answer with citations that the signature requires.

    ``retriever`` is a :class:`~refine.BM25Retriever` (or anything with ``search(query, k)``
    returning hits), a function ``(query, k) -> passages or hits``, or ``None`` when each call
    gives its own ``passages=``.

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
        retriever: Retriever | SearchFunction | None = None,
        *,
        k: int = 3,
        lm: LM | None = None,
        signature: Signature | type[Signature] = CitedQA,
        assertions: Sequence[Rule] = (),
        max_backtracks: int = 2,
        strict: bool = False,
        max_tokens: int = 768,
        constrained: bool = True,
    ) -> None:
        if retriever is not None and not callable(getattr(retriever, "search", None)) and not callable(retriever):
            raise UsageError(
                f"retriever={retriever!r} has no search(query, k) method and is not a function (query, k) -> "
                "passages; pass a BM25Retriever, such a function, or None and give passages= to each call"
            )
        self.retriever = retriever
        self.k = check_int("k", k, minimum=1)
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

    def __call__(self, *args: Any, lm: LM | None = None, **kwargs: Any) -> CitedAnswer:
        # A run keeps the type forward returns: the result is the CitedAnswer forward built.
        return cast(CitedAnswer, super().__call__(*args, lm=lm, **kwargs))

    def forward(self, question: str, passages: Sequence[Passage] | Sequence[Hit] | None = None) -> CitedAnswer:
        given, hits = _gather(self.retriever, self.k, question, passages)
        try:
            prediction = self.predict(passages=list(given), question=question)
        except ParseError as exc:
            # Only an empty reply fails to parse here; report it as an uncited answer.
            attempts = tuple(exc.attempts)
            failures = attempts[-1].failures if attempts else ()
            return CitedAnswer({"answer": exc.text.strip()}, attempts, failures, passages=given, hits=hits)
        return _answer(prediction, given, hits)


def _answer(prediction: Prediction, given: tuple[Passage, ...], hits: tuple[Hit, ...]) -> CitedAnswer:
    return CitedAnswer(
        prediction.outputs,
        prediction.attempts,
        prediction.failures,
        inputs=prediction.inputs,
        origin=prediction.origin,
        passages=given,
        hits=hits,
    )


def _gather(
    retriever: Retriever | SearchFunction | None,
    k: int,
    question: str,
    passages: Sequence[Passage] | Sequence[Hit] | None,
) -> tuple[tuple[Passage, ...], tuple[Hit, ...]]:
    """The passages to answer ``question`` from: the caller's, or the top ``k`` the retriever finds."""
    if not isinstance(question, str) or not question.strip():
        raise UsageError(f"question={question!r} is empty; ask a question in words")
    if passages is not None:
        given, hits = _passages(passages, "passages=")
        if not given:
            raise UsageError("passages=[] is empty; give at least one passage to answer from")
        return given, hits
    search = getattr(retriever, "search", None)
    if callable(search):
        found: Any = search(question, k=k)
    elif callable(retriever):
        found = retriever(question, k)
    else:
        raise UsageError("retriever=None needs passages= with each question; or give a retriever")
    given, hits = _passages(found, "the retriever returned")
    if not given:
        shown = repr(question) if len(question) <= 80 else f"{question[:80]!r}... ({len(question)} characters)"
        raise UsageError(f"no passage matches question={shown}; rephrase it with words the corpus uses")
    return given, hits


def _passages(found: Any, what: str) -> tuple[tuple[Passage, ...], tuple[Hit, ...]]:
    """Passages and (when they came as hits) the hits, from a retriever's result or a caller's list."""
    if isinstance(found, Sequence) and not found:
        return (), ()
    passages = as_passages(found)
    if passages is None:
        raise UsageError(f"{what} {type(found).__name__} {str(found)[:80]}; expected a list of Passages or Hits")
    hits = tuple(found) if all(isinstance(item, Hit) for item in found) else ()
    return passages, hits


class SpanRAG(Module):
    """Retrieve ``k`` passages and answer in a few words, cited: a span the model chooses.

    A 135M model asked for a five-word answer writes the first words of a sentence; asked to
    choose, it picks a name, date or number. The candidates are spans of the passages
    (:func:`refine.rag.answer_candidates`: of the question's kind, from the sentences that
    best match it), each with its passage's marker, so the answer is a verbatim span and its
    citation is valid by construction. On a grammar backend the choice is decoded; elsewhere it
    is a checked :func:`refine.checks.chosen_from` assertion. When the passages offer no
    candidate, ``fallback`` (a verbatim quote of at most ``max_words`` words) answers instead.
    """

    def __init__(
        self,
        retriever: Retriever | SearchFunction | None = None,
        *,
        k: int = 3,
        lm: LM | None = None,
        candidates: int = 20,
        max_words: int = 5,
        max_backtracks: int = 2,
    ) -> None:
        self.retriever = retriever
        self.k = check_int("k", k, minimum=1)
        self.candidates = check_int("candidates", candidates, minimum=1)
        self.lm = lm
        self.predict = Predict(
            SpanQA, assertions=[Assert(chosen_from("answer", "candidates"))], max_backtracks=max_backtracks
        )
        self.fallback = Predict(
            ExtractiveQA,
            assertions=[Assert(max_words_check("answer", check_int("max_words", max_words, minimum=1)))],
            max_backtracks=max_backtracks,
            strict=False,
        )

    def __call__(self, *args: Any, lm: LM | None = None, **kwargs: Any) -> CitedAnswer:
        return cast(CitedAnswer, super().__call__(*args, lm=lm, **kwargs))

    def forward(self, question: str, passages: Sequence[Passage] | Sequence[Hit] | None = None) -> CitedAnswer:
        given, hits = _gather(self.retriever, self.k, question, passages)
        options = [c.option for c in answer_candidates(question, given, limit=self.candidates)]
        if options:
            prediction = self.predict(passages=list(given), question=question, candidates=options)
        else:
            prediction = self.fallback(passages=list(given), question=question)
        return _answer(prediction, given, hits)
