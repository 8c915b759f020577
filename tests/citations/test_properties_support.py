"""Property tests for support checking and metrics (hypothesis)."""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from citations import Claim, LexicalChecker, check, render
from citations.metrics import citation_precision, citation_scores
from corpora import Passage

RELEVANT_WORDS = ["paris", "capital", "France", "tower", "1889", "river", "Seine", "museum", "Louvre", "3.5"]
IRRELEVANT_WORDS = ["banana", "Kenya", "volcano", "2042", "saxophone", "glacier"]

CHECKERS = st.builds(
    LexicalChecker,
    threshold=st.floats(min_value=0.0, max_value=1.0),
    mode=st.sampled_from(["union", "best", "window"]),
    window=st.integers(1, 4),
)


def passage(index: int, words: list[str]) -> Passage:
    return Passage(id=f"p{index}", title="", text=" ".join(words) + ".")


@given(
    st.text(),
    st.lists(st.tuples(st.text(max_size=20), st.text(max_size=200)), max_size=5),
    CHECKERS,
)
@settings(max_examples=300)
def test_verification_never_crashes(answer: str, texts: list[tuple[str, str]], checker: LexicalChecker) -> None:
    passages = [Passage(id=f"p{i}", title=title, text=text) for i, (title, text) in enumerate(texts, start=1)]
    report = check(answer, passages, checker=checker)
    for finding in report.findings:
        if finding.support is not None:
            assert 0.0 <= finding.support.score <= 1.0
    scores = citation_scores(report, checker)
    for value in (scores.recall, scores.precision, scores.validity, scores.coverage):
        assert 0.0 <= value <= 1.0
    assert (report.feedback() == "") is report.ok


@st.composite
def answers(draw: st.DrawFn) -> tuple[list[Claim], list[Passage], int]:
    passages = [passage(i, draw(st.lists(st.sampled_from(RELEVANT_WORDS), min_size=1, max_size=6))) for i in (1, 2, 3)]
    claims = []
    for _ in range(draw(st.integers(1, 4))):
        words = draw(st.lists(st.sampled_from(RELEVANT_WORDS), min_size=1, max_size=5))
        refs = draw(st.lists(st.sampled_from([1, 2, 3, "p1", "p2"]), max_size=3, unique=True))
        claims.append(Claim.of(" ".join(words).capitalize() + ".", refs))
    target = draw(st.integers(0, len(claims) - 1))
    return claims, passages, target


@given(answers(), st.lists(st.sampled_from(IRRELEVANT_WORDS), min_size=1, max_size=5), CHECKERS)
@settings(max_examples=400)
def test_citing_an_irrelevant_passage_never_raises_precision(
    made: tuple[list[Claim], list[Passage], int], junk: list[str], checker: LexicalChecker
) -> None:
    claims, passages, target = made
    irrelevant = passage(4, junk)
    assume(checker.score(claims[target].text, [irrelevant]) < checker.threshold)
    given_passages = [*passages, irrelevant]
    before = citation_precision(check(render(claims), given_passages), checker)
    extended = list(claims)
    extended[target] = claims[target].with_refs(*claims[target].refs, 4)
    after = citation_precision(check(render(extended), given_passages), checker)
    assert after <= before
