"""Property tests for parsing, rendering and checking (hypothesis)."""

from __future__ import annotations

import itertools

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from citations import Claim, check, parse, render
from citations._segment import code_spans, quote_spans
from corpora import Passage

WORDS = st.sampled_from(
    ["paris", "is", "the", "capital", "of", "france", "3.14", "e.g.", "Dr.", "U.S.", "`os.path`", "it's", "1,200"]
)
# Ids without a regex strategy: drawing from a regex needs hypothesis's Unicode tables (see conftest).
REFS = st.one_of(st.integers(min_value=1, max_value=30), st.integers(0, 999).map("p{}".format))


@st.composite
def sentences(draw: st.DrawFn) -> str:
    first = draw(st.sampled_from(["Paris", "The", "Berlin", "It", "Water", "Ada"]))
    words = draw(st.lists(WORDS, max_size=8))
    if draw(st.booleans()):
        words.append('"' + " ".join(draw(st.lists(WORDS, min_size=1, max_size=3))) + '"')
    end = draw(st.sampled_from([".", "!", "?", ""]))
    return " ".join([first, *words]) + end


@st.composite
def claims(draw: st.DrawFn) -> list[Claim]:
    count = draw(st.integers(0, 5))
    return [Claim.of(draw(sentences()), draw(st.lists(REFS, max_size=3, unique=True))) for _ in range(count)]


@given(claims())
@settings(max_examples=300)
def test_render_then_parse_is_the_identity(made: list[Claim]) -> None:
    parsed = parse(render(made))
    assert [(c.text, c.refs) for c in parsed] == [(c.text, c.refs) for c in made]


ANSWER_ALPHABET = st.sampled_from(
    [*"abcXYZ019 .,;:!?\n\t\"'`()[]-*#>\u201c\u201d\u2026~_", "[1]", "[2, 3]", "[1-3]", "[p1]", "```", "e.g.", "Dr."]
)
ANSWERS = st.one_of(st.text(), st.lists(ANSWER_ALPHABET, max_size=60).map("".join))
PASSAGES = st.lists(
    st.builds(Passage.create, st.text(max_size=10), st.text(max_size=80), id=st.sampled_from([None, "p1", "p2", "x"])),
    max_size=4,
    unique_by=lambda passage: passage.id,
)


@given(ANSWERS)
@settings(max_examples=500)
def test_parse_never_crashes_and_offsets_are_consistent(answer: str) -> None:
    found = parse(answer)
    for claim in found:
        assert 0 <= claim.start < claim.end <= len(answer)
        assert claim.text == claim.text.strip() and claim.text
        for marker in claim.markers:
            assert answer[marker.start : marker.end] == marker.raw
            assert claim.start <= marker.start < marker.end <= claim.end
    for before, after in itertools.pairwise(found):
        assert before.end <= after.start


TOKENS = st.sampled_from(
    [
        *("Paris", "is", "big", "e.g.", "Dr.", "U.S.", "3.14", "A.", ".", "!", "?", ",", ":", "-", "*", "2)", ">"),
        *('"Paris is"', '"big."', "\u201cbig\u201d", "(", ")", "`x.y`", "..."),
        *("[1]", "[2, 3]", "[1-3]", "[p1]", "[1][2]"),
    ]
)
SPACED_ANSWERS = st.lists(st.tuples(TOKENS, st.sampled_from([" ", " ", " ", "\n", "\n\n"])), max_size=40).map(
    lambda pairs: "".join(token + gap for token, gap in pairs)
)


@given(SPACED_ANSWERS)
@settings(max_examples=500)
def test_render_is_idempotent_on_parsed_answers(answer: str) -> None:
    """Rendering a parsed answer gives its canonical form, which parses to the same claims."""
    once = render(parse(answer))
    parsed = parse(once)
    assert render(parsed) == once
    assert [(c.text, c.refs, c.quote) for c in parsed] == [(c.text, c.refs, c.quote) for c in parse(answer)]


def _reads_as_one_sentence(claim: Claim) -> bool:
    again = parse(claim.text)
    return len(again) == 1 and again[0].text == claim.text and not again[0].markers


def _quotes_its_text(claim: Claim) -> bool:
    spans = quote_spans(claim.text, code_spans(claim.text))
    quotations = {" ".join(claim.text[low + 1 : high - 1].split()) for low, high in spans}
    return claim.quote is None or claim.quote in quotations


@given(ANSWERS)
@settings(max_examples=500)
def test_parse_render_parse_gives_the_claims_again(answer: str) -> None:
    """What citations._claims promises: for claims that read as sentences, the same texts and markers
    (and quotes, when each is a quotation of its text). Without the condition, it found the cases
    in test_claims.py::test_parse_render_parse_regressions."""
    found = parse(answer)
    assume(all(_reads_as_one_sentence(claim) for claim in found))
    again = parse(render(found))
    assert [(c.text, c.refs) for c in again] == [(c.text, c.refs) for c in found]
    if all(_quotes_its_text(claim) for claim in found):
        assert [c.quote for c in again] == [c.quote for c in found]


@given(ANSWERS, PASSAGES)
@settings(max_examples=300)
def test_check_never_crashes(answer: str, passages: list[Passage]) -> None:
    report = check(answer, passages)
    assert (report.feedback() == "") is report.ok
    assert 0.0 <= report.coverage <= 1.0 and 0.0 <= report.validity <= 1.0
    assert set(report.cited_passages) <= set(passages)
