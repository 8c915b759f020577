from __future__ import annotations

import pytest

from citations import match_quote
from citations._quotes import normalise, quote_found
from corpora import Passage

TEXT = "The Eiffel Tower \u2014 completed in 1889 \u2014 was the world's tallest man-made structure."


@pytest.mark.parametrize(
    ("quote", "expected"),
    [
        ("completed in 1889", "exact"),
        ("The Eiffel Tower", "exact"),
        ("the eiffel tower", "normalised"),
        ("completed  in\n1889", "normalised"),
        ("world\u2019s tallest", "normalised"),
        ("man made structure", "normalised"),
        ("tallest man-made structure.", "exact"),
        ("tallest man-made structure!", "normalised"),
        ("The Eiffel Tower ... was the world's tallest", "exact"),
        ("the eiffel tower \u2026 tallest", "normalised"),
        ("tallest ... Eiffel", None),
        ("completed in 1890", None),
        ("tall", None),
        ("Tow", None),
        ("Tower \u2014 completed", "exact"),
        ("\u2014 completed", "exact"),
        ("!!!", "normalised"),
    ],
)
def test_match_quote(quote: str, expected: str | None) -> None:
    assert match_quote(quote, TEXT) == expected


def test_normalise() -> None:
    assert normalise("  The \u201cEiffel\u201d Tower\u2014built  1889! ") == "the eiffel tower built 1889"
    assert normalise("U.S.") == "us"


def test_quote_found_in_any_passage() -> None:
    passages = [Passage.create("a", "nothing here"), Passage.create("b", TEXT)]
    assert quote_found("completed in 1889", passages)
    assert not quote_found("completed in 1889", passages[:1])
    assert not quote_found("anything", [])
