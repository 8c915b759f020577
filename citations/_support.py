"""The support-checker protocol: how strongly do passages support a claim, as a score in [0, 1]."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from citations.errors import CheckerError, CitationError
from corpora import Passage

__all__ = ["ExplainsMissing", "Support", "SupportChecker", "assess", "check_threshold"]


@runtime_checkable
class SupportChecker(Protocol):
    """Scores how well ``passages`` (taken together) support ``claim``.

    ``score`` returns a float in [0, 1]; a claim is supported when its score is at least
    ``threshold``. Implementations: :class:`citations.LexicalChecker`, :class:`citations.LMJudge`,
    :class:`citations.EmbeddingChecker`.
    """

    @property
    def threshold(self) -> float: ...

    def score(self, claim: str, passages: Sequence[Passage]) -> float: ...


@runtime_checkable
class ExplainsMissing(Protocol):
    """A checker that can also name the words of a claim that the passages do not mention."""

    def missing(self, claim: str, passages: Sequence[Passage]) -> tuple[str, ...]: ...


@dataclass(frozen=True, slots=True)
class Support:
    """A checker's verdict on one claim: its ``score``, the ``threshold``, and what is ``missing``."""

    score: float
    threshold: float
    missing: tuple[str, ...] = ()

    @property
    def supported(self) -> bool:
        return self.score >= self.threshold

    def __repr__(self) -> str:
        verdict = "supported" if self.supported else "unsupported"
        extra = f", missing={self.missing!r}" if self.missing else ""
        return f"Support({verdict}, score={self.score:.3f}, threshold={self.threshold:.3f}{extra})"


def check_threshold(threshold: float, *, name: str = "threshold") -> float:
    """``threshold`` as a float, or a :class:`CitationError` when it is not a number in [0, 1]."""
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0.0 <= threshold <= 1.0:
        raise CitationError(f"{name}={threshold!r} must be a number between 0 and 1, e.g. 0.5")
    return float(threshold)


def assess(checker: SupportChecker, claim: str, passages: Sequence[Passage]) -> Support:
    """Ask ``checker`` about ``claim``, checking that it answers with a score in [0, 1]."""
    score = checker.score(claim, passages)
    if isinstance(score, bool) or not isinstance(score, int | float) or math.isnan(score) or not 0 <= score <= 1:
        raise CheckerError(
            f"{type(checker).__name__}.score() returned {score!r}; a support checker must return a float in [0, 1]"
        )
    missing: tuple[str, ...] = ()
    if score < checker.threshold and isinstance(checker, ExplainsMissing):
        missing = tuple(checker.missing(claim, passages))
    return Support(score=float(score), threshold=float(checker.threshold), missing=missing)
