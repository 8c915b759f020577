from __future__ import annotations

import pytest

from citations._markers import MAX_RANGE, Marker, find_markers, format_group, marker_spans, parse_group


@pytest.mark.parametrize(
    ("content", "refs"),
    [
        ("1", (1,)),
        ("12", (12,)),
        ("1, 2", (1, 2)),
        ("1,2", (1, 2)),
        ("1; 2", (1, 2)),
        ("1-3", (1, 2, 3)),
        ("1 - 3", (1, 2, 3)),
        ("1\u20133", (1, 2, 3)),
        ("1, 3-4", (1, 3, 4)),
        ("p12", ("p12",)),
        ("p1, p2", ("p1", "p2")),
        ("python-docs:nonlocal#0", ("python-docs:nonlocal#0",)),
        ("doc_3.txt", ("doc_3.txt",)),
        ("1, p3", (1, "p3")),
        (" 2 ", (2,)),
        ("a", ("a",)),
    ],
)
def test_parse_group_accepts(content: str, refs: tuple[object, ...]) -> None:
    assert parse_group(content) == refs


@pytest.mark.parametrize(
    "content",
    ["", " ", "citation needed", "see above", "sic", "x", "X", "3-1", f"1-{MAX_RANGE + 1}", "1,", "p1.", "12345", "-"],
)
def test_parse_group_rejects(content: str) -> None:
    assert parse_group(content) is None


def test_find_markers_offsets_and_groups() -> None:
    text = "A [1][2] b [3-4] c [p7]."
    markers = list(find_markers(text))
    assert [m.ref for m in markers] == [1, 2, 3, 4, "p7"]
    for marker in markers:
        assert text[marker.start : marker.end] == marker.raw
    assert markers[2].raw == markers[3].raw == "[3-4]"


@pytest.mark.parametrize(
    "text",
    [
        "see [the docs](https://example.com)",
        "[1]: https://example.com",
        "  [2]: https://example.com",
        "[citation needed]",
        "x[sic] y",
    ],
)
def test_find_markers_ignores_non_citations(text: str) -> None:
    assert list(find_markers(text)) == []


def test_find_markers_skips_protected_spans() -> None:
    text = "use `a[0]` here [1]"
    protected = [(4, 10)]
    assert [m.ref for m in find_markers(text, protected)] == [1]


@pytest.mark.parametrize(
    ("text", "spans"),
    [
        ("cite [7]. Then [1][2], [1-3] and [p1]", [(5, 8), (15, 18), (18, 21), (23, 28), (33, 37)]),
        # Not markers here, but they cite once copied into an answer, as a quote is.
        ("see [1](https://x.org)", [(4, 7)]),
        ("[1]: https://x.org", [(0, 3)]),
        ("`a[0]`", [(2, 5)]),
        # Never markers.
        ("\u30101\u3011 [sic] [see above] [x] [1\n]", []),
    ],
)
def test_marker_spans_are_brackets_that_cite_in_some_context(text: str, spans: list[tuple[int, int]]) -> None:
    assert marker_spans(text) == spans
    assert {(m.start, m.end) for m in find_markers(text)} <= set(spans)


def test_format_group_keeps_raw_groups_and_canonicalises_others() -> None:
    group = [Marker("[1-3]", ref, 5, 10) for ref in (1, 2, 3)]
    assert format_group(group) == "[1-3]"
    assert format_group(group[:2]) == "[1][2]"
    assert format_group([Marker("[1]", 1, 0, 0), Marker("[p2]", "p2", 0, 0)]) == "[1][p2]"
    assert format_group([]) == ""


def test_marker_repr_is_readable() -> None:
    assert repr(Marker("[1]", 1, 3, 6)) == "Marker('[1]', ref=1, start=3, end=6)"
