from __future__ import annotations

import re
from collections.abc import Sequence

import pytest

from citations import CitationError, check
from citations.metrics import (
    CitationScores,
    citation_precision,
    citation_recall,
    citation_scores,
    gold_citation_precision_recall,
)
from corpora import Passage


class AllWords:
    """Supported iff every word of the claim occurs in the passages together (a stand-in for NLI)."""

    threshold = 1.0

    def __init__(self) -> None:
        self.calls = 0

    def score(self, claim: str, passages: Sequence[Passage]) -> float:
        self.calls += 1
        words = set(re.findall(r"\w+", claim.lower()))
        seen = set(re.findall(r"\w+", " ".join(p.text for p in passages).lower()))
        return 1.0 if words <= seen else 0.0


PASSAGES = [
    Passage(id="p1", title="", text="alpha beta"),
    Passage(id="p2", title="", text="gamma delta"),
    Passage(id="p3", title="", text="alpha beta gamma"),
    Passage(id="p4", title="", text="nothing useful"),
]


def scores(answer: str) -> CitationScores:
    return citation_scores(check(answer, PASSAGES), AllWords())


@pytest.mark.parametrize(
    ("answer", "recall", "precision"),
    [
        # one supported sentence, one relevant citation
        ("Alpha beta [1].", 1.0, 1.0),
        # unsupported: recall 0, its citation counts against precision
        ("Alpha gamma [1].", 0.0, 0.0),
        # jointly supported by two passages, each needed: both relevant
        ("Alpha delta [1][2].", 1.0, 1.0),
        # [4] alone does not support and [1] alone still does: [4] is irrelevant
        ("Alpha beta [1][4].", 1.0, 0.5),
        # [1] and [3] each support alone: both relevant, even though redundant (ALCE condition A)
        ("Alpha beta [1][3].", 1.0, 1.0),
        # [2] adds nothing ([3] covers gamma) and does not support alone: irrelevant
        ("Alpha gamma [3][2].", 1.0, 0.5),
        # uncited sentence: counts for recall, not for precision
        ("Alpha beta [1]. Gamma.", 0.5, 1.0),
        # an out-of-range citation: the sentence is unsupported and not counted for precision
        ("Alpha beta [1]. Gamma [2][9].", 0.5, 1.0),
        ("Alpha beta [9].", 0.0, 0.0),
        ("", 0.0, 0.0),
        ("Nothing cited.", 0.0, 0.0),
        # ids and numbers naming the same passage count once
        ("Alpha beta [1][p1].", 1.0, 1.0),
    ],
)
def test_alce_recall_and_precision(answer: str, recall: float, precision: float) -> None:
    result = scores(answer)
    assert (result.recall, result.precision) == (pytest.approx(recall), pytest.approx(precision))
    report = check(answer, PASSAGES)
    assert citation_recall(report, AllWords()) == pytest.approx(recall)
    assert citation_precision(report, AllWords()) == pytest.approx(precision)


def test_scores_carry_validity_and_coverage() -> None:
    result = scores("Alpha beta [1]. Gamma [9]. Delta.")
    assert result.validity == 0.5
    assert result.coverage == pytest.approx(2 / 3)
    assert repr(result) == "CitationScores(recall=0.333, precision=1.000, validity=0.500, coverage=0.667)"


def test_each_question_is_asked_once() -> None:
    checker = AllWords()
    citation_scores(check("Alpha beta [1][4]. Alpha beta [1][4].", PASSAGES), checker)
    assert checker.calls == 3  # (p1,p4) jointly, p1 alone, p4 alone; the rest hit the cache


def test_metric_argument_errors() -> None:
    with pytest.raises(CitationError, match=r"report='x' must be a CitationReport"):
        citation_scores("x", AllWords())  # type: ignore[arg-type]
    with pytest.raises(CitationError, match=r"checker=None is not a SupportChecker"):
        citation_scores(check("a", PASSAGES), None)  # type: ignore[arg-type]


def test_gold_citation_precision_recall() -> None:
    report = check("Alpha [1]. Gamma [2][p4]. Bad [9].", PASSAGES)
    assert gold_citation_precision_recall(report, ["p1", "p3"]) == (pytest.approx(1 / 3), 0.5)
    assert gold_citation_precision_recall(report, {"p1", "p2", "p4"}) == (1.0, 1.0)
    titled = [Passage(id="a", title="Paris", text="x"), Passage(id="b", title="Berlin", text="y")]
    assert gold_citation_precision_recall(check("X [2].", titled), ["Berlin", "Rome"], by="title") == (1.0, 0.5)
    assert gold_citation_precision_recall(check("Nothing.", PASSAGES), ["p1"]) == (0.0, 0.0)


def test_gold_argument_errors() -> None:
    report = check("Alpha [1].", PASSAGES)
    with pytest.raises(CitationError, match=r"gold=\(\) must name at least one supporting passage"):
        gold_citation_precision_recall(report, [])
    with pytest.raises(CitationError, match=r"gold='p1' must be a collection of passage ids, e.g. \['p1'\]"):
        gold_citation_precision_recall(report, "p1")
    with pytest.raises(CitationError, match=r"by='name' must be 'id' or 'title'"):
        gold_citation_precision_recall(report, ["p1"], by="name")  # type: ignore[arg-type]
