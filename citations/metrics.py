"""Citation metrics: ALCE citation recall and precision, validity, coverage, and gold-passage scores.

ALCE (Gao et al., 2023, "Enabling Large Language Models to Generate Text with Citations") scores
each sentence of an answer against the passages it cites, with an entailment judge; here any
:class:`~citations.SupportChecker` is the judge (its ``threshold`` turns scores into verdicts).
Following ALCE's reference implementation (``eval.py``, ``compute_autoais``):

* a sentence is *supported* when it cites at least one passage, none of its citations is out of
  range, and the concatenation of its cited passages supports it;
* **citation recall** = supported sentences / all sentences;
* a citation of a supported sentence with several citations is *irrelevant* when its passage alone
  does not support the sentence **and** the sentence's other citations still support it without it;
  a supported sentence's only citation is relevant; citations of an unsupported sentence are not;
* **citation precision** = relevant citations / citations, where sentences with an out-of-range
  citation count for neither (as in ALCE, which skips them before counting citations).

Both are 0.0 for an answer with no sentences (recall) or no countable citations (precision).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from citations._report import CitationReport, Finding
from citations._support import SupportChecker
from citations.errors import CitationError
from corpora import Passage

__all__ = [
    "CitationScores",
    "citation_precision",
    "citation_recall",
    "citation_scores",
    "gold_citation_precision_recall",
]


@dataclass(frozen=True, slots=True)
class CitationScores:
    """ALCE recall and precision of one answer, with its validity and coverage (all in [0, 1])."""

    recall: float
    precision: float
    validity: float
    coverage: float

    def __repr__(self) -> str:
        return (
            f"CitationScores(recall={self.recall:.3f}, precision={self.precision:.3f}, "
            f"validity={self.validity:.3f}, coverage={self.coverage:.3f})"
        )


class _Judge:
    """Verdicts of one checker, each (claim, passage ids) asked once."""

    def __init__(self, checker: SupportChecker) -> None:
        if not isinstance(checker, SupportChecker):
            raise CitationError(f"checker={checker!r} is not a SupportChecker; pass e.g. citations.LexicalChecker()")
        self.checker = checker
        self.cache: dict[tuple[str, tuple[str, ...]], bool] = {}

    def supports(self, claim: str, passages: Sequence[Passage]) -> bool:
        if not passages:
            return False
        key = (claim, tuple(passage.id for passage in passages))
        if key not in self.cache:
            self.cache[key] = self.checker.score(claim, passages) >= self.checker.threshold
        return self.cache[key]


def _sentence(finding: Finding, judge: _Judge) -> tuple[bool, int, int]:
    """(supported, relevant citations, counted citations) of one sentence, as ALCE counts them."""
    if finding.uncited or finding.invalid:
        return False, 0, 0
    claim, cited = finding.claim.text, finding.passages
    if not judge.supports(claim, cited):
        return False, 0, len(cited)
    if len(cited) == 1:
        return True, 1, 1
    relevant = 0
    for index, passage in enumerate(cited):
        alone = judge.supports(claim, [passage])
        rest = [other for position, other in enumerate(cited) if position != index]
        if alone or not judge.supports(claim, rest):
            relevant += 1
    return True, relevant, len(cited)


def citation_scores(report: CitationReport, checker: SupportChecker) -> CitationScores:
    """ALCE citation recall and precision of ``report``'s answer, judged by ``checker``."""
    if not isinstance(report, CitationReport):
        raise CitationError(
            f"report={report!r} must be a CitationReport; make one with citations.check(answer, passages)"
        )
    judge = _Judge(checker)
    supported = relevant = counted = 0
    for finding in report.findings:
        ok, good, total = _sentence(finding, judge)
        supported += ok
        relevant += good
        counted += total
    recall = supported / len(report.findings) if report.findings else 0.0
    precision = relevant / counted if counted else 0.0
    return CitationScores(recall=recall, precision=precision, validity=report.validity, coverage=report.coverage)


def citation_recall(report: CitationReport, checker: SupportChecker) -> float:
    """The fraction of sentences whose cited passages, together, support them (ALCE)."""
    return citation_scores(report, checker).recall


def citation_precision(report: CitationReport, checker: SupportChecker) -> float:
    """The fraction of citations that are not irrelevant (ALCE)."""
    return citation_scores(report, checker).precision


def gold_citation_precision_recall(
    report: CitationReport, gold: Iterable[str], *, by: Literal["id", "title"] = "id"
) -> tuple[float, float]:
    """Precision and recall of the validly cited passages against the ``gold`` supporting passages.

    ``gold`` holds passage ids (or titles, with ``by="title"``, as HotpotQA names its supporting
    paragraphs). Precision is 0.0 when nothing valid is cited.
    """
    if by not in ("id", "title"):
        raise CitationError(f"by={by!r} must be 'id' or 'title'")
    if isinstance(gold, str):
        raise CitationError(f"gold={gold!r} must be a collection of passage {by}s, e.g. [{gold!r}]")
    wanted = set(gold)
    if not wanted:
        raise CitationError("gold=() must name at least one supporting passage; recall is undefined without one")
    cited = {passage.id if by == "id" else passage.title for passage in report.cited_passages}
    hits = len(cited & wanted)
    precision = hits / len(cited) if cited else 0.0
    return precision, hits / len(wanted)
