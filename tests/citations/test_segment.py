from __future__ import annotations

import itertools

import pytest

from citations import parse
from citations._segment import code_spans, fence_spans, sentence_spans, splits_between


def texts(answer: str) -> list[str]:
    return [claim.text for claim in parse(answer)]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("Paris is big. Berlin is big.", ["Paris is big.", "Berlin is big."]),
        ("Is it? Yes! Sure.", ["Is it?", "Yes!", "Sure."]),
        # abbreviations
        ("Use tools, e.g. hammers. Then stop.", ["Use tools, e.g. hammers.", "Then stop."]),
        ("Use tools, e.g. Hammers and saws.", ["Use tools, e.g. Hammers and saws."]),
        ("That is, i.e. the rest. Done.", ["That is, i.e. the rest.", "Done."]),
        ("Dr. Smith arrived. He sat.", ["Dr. Smith arrived.", "He sat."]),
        ("Mr. and Mrs. Jones left.", ["Mr. and Mrs. Jones left."]),
        ("Apples vs. Oranges is a debate.", ["Apples vs. Oranges is a debate."]),
        ("See Fig. 3 for details.", ["See Fig. 3 for details."]),
        ("He lives in the U.S. Army base.", ["He lives in the U.S. Army base."]),
        ("He lives in the U.S. The weather is good.", ["He lives in the U.S.", "The weather is good."]),
        ("John F. Kennedy was president.", ["John F. Kennedy was president."]),
        ("J. R. R. Tolkien wrote it.", ["J. R. R. Tolkien wrote it."]),
        ("Apples, pears, etc. The list goes on.", ["Apples, pears, etc.", "The list goes on."]),
        ("Apples, pears, etc. are fruit.", ["Apples, pears, etc. are fruit."]),
        ("Smith et al. Showed this.", ["Smith et al. Showed this."]),
        ("Founded by Acme Inc. Today it is big.", ["Founded by Acme Inc.", "Today it is big."]),
        ("It opens at 9 a.m. and closes late.", ["It opens at 9 a.m. and closes late."]),
        ("Born Jan. 5 in Ohio.", ["Born Jan. 5 in Ohio."]),
        # numbers
        ("Pi is 3.14 roughly. It is irrational.", ["Pi is 3.14 roughly.", "It is irrational."]),
        ("It cost $1,200.50 in 2010. Prices rose.", ["It cost $1,200.50 in 2010.", "Prices rose."]),
        ("He was born in 1990. He died in 2020.", ["He was born in 1990.", "He died in 2020."]),
        ("Version 2.0.1 fixed it.", ["Version 2.0.1 fixed it."]),
        ("Visit example.com today. Bye.", ["Visit example.com today.", "Bye."]),
        # quotes
        ('He said "Stop. Now." and left. Then it rained.', ['He said "Stop. Now." and left.', "Then it rained."]),
        ('He said "Stop." Then he left.', ['He said "Stop."', "Then he left."]),
        ("She wrote \u201cIt works. Really.\u201d in 2001.", ["She wrote \u201cIt works. Really.\u201d in 2001."]),
        ("(See the appendix.) Next one.", ["(See the appendix.)", "Next one."]),
        # ellipses and lower case
        ("Wait... what happened? Nothing.", ["Wait... what happened?", "Nothing."]),
        ("It is big. and old.", ["It is big. and old."]),
        # lists
        ("- Paris is big\n- Berlin is big", ["Paris is big", "Berlin is big"]),
        ("* one\n* two\n+ three", ["one", "two", "three"]),
        ("\u2022 one\n\u2022 two", ["one", "two"]),
        ("1. First item.\n2. Second item.", ["First item.", "Second item."]),
        ("1) First\n2) Second", ["First", "Second"]),
        ("Steps: 1. Mix. 2. Bake.", ["Steps: 1. Mix.", "Bake."]),
        ("Reasons:\n- cheap\n- fast", ["Reasons:", "cheap", "fast"]),
        ("- item one that\n  continues here.\n- item two", ["item one that continues here.", "item two"]),
        # paragraphs, wrapped lines and headings
        ("First paragraph\n\nSecond paragraph", ["First paragraph", "Second paragraph"]),
        ("A wrapped\nline here.", ["A wrapped line here."]),
        ("# Answer\nParis is big.", ["Paris is big."]),
        ("## Answer\n\nParis is big.\n\n---\n\nMore.", ["Paris is big.", "More."]),
        ("> Quoted block line.", ["Quoted block line."]),
        # code
        ("Call `os.path.join()`. It joins paths.", ["Call `os.path.join()`.", "It joins paths."]),
        ("Use `x. Y` carefully. Done.", ["Use `x. Y` carefully.", "Done."]),
        ("Run this:\n```python\nx = 1. Y\nprint(x)\n```\nIt prints 1.", ["Run this:", "It prints 1."]),
        ("Code:\n~~~\na. B\n~~~\nEnd.", ["Code:", "End."]),
        ("Unclosed:\n```\nA. B", ["Unclosed:"]),
        # degenerate input
        ("", []),
        ("   \n\n  ", []),
        ("...", []),
        ("no punctuation at all", ["no punctuation at all"]),
        ("\u00e9t\u00e9 fini. \u00c9t\u00e9 commence.", ["\u00e9t\u00e9 fini.", "\u00c9t\u00e9 commence."]),
    ],
)
def test_segmentation(answer: str, expected: list[str]) -> None:
    assert texts(answer) == expected


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("Paris is big [1]. Berlin is big [2].", [(1,), (2,)]),
        ("Paris is big.[1] Berlin is big.[2]", [(1,), (2,)]),
        ("Paris is big. [1] Berlin is big. [2]", [(1,), (2,)]),
        ("Paris is big. [1][2] Berlin is big. [3]", [(1, 2), (3,)]),
        ("Paris [1] is big [2]. Berlin is big.", [(1, 2), ()]),
        ("Paris is big.\n\n[1]", [(1,)]),
        ("[1] Paris is big.", [(1,)]),
        ("[1]\n\nParis is big.", [(1,)]),
        ("Dr. [1] Smith came.", [(1,)]),
        ("- Paris [1]\n- Berlin [2]", [(1,), (2,)]),
        ("Use `a[0]` here [1]. Then `b[2]`.", [(1,), ()]),
    ],
)
def test_markers_attach_to_their_sentence(answer: str, expected: list[tuple[object, ...]]) -> None:
    assert [claim.refs for claim in parse(answer)] == expected


def test_sentence_spans_partition_the_text() -> None:
    text = "One. Two [1]!  Three?\n\n- four\n```\ncode. X\n```\nfive"
    spans = sentence_spans(text)
    assert spans[0][0] == 0
    assert spans[-1][1] == len(text)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))


def test_code_spans() -> None:
    text = "a `b.c` d\n```\nx\n```\n"
    assert fence_spans(text) == [(10, 19)]
    assert code_spans(text) == [(2, 7), (10, 19)]


@pytest.mark.parametrize(
    ("left", "right", "splits"),
    [
        ("Paris is big [1].", "Berlin is big.", True),
        ("Paris is big [1]", "Berlin is big.", False),
        ("Paris is big.", "berlin is big.", False),
        ("He met Dr.", "Smith.", False),
        ("", "Anything.", True),
    ],
)
def test_splits_between(left: str, right: str, splits: bool) -> None:
    assert splits_between(left, right) is splits
