from __future__ import annotations

import pytest

from citations import CitationError, Claim, Marker, parse, render


def test_claim_offsets_point_into_the_answer() -> None:
    answer = "Paris is big [1].  - A dash. Berlin [p2] too."
    claims = parse(answer)
    assert [c.text for c in claims] == ["Paris is big.", "A dash.", "Berlin too."]
    for claim in claims:
        assert answer[claim.start : claim.end].startswith(claim.text.split()[0])
        for marker in claim.markers:
            assert answer[marker.start : marker.end] == marker.raw
            assert claim.start <= marker.start < marker.end <= claim.end


@pytest.mark.parametrize(
    ("answer", "refs"),
    [
        ("A is B [1].", (1,)),
        ("A is B [1, 2].", (1, 2)),
        ("A is B [1,2].", (1, 2)),
        ("A is B [1-3].", (1, 2, 3)),
        ("A is B [1][2].", (1, 2)),
        ("A is B [1] [2].", (1, 2)),
        ("A is B [p12].", ("p12",)),
        ("A is B [python-docs:nonlocal#0].", ("python-docs:nonlocal#0",)),
        ("A is B [1][1].", (1,)),
        ("A is B [2][1].", (2, 1)),
        ("A is B.", ()),
        ("A is B [see above].", ()),
        ("A is [B](https://b.org).", ()),
    ],
)
def test_marker_styles(answer: str, refs: tuple[object, ...]) -> None:
    (claim,) = parse(answer)
    assert claim.refs == refs
    assert claim.text in ("A is B.", "A is B [see above].", "A is [B](https://b.org).")


def test_group_markers_share_raw_and_span() -> None:
    (claim,) = parse("A [1-2] b.")
    assert claim.markers == (Marker("[1-2]", 1, 2, 7), Marker("[1-2]", 2, 2, 7))


@pytest.mark.parametrize(
    ("answer", "quote"),
    [
        ('He said "the sky is blue" [1].', "the sky is blue"),
        ('He said "the sky is blue." [1]', "the sky is blue."),
        ('"Stop," [2] he said.', "Stop,"),
        ('"Stop", [2] he said.', "Stop"),
        ("She wrote \u201cit works\u201d[3].", "it works"),
        ('He said "hello" and left [1].', None),
        ("No quote here [1].", None),
        ('Code `"x" [1]` is not a quote.', None),
        ('He wrote the song " and "Belle" [1].', "Belle"),  # an unmatched mark opens nothing
    ],
)
def test_quotes_followed_by_a_citation(answer: str, quote: str | None) -> None:
    (claim,) = parse(answer)
    assert claim.quote == quote


def test_an_unclosed_quotation_does_not_swallow_the_next_sentence() -> None:
    claims = parse('He wrote the song "Be [1].  He also wrote the song "Belle" [2].')
    assert [(c.refs, c.quote) for c in claims] == [((1,), None), ((2,), "Belle")]


def test_parse_rejects_non_strings() -> None:
    with pytest.raises(CitationError, match=r"answer=b'x' must be a str"):
        parse(b"x")  # type: ignore[arg-type]


def test_claim_of_and_render() -> None:
    claims = [Claim.of("Paris is big.", [1, 2]), Claim.of("Berlin is big.", ["p3"]), Claim.of("No refs.")]
    assert render(claims) == "Paris is big [1][2]. Berlin is big [p3]. No refs."
    assert [(c.text, c.refs) for c in parse(render(claims))] == [(c.text, c.refs) for c in claims]


def test_render_without_final_punctuation_uses_blank_lines() -> None:
    claims = [Claim.of("Paris is big", [1]), Claim.of("Berlin is big", [2])]
    assert render(claims) == "Paris is big [1]\n\nBerlin is big [2]"
    assert [c.refs for c in parse(render(claims))] == [(1,), (2,)]


def test_render_places_markers_after_the_quote() -> None:
    claim = Claim.of('"Stop," he said.', [2], quote="Stop,")
    assert render([claim]) == '"Stop," [2] he said.'
    assert parse(render([claim]))[0].quote == "Stop,"


def test_render_keeps_range_groups() -> None:
    answer = "A is B [1-3]. C is D [1, 2]."
    assert render(parse(answer)) == answer


@pytest.mark.parametrize(
    "answer",
    [
        "Paris is big [1]. Berlin is big [2][3].",
        "Dr. Smith came [p1]. It rained [2].",
        'He said "stop" [1], and left.',
        "- One [1]\n- Two [2]",
        "No citations at all.",
    ],
)
def test_render_parse_round_trip(answer: str) -> None:
    claims = parse(answer)
    again = parse(render(claims))
    assert [(c.text, c.refs, c.quote) for c in again] == [(c.text, c.refs, c.quote) for c in claims]
    assert render(again) == render(claims)


@pytest.mark.parametrize("ref", [-1, True, "has space", "", 1.5, "p1."])
def test_claim_of_rejects_bad_refs(ref: object) -> None:
    with pytest.raises(CitationError, match=r"ref=.* is neither a passage number nor a passage id"):
        Claim.of("x", [ref])  # type: ignore[list-item]


def test_claim_validation_and_with_refs() -> None:
    with pytest.raises(CitationError, match=r"start=5, end=2"):
        Claim("x", 5, 2)
    with pytest.raises(CitationError, match=r"text=3 must be a str"):
        Claim(3)  # type: ignore[arg-type]
    with pytest.raises(CitationError, match=r"markers must be Marker values"):
        Claim("x", markers=(1,))  # type: ignore[arg-type]
    claim = Claim.of("x.", [1]).with_refs(2, "p3")
    assert claim.refs == (2, "p3")


def test_claim_is_frozen_with_readable_repr() -> None:
    (claim,) = parse('He said "hi" [1].')
    assert repr(claim) == "Claim('He said \"hi\".', refs=(1,), start=0, end=17, quote='hi')"
    with pytest.raises(AttributeError):
        claim.text = "y"  # type: ignore[misc]
    assert hash(claim) == hash(parse('He said "hi" [1].')[0])


def test_render_rejects_non_claims() -> None:
    with pytest.raises(CitationError, match=r"render\(\) takes Claim values, got 'x'"):
        render(["x"])  # type: ignore[list-item]


@pytest.mark.parametrize(
    ("answer", "rendered"),
    [
        # A text that opens a code fence or a heading keeps its markers first, so it stays a sentence.
        ("[1]```0", "[1] ```0"),
        ("[p1]#\tX#?", "[p1] # X#?"),
        ("Paris is big [2].\n\n[1]```0", "Paris is big [2].\n\n[1] ```0"),
        # Right after a closing quote (and ',;:'), the markers would cite it as a quotation.
        ('c9bc"\t[2, 3]9Dr."[1-3][2, 3]:', 'c9bc"9Dr. [2, 3][1-3][2, 3]":'),
        ('\u201c e.g.,\u201d\u201d[1] "', '\u201c e.g., [1]\u201d\u201d "'),
    ],
)
def test_parse_render_parse_regressions(answer: str, rendered: str) -> None:
    """Found by parse(render(parse(a))) == parse(a) over arbitrary answers (test_properties_parse)."""
    claims = parse(answer)
    assert render(claims) == rendered
    again = parse(rendered)
    assert [(c.text, c.refs, c.quote) for c in again] == [(c.text, c.refs, c.quote) for c in claims]


def test_markers_are_not_placed_where_they_would_cite_a_quotation() -> None:
    claim = Claim.of('He said "stop":', [1])
    assert render([claim]) == 'He said "stop [1]":'
    assert [(c.text, c.refs, c.quote) for c in parse(render([claim]))] == [('He said "stop":', (1,), None)]


def test_a_text_that_reads_otherwise_alone_is_outside_the_round_trip_promise() -> None:
    # The markers kept "1." from ending a sentence; without them the text "1.1. ." reads as "1.1.".
    (claim,) = parse("[1]1. [1]1. . ")
    assert claim.text == "1.1. ." and [c.text for c in parse(claim.text)] == ["1.1."]
    assert [(c.text, c.refs) for c in parse(render([claim]))] == [("1.1.", (1,))]
