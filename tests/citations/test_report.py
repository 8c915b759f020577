from __future__ import annotations

from collections.abc import Sequence

import pytest

from citations import CheckerError, CitationError, CitationReport, check, resolve
from citations._feedback import passage_choices
from corpora import Passage


class Fixed:
    """A checker that returns a fixed score (and can name missing words)."""

    def __init__(self, value: object, threshold: float = 0.5, missing: tuple[str, ...] = ()) -> None:
        self.value = value
        self.threshold = threshold
        self._missing = missing
        self.calls: list[tuple[str, tuple[str, ...]]] = []

    def score(self, claim: str, passages: Sequence[Passage]) -> float:
        self.calls.append((claim, tuple(p.id for p in passages)))
        return self.value  # type: ignore[return-value]

    def missing(self, claim: str, passages: Sequence[Passage]) -> tuple[str, ...]:
        return self._missing


def test_a_good_answer_is_ok(five: list[Passage]) -> None:
    report = check("Paris is the capital of France [1]. Berlin has 3.7 million people [2].", five)
    assert report.ok and report.valid
    assert report.feedback() == ""
    assert report.coverage == 1.0 and report.validity == 1.0
    assert report.uncited == () and report.invalid == ()
    assert [p.id for p in report.cited_passages] == ["p1", "p2"]
    assert [f.refs for f in report.findings] == [(1,), (2,)]


def test_numeric_and_id_markers_resolve(five: list[Passage]) -> None:
    assert resolve(1, five) is five[0]
    assert resolve(5, five) is five[4]
    assert resolve(0, five) is None
    assert resolve(6, five) is None
    assert resolve("p3", five) is five[2]
    assert resolve("p9", five) is None
    assert resolve("P3", five) is None


def test_invalid_messages_are_pinned(five: list[Passage]) -> None:
    report = check("A is B [7]. C is D [p9]. E is F [0].", five)
    assert [item.message for item in report.invalid] == [
        "[7] cited but only [1]..[5] were given",
        "passage id 'p9' cited but only p1..p5 were retrieved",
        "[0] cited but only [1]..[5] were given",
    ]
    assert [item.sentence for item in report.invalid] == [0, 1, 2]
    assert not report.valid and not report.ok
    assert report.validity == 0.0
    assert report.cited_passages == ()


def test_invalid_messages_with_few_or_no_passages(five: list[Passage]) -> None:
    assert check("A [2].", five[:1]).invalid[0].message == "[2] cited but only [1] was given"
    assert check("A [3].", []).invalid[0].message == "[3] cited but no passages were given"
    assert check("A [p9].", five[:1]).invalid[0].message == "passage id 'p9' cited but only p1 was retrieved"
    assert check("A [p9].", []).invalid[0].message == "passage id 'p9' cited but no passages were retrieved"


def test_passage_choices() -> None:
    def ids(*names: str) -> list[Passage]:
        return [Passage(id=name, title="", text="x") for name in names]

    assert passage_choices(ids("p1", "p2", "p3")) == "p1..p3"
    assert passage_choices(ids("p1", "p2")) == "p1, p2"
    assert passage_choices(ids("p1", "p3", "p4")) == "p1, p3, p4"
    assert passage_choices(ids("a", "b", "c")) == "a, b, c"
    many = ids(*(f"x{i}y" for i in range(8)))
    assert passage_choices(many) == "x0y, x1y, x2y, ..., x7y (8 passages)"


def test_feedback_is_pinned(five: list[Passage]) -> None:
    answer = "Paris is the capital [1]. Germany had a chancellor [7]. The tower is tall. It is old [p9]."
    report = check(answer, five)
    assert report.feedback() == (
        "Sentence 2 cites [7], but only [1]..[5] exist; cite one of [1]..[5].\n"
        'Sentence 3 ("The tower is tall.") cites nothing; '
        "cite the passage that supports it, e.g. [1] or [2], or remove the sentence.\n"
        "Sentence 4 cites [p9], but only p1..p5 were retrieved; cite one of p1..p5."
    )
    assert report.uncited == (2,)
    assert report.coverage == 0.75
    assert report.validity == pytest.approx(1 / 3)


def test_feedback_for_edge_cases(five: list[Passage]) -> None:
    assert check("", five).feedback().startswith("The answer has no sentences;")
    assert not check("", five).ok and not check("", five).valid
    assert check("A [2].", five[:1]).feedback() == "Sentence 1 cites [2], but only [1] exists; cite [1]."
    assert check("A [2].", []).feedback() == "Sentence 1 cites [2], but no passages were given; remove the citation."
    assert check("A [p2].", five[:1]).feedback() == "Sentence 1 cites [p2], but only p1 was retrieved; cite [p1]."
    assert check("A.", []).feedback() == (
        'Sentence 1 ("A.") cites nothing and no passages were given; remove the sentence.'
    )
    assert check("A.", five[:1]).feedback() == (
        'Sentence 1 ("A.") cites nothing; cite the passage that supports it, e.g. [1], or remove the sentence.'
    )
    long = "word " * 30 + "end."
    assert '("word word word' in check(long, five).feedback()
    assert '...")' in check(long, five).feedback()


def test_valid_requires_at_least_one_citation(five: list[Passage]) -> None:
    report = check("Nothing cited. Still nothing.", five)
    assert not report.valid
    assert report.validity == 0.0 and report.coverage == 0.0
    partly = check("Nothing cited. Paris [1].", five)
    assert partly.valid and not partly.ok


def test_quotes_are_checked_against_cited_passages(five: list[Passage]) -> None:
    good = check('France\'s "most populous city" [1] is Paris.', five)
    assert good.findings[0].quote_found is True and good.ok
    lenient = check('It is "the capital and most-populous city" [1].', five)
    assert lenient.findings[0].quote_found is True
    bad = check('It is "the largest city on Earth" [1].', five)
    assert bad.findings[0].quote_found is False and not bad.ok
    assert bad.feedback() == (
        'Sentence 1 quotes "the largest city on Earth", but [1] does not contain it; '
        "copy the words exactly from the passage or remove the quotation marks."
    )
    two = check('It is "the largest city on Earth" [1][2].', five)
    assert "but none of [1][2] contains it;" in two.feedback()
    invalid_only = check('It is "x y z" [9].', five)
    assert invalid_only.findings[0].quote_found is False
    assert 'Sentence 1 quotes "x y z" without a valid citation' in invalid_only.feedback()
    assert check("No quote [1].", five).findings[0].quote_found is None


def test_support_checker_is_called_with_cited_passages(five: list[Passage]) -> None:
    checker = Fixed(0.9)
    report = check("Paris is big [1][p3][1]. Nothing. Bad [8].", five, checker=checker)
    assert checker.calls == [("Paris is big.", ("p1", "p3"))]
    assert report.findings[0].support is not None and report.findings[0].support.supported
    assert report.findings[1].support is None and report.findings[2].support is None
    assert report.unsupported == ()


def test_unsupported_feedback(five: list[Passage]) -> None:
    report = check("Merkel was Chief of Protocol [4].", five, checker=Fixed(0.2, missing=("Chief of Protocol",)))
    assert report.unsupported == (0,)
    assert not report.ok and report.valid
    assert report.feedback() == (
        "Sentence 1 cites [4], which does not mention 'Chief of Protocol'; cite a passage that does, or leave it out."
    )
    plain = check("Merkel was Chief of Protocol [4][2].", five, checker=Fixed(0.2))
    assert plain.feedback() == (
        "Sentence 1 cites [4][2], which do not support it (score 0.20 < 0.50); "
        "cite a passage that does, or rephrase it."
    )
    several = check("X [1].", five, checker=Fixed(0.0, missing=("a", "b", "c")))
    assert "which does not mention 'a', 'b' or 'c'; cite a passage that does, or leave them out." in several.feedback()


@pytest.mark.parametrize("value", [1.5, -0.1, float("nan"), "0.5", None, True])
def test_checker_returning_a_bad_score_is_a_checker_error(five: list[Passage], value: object) -> None:
    expected = r"Fixed.score\(\) returned .*; a support checker must return a float in \[0, 1\]"
    with pytest.raises(CheckerError, match=expected):
        check("Paris [1].", five, checker=Fixed(value))


def test_bad_arguments_are_usage_errors(five: list[Passage]) -> None:
    with pytest.raises(CitationError, match=r"answer=None must be a str"):
        check(None, five)  # type: ignore[arg-type]
    with pytest.raises(CitationError, match=r"passages='text' must be a sequence of corpora.Passage"):
        check("a", "text")  # type: ignore[arg-type]
    with pytest.raises(CitationError, match=r"passages=Passage\(id='p1'.* must be a sequence"):
        check("a", five[0])  # type: ignore[arg-type]
    with pytest.raises(CitationError, match=r"passages must hold corpora.Passage values, got 'x'"):
        check("a", ["x"])  # type: ignore[list-item]
    with pytest.raises(CitationError, match=r"checker=3 is not a SupportChecker"):
        check("a", five, checker=3)  # type: ignore[arg-type]
    assert issubclass(CitationError, ValueError)


def test_report_is_frozen_with_readable_repr(five: list[Passage]) -> None:
    report = check("Paris [1]. Nothing.", five)
    assert isinstance(report, CitationReport)
    assert repr(report) == (
        "CitationReport(sentences=2, ok=False, coverage=0.50, validity=1.00, invalid=0, uncited=(1,))"
    )
    assert repr(report.findings[0]) == "Finding(0, ok, claim='Paris.', refs=(1,))"
    with pytest.raises(AttributeError):
        report.answer = "x"  # type: ignore[misc]
    assert report.claims[1].text == "Nothing."
    assert report.passages == tuple(five)
