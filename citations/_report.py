"""Checking an answer against the passages it was given: :func:`check` and :class:`CitationReport`."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from citations._claims import Claim, parse
from citations._feedback import (
    invalid_feedback,
    invalid_message,
    quote_feedback,
    support_feedback,
    uncited_feedback,
)
from citations._markers import Marker, Ref
from citations._quotes import quote_found
from citations._support import Support, SupportChecker, assess
from citations.errors import CitationError
from corpora import Passage

__all__ = ["CitationReport", "Finding", "InvalidCitation", "check", "resolve"]

logger = logging.getLogger(__name__)

_EMPTY_FEEDBACK = (
    "The answer has no sentences; answer in sentences that cite the passages, "
    "e.g. 'Paris is the capital of France [1].'"
)


@dataclass(frozen=True, slots=True)
class InvalidCitation:
    """A marker that names no given passage. ``sentence`` is the 0-based index of its claim."""

    sentence: int
    marker: Marker
    message: str

    def __repr__(self) -> str:
        return f"InvalidCitation(sentence={self.sentence}, message={self.message!r})"


@dataclass(frozen=True, slots=True)
class Finding:
    """What :func:`check` found about one sentence.

    ``passages`` are the valid cited passages (deduplicated, in citation order); ``quote_found``
    is None when the sentence quotes nothing; ``support`` is None when no checker was given or
    the sentence cites no valid passage.
    """

    index: int
    claim: Claim
    passages: tuple[Passage, ...]
    invalid: tuple[InvalidCitation, ...] = ()
    quote_found: bool | None = None
    support: Support | None = None

    @property
    def uncited(self) -> bool:
        return not self.claim.markers

    @property
    def refs(self) -> tuple[Ref, ...]:
        """The valid references of this sentence, in order."""
        bad = {item.marker.ref for item in self.invalid}
        return tuple(ref for ref in self.claim.refs if ref not in bad)

    @property
    def ok(self) -> bool:
        return (
            not self.uncited
            and not self.invalid
            and self.quote_found is not False
            and (self.support is None or self.support.supported)
        )

    def problems(self, passages: Sequence[Passage]) -> list[str]:
        """Feedback sentences for this finding; ``passages`` are all those given with the answer."""
        if self.uncited:
            return [uncited_feedback(self.index, self.claim.text, passages)]
        messages = [invalid_feedback(self.index, item.marker.ref, passages) for item in self.invalid]
        if self.quote_found is False and self.claim.quote is not None:
            messages.append(quote_feedback(self.index, self.claim.quote, self.refs))
        if self.support is not None and not self.support.supported:
            support = self.support
            messages.append(support_feedback(self.index, self.refs, support.score, support.threshold, support.missing))
        return messages

    def __repr__(self) -> str:
        status = "ok" if self.ok else "problem"
        return f"Finding({self.index}, {status}, claim={self.claim.text!r}, refs={self.refs!r})"


@dataclass(frozen=True, slots=True)
class CitationReport:
    """Everything :func:`check` found about one answer, sentence by sentence."""

    answer: str
    passages: tuple[Passage, ...]
    findings: tuple[Finding, ...]

    @property
    def claims(self) -> tuple[Claim, ...]:
        return tuple(finding.claim for finding in self.findings)

    @property
    def ok(self) -> bool:
        """Every sentence cites, every citation is valid, every quote is found, every claim supported."""
        return bool(self.findings) and all(finding.ok for finding in self.findings)

    @property
    def valid(self) -> bool:
        """At least one citation, and none that names a passage that was not given."""
        return any(not finding.uncited for finding in self.findings) and not self.invalid

    @property
    def invalid(self) -> tuple[InvalidCitation, ...]:
        return tuple(item for finding in self.findings for item in finding.invalid)

    @property
    def uncited(self) -> tuple[int, ...]:
        """0-based indices of the sentences that cite nothing."""
        return tuple(finding.index for finding in self.findings if finding.uncited)

    @property
    def unsupported(self) -> tuple[int, ...]:
        """0-based indices of the sentences a checker judged unsupported by their cited passages."""
        return tuple(
            finding.index
            for finding in self.findings
            if finding.support is not None and not finding.support.supported
        )

    @property
    def cited_passages(self) -> tuple[Passage, ...]:
        """The validly cited passages, in order of first citation, without repeats."""
        seen: dict[str, Passage] = {}
        for finding in self.findings:
            for passage in finding.passages:
                seen.setdefault(passage.id, passage)
        return tuple(seen.values())

    @property
    def coverage(self) -> float:
        """The fraction of sentences that cite at least one passage (0.0 for an empty answer)."""
        if not self.findings:
            return 0.0
        return sum(not finding.uncited for finding in self.findings) / len(self.findings)

    @property
    def validity(self) -> float:
        """The fraction of citations (distinct refs per sentence) that name a given passage (0.0 if none)."""
        total = sum(len(finding.claim.refs) for finding in self.findings)
        if not total:
            return 0.0
        return 1.0 - len(self.invalid) / total

    def feedback(self) -> str:
        """What is wrong and how to fix it, one short sentence per problem; empty when :attr:`ok`."""
        if not self.findings:
            return _EMPTY_FEEDBACK
        return "\n".join(message for finding in self.findings for message in finding.problems(self.passages))

    def __repr__(self) -> str:
        return (
            f"CitationReport(sentences={len(self.findings)}, ok={self.ok}, coverage={self.coverage:.2f}, "
            f"validity={self.validity:.2f}, invalid={len(self.invalid)}, uncited={self.uncited!r})"
        )


def resolve(ref: Ref, passages: Sequence[Passage]) -> Passage | None:
    """The passage ``ref`` names: ``n`` is the n-th passage (1-based), any other ref a passage id."""
    if isinstance(ref, int):
        return passages[ref - 1] if 1 <= ref <= len(passages) else None
    return next((passage for passage in passages if passage.id == ref), None)


def _check_passages(passages: object) -> tuple[Passage, ...]:
    if isinstance(passages, str | bytes | Passage) or not isinstance(passages, Sequence):
        raise CitationError(
            f"passages={passages!r} must be a sequence of corpora.Passage, e.g. [Passage.create(title, text)]"
        )
    for passage in passages:
        if not isinstance(passage, Passage):
            raise CitationError(
                f"passages must hold corpora.Passage values, got {passage!r}; "
                "wrap text with Passage.create(title, text)"
            )
    return tuple(passages)


def _finding(index: int, claim: Claim, passages: tuple[Passage, ...], checker: SupportChecker | None) -> Finding:
    cited: dict[str, Passage] = {}
    invalid: list[InvalidCitation] = []
    for ref in claim.refs:
        passage = resolve(ref, passages)
        if passage is None:
            marker = next(marker for marker in claim.markers if marker.ref == ref)
            invalid.append(InvalidCitation(index, marker, invalid_message(ref, passages)))
        else:
            cited.setdefault(passage.id, passage)
    found = tuple(cited.values())
    quote = None if claim.quote is None else bool(found) and quote_found(claim.quote, found)
    support = assess(checker, claim.text, found) if checker is not None and found else None
    return Finding(index, claim, found, tuple(invalid), quote, support)


def check(answer: str, passages: Sequence[Passage], *, checker: SupportChecker | None = None) -> CitationReport:
    """Parse ``answer`` and check each sentence's citations against ``passages``.

    ``[n]`` cites the n-th of ``passages`` (1-based); ``[p12]`` cites the passage whose id is
    ``p12``. With a ``checker``, each sentence's valid cited passages, taken together, are scored
    for support.
    """
    if not isinstance(answer, str):
        raise CitationError(f"answer={answer!r} must be a str")
    given = _check_passages(passages)
    if checker is not None and not isinstance(checker, SupportChecker):
        raise CitationError(
            f"checker={checker!r} is not a SupportChecker; pass e.g. citations.LexicalChecker() or None"
        )
    claims = parse(answer)
    findings = tuple(_finding(index, claim, given, checker) for index, claim in enumerate(claims))
    report = CitationReport(answer=answer, passages=given, findings=findings)
    logger.debug("checked %d sentences: %r", len(findings), report)
    return report
