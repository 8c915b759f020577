"""How text becomes BM25 term ids, the same way for indexing and for queries.

Indexing goes through :class:`bm25s.tokenization.Tokenizer`, which grows the vocabulary.
Queries go through :class:`QueryEncoder`, which reads that vocabulary and never changes it:
bm25s's own ``Tokenizer.tokenize(update_vocab=False)`` still writes to its word caches on every
call (memory that grows with each new query word) and turns an all-stopword query into the
empty-document token, which would match empty passages.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import Stemmer
from bm25s.tokenization import Tokenizer

from refine.errors import UsageError

__all__ = ["TOKEN_PATTERN", "QueryEncoder", "TokenConfig", "make_tokenizer"]

# bm25s's default splitter, pinned here so a saved index keeps its meaning if bm25s changes it.
TOKEN_PATTERN = r"(?u)\b\w\w+\b"

# The token bm25s gives to documents without any word; queries must never produce it.
EMPTY_TOKEN = ""


@dataclass(frozen=True, slots=True)
class TokenConfig:
    """Stemmer, stopwords and splitter: everything that decides which terms a text has.

    ``stopwords`` is a bm25s language name (``"en"``, ``"english"``, ``"de"``, ...), a tuple of
    words, or ``None``; ``stemmer`` is a PyStemmer algorithm name or ``None``.
    """

    stemmer: str | None
    stopwords: str | tuple[str, ...] | None
    token_pattern: str = TOKEN_PATTERN

    @classmethod
    def create(cls, *, stemmer: str | None, stopwords: str | Sequence[str] | None) -> TokenConfig:
        """A checked configuration; raises :class:`UsageError` naming the bad value and the fix."""
        if stemmer is not None:
            algorithms = Stemmer.algorithms()
            if not isinstance(stemmer, str) or stemmer not in algorithms:
                raise UsageError(
                    f"stemmer={stemmer!r} is not a PyStemmer algorithm; use one of "
                    f"{', '.join(algorithms)}, or None to index words unstemmed"
                )
        words: str | tuple[str, ...] | None
        if stopwords is None or isinstance(stopwords, str):
            words = stopwords
            if isinstance(stopwords, str):
                try:
                    _named_stopwords(stopwords)
                except ValueError:
                    raise UsageError(
                        f"stopwords={stopwords!r} is not a known stopword list; use a language such as "
                        "'en', 'de', 'fr', 'es', a list of words, or None to keep every word"
                    ) from None
        else:
            words = tuple(stopwords)
            bad = [word for word in words if not isinstance(word, str)]
            if bad:
                raise UsageError(f"stopwords contains {bad[0]!r}; every stopword must be a str")
        return cls(stemmer=stemmer, stopwords=words)

    def to_json(self) -> dict[str, Any]:
        stopwords = list(self.stopwords) if isinstance(self.stopwords, tuple) else self.stopwords
        return {"stemmer": self.stemmer, "stopwords": stopwords, "token_pattern": self.token_pattern}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TokenConfig:
        """Inverse of :meth:`to_json`; raises ``KeyError``, ``TypeError`` or ``ValueError`` on bad data."""
        pattern = data["token_pattern"]
        if not isinstance(pattern, str):
            raise TypeError(f"token_pattern={pattern!r} must be a str")
        re.compile(pattern)  # re.error is a ValueError
        config = cls.create(stemmer=data["stemmer"], stopwords=data["stopwords"])
        return cls(stemmer=config.stemmer, stopwords=config.stopwords, token_pattern=pattern)


def _named_stopwords(name: str) -> list[str]:
    """bm25s's list for a language name; raises ``ValueError`` for a name it does not know."""
    return list(Tokenizer(stopwords=name).stopwords)


def _stopword_list(config: TokenConfig) -> list[str]:
    if config.stopwords is None:
        return []
    if isinstance(config.stopwords, str):
        return _named_stopwords(config.stopwords)
    return list(config.stopwords)


def make_tokenizer(config: TokenConfig) -> Tokenizer:
    """A fresh bm25s tokenizer for indexing a corpus under ``config``."""
    stemmer = Stemmer.Stemmer(config.stemmer) if config.stemmer is not None else None
    return Tokenizer(lower=True, splitter=config.token_pattern, stopwords=_stopword_list(config), stemmer=stemmer)


class QueryEncoder:
    """Maps a query to the distinct term ids it shares with an index; unknown words are dropped.

    Mirrors ``Tokenizer.streaming_tokenize``: lowercase, split, drop stopwords, stem, look up.
    Safe to call from several threads (PyStemmer objects are not, so stemming takes a lock).
    """

    def __init__(self, config: TokenConfig, vocab: Mapping[str, int]) -> None:
        self._split = re.compile(config.token_pattern).findall
        self._stopwords = frozenset(_stopword_list(config))
        self._stemmer = Stemmer.Stemmer(config.stemmer) if config.stemmer is not None else None
        self._lock = threading.Lock()
        self._vocab = vocab

    def encode(self, text: str) -> list[int]:
        words = [word for word in self._split(text.lower()) if word not in self._stopwords]
        if self._stemmer is not None:
            with self._lock:
                words = self._stemmer.stemWords(words)
        ids: dict[int, None] = {}  # ordered set: a repeated query word counts once
        for word in words:
            term_id = self._vocab.get(word)
            if term_id is not None and word != EMPTY_TOKEN:
                ids[term_id] = None
        return list(ids)
