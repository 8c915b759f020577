from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpora import CorpusError, count_tokens, split_text


def _non_space(text: str) -> str:
    return "".join(text.split())


def _words(n: int, word: str = "word") -> str:
    return " ".join(f"{word}{i}" for i in range(n))


def test_blank_text_gives_no_chunks() -> None:
    assert split_text("") == []
    assert split_text(" \n\n\t ") == []


def test_short_text_is_one_chunk_without_surrounding_blank_lines() -> None:
    assert split_text("\n\nHello there.\n  \n") == ["Hello there."]


def test_prefers_paragraph_boundaries() -> None:
    first, second, third = _words(25, "a"), _words(25, "b"), _words(25, "c")
    chunks = split_text(f"{first}\n\n{second}\n\n{third}", max_tokens=110)
    assert chunks == [f"{first}\n\n{second}", third]


def test_long_paragraph_is_cut_after_sentences() -> None:
    sentences = [f"Sentence number {i} says something fairly ordinary." for i in range(30)]
    chunks = split_text(" ".join(sentences), max_tokens=40)
    assert len(chunks) > 1
    assert all(chunk.endswith(".") for chunk in chunks)
    assert all(count_tokens(chunk) <= 40 for chunk in chunks)
    assert " ".join(chunks) == " ".join(sentences)


def test_sentence_too_long_is_cut_between_words() -> None:
    text = _words(200)
    chunks = split_text(text, max_tokens=32)
    assert all(count_tokens(chunk) <= 32 for chunk in chunks)
    assert " ".join(chunks) == text  # every cut fell on a space


def test_word_too_long_is_cut_between_characters() -> None:
    blob = "x9Q" * 500
    chunks = split_text(f"see {blob} here", max_tokens=16)
    assert all(count_tokens(chunk) <= 16 for chunk in chunks)
    assert _non_space("".join(chunks)) == _non_space(f"see {blob} here")


def test_keeps_indentation_of_code() -> None:
    text = "Example:\n\n   if x:\n       y()\n"
    assert split_text(text) == ["Example:\n\n   if x:\n       y()"]


@pytest.mark.parametrize(
    ("max_tokens", "message"),
    [
        (0, r"^max_tokens=0 must be >= 16; chunks that small lose their context \(default 200\)$"),
        (15, r"^max_tokens=15 must be >= 16"),
        (-3, r"^max_tokens=-3 must be >= 16"),
        (True, r"^max_tokens=True must be an int >= 16 \(default 200\)$"),
        ("200", r"^max_tokens='200' must be an int >= 16"),
        (20.0, r"^max_tokens=20.0 must be an int >= 16"),
    ],
)
def test_rejects_bad_max_tokens(max_tokens: object, message: str) -> None:
    with pytest.raises(CorpusError, match=message):
        split_text("text", max_tokens=max_tokens)  # type: ignore[arg-type]


def test_rejects_non_str_text() -> None:
    with pytest.raises(CorpusError, match=r"split_text\(text=None\) needs a str, got NoneType"):
        split_text(None)  # type: ignore[arg-type]


_PIECES = st.sampled_from(
    ["word", "Übergröße", "日本語の文", "x" * 40, "3.14", "e.g.", "<|endoftext|>", "🙂", "def f():", "----"]
)
_SEPARATORS = st.sampled_from([" ", "  ", ". ", "! ", "?\n", "\n", "\n\n", "\n   \n  ", "\t", "", "\r\n"])
_STRUCTURED = st.lists(st.tuples(_PIECES, _SEPARATORS), max_size=120).map(
    lambda pairs: "".join(piece + sep for piece, sep in pairs)
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(st.text(max_size=600), _STRUCTURED), max_tokens=st.integers(16, 80))
def test_chunks_fit_and_lose_no_text(text: str, max_tokens: int) -> None:
    chunks = split_text(text, max_tokens=max_tokens)
    assert all(count_tokens(chunk) <= max_tokens for chunk in chunks)
    assert all(chunk.strip() for chunk in chunks)
    assert _non_space("".join(chunks)) == _non_space(text)
