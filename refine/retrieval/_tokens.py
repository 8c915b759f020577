"""How text becomes BM25 term ids, the same way for indexing and for queries.

Indexing goes through :class:`bm25s.tokenization.Tokenizer`, which grows the vocabulary.
Queries go through :class:`QueryEncoder`, which reads that vocabulary and never changes it:
bm25s's own ``Tokenizer.tokenize(update_vocab=False)`` still writes to its word caches on every
call (memory that grows with each new query word) and turns an all-stopword query into the
empty-document token, which would match empty passages.

Stopwords are dropped at indexing and in queries, except the *protected* words of
``TokenConfig.keep``: the names a corpus is about (for ``python-docs``, Python's keywords and its
topic and module names: ``with``, ``in``, ``is``), which an English stopword list would remove.
They are data, recorded with the index, so a saved index answers queries the way it was built.
A query whose every word is a stopword keeps its words (they still match only what was indexed).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import Stemmer
from bm25s.tokenization import Tokenizer

from refine.errors import UsageError

__all__ = ["TOKEN_PATTERN", "QueryEncoder", "TokenConfig", "make_tokenizer", "named_stopwords"]

# bm25s's default splitter, pinned here so a saved index keeps its meaning if bm25s changes it.
TOKEN_PATTERN = r"(?u)\b\w\w+\b"

# The token bm25s gives to documents without any word; queries must never produce it.
EMPTY_TOKEN = ""


@dataclass(frozen=True, slots=True)
class TokenConfig:
    """Stemmer, stopwords, protected words and splitter: everything that decides which terms a text has.

    ``stopwords`` is a bm25s language name (``"en"``, ``"english"``, ``"de"``, ...), a tuple of
    words, or ``None``; ``stemmer`` is a PyStemmer algorithm name or ``None``. ``keep`` holds the
    stopwords that are *not* dropped (sorted, lowercase; words that are no stopword are left out,
    as keeping them changes nothing).
    """

    stemmer: str | None
    stopwords: str | tuple[str, ...] | None
    token_pattern: str = TOKEN_PATTERN
    keep: tuple[str, ...] = ()

    @classmethod
    def create(
        cls,
        *,
        stemmer: str | None,
        stopwords: str | Sequence[str] | None,
        keep: Iterable[str] = (),
        token_pattern: str = TOKEN_PATTERN,
    ) -> TokenConfig:
        """A checked configuration; raises :class:`UsageError` naming the bad value and the fix.

        ``keep`` is any iterable of names (``"os.path"`` protects ``os`` and ``path``); each word the
        token pattern finds in them, lowercased, survives stopword removal.
        """
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
                    named_stopwords(stopwords)
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
        config = cls(stemmer=stemmer, stopwords=words, token_pattern=token_pattern)
        return cls(stemmer=stemmer, stopwords=words, token_pattern=token_pattern, keep=_protected(config, keep))

    def to_json(self) -> dict[str, Any]:
        stopwords = list(self.stopwords) if isinstance(self.stopwords, tuple) else self.stopwords
        return {
            "stemmer": self.stemmer,
            "stopwords": stopwords,
            "keep": list(self.keep),
            "token_pattern": self.token_pattern,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TokenConfig:
        """Inverse of :meth:`to_json`; raises ``KeyError``, ``TypeError`` or ``ValueError`` on bad data.

        A manifest written before protected words existed has no ``keep``: nothing was protected.
        """
        pattern = data["token_pattern"]
        if not isinstance(pattern, str):
            raise TypeError(f"token_pattern={pattern!r} must be a str")
        re.compile(pattern)  # re.error is a ValueError
        keep = data.get("keep", [])
        if not isinstance(keep, list) or not all(isinstance(word, str) for word in keep):
            raise TypeError(f"keep={keep!r} must be a list of words")
        config = cls.create(stemmer=data["stemmer"], stopwords=data["stopwords"])
        # As written: the words protected when the index was built, whatever the stopword list is now.
        return cls(stemmer=config.stemmer, stopwords=config.stopwords, token_pattern=pattern, keep=tuple(keep))


def _protected(config: TokenConfig, keep: Iterable[str]) -> tuple[str, ...]:
    if isinstance(keep, (str, bytes)):
        raise UsageError(f"keep={keep!r} is a single {type(keep).__name__}; pass a list of words, such as [{keep!r}]")
    split = re.compile(config.token_pattern).findall
    words: set[str] = set()
    for item in keep:
        if not isinstance(item, str):
            raise UsageError(f"keep contains {item!r}; every protected word must be a str")
        words.update(split(item.lower()))
    return tuple(sorted(words.intersection(_stopword_list(config))))


def named_stopwords(name: str) -> list[str]:
    """bm25s's list for a language name; raises ``ValueError`` for a name it does not know."""
    return list(Tokenizer(stopwords=name).stopwords)


def _stopword_list(config: TokenConfig) -> list[str]:
    """The stopwords of ``config`` as given, protected words included."""
    if config.stopwords is None:
        return []
    if isinstance(config.stopwords, str):
        return named_stopwords(config.stopwords)
    return list(config.stopwords)


def _dropped(config: TokenConfig) -> list[str]:
    """The words that are dropped: the stopwords that are not protected."""
    keep = frozenset(config.keep)
    return [word for word in _stopword_list(config) if word not in keep]


def make_tokenizer(config: TokenConfig) -> Tokenizer:
    """A fresh bm25s tokenizer for indexing a corpus under ``config``."""
    stemmer = Stemmer.Stemmer(config.stemmer) if config.stemmer is not None else None
    return Tokenizer(lower=True, splitter=config.token_pattern, stopwords=_dropped(config), stemmer=stemmer)


class QueryEncoder:
    """Maps a query to the distinct term ids it shares with an index; unknown words are dropped.

    Mirrors ``Tokenizer.streaming_tokenize``: lowercase, split, drop stopwords (not the protected
    ones), stem, look up. A query made only of stopwords keeps them all, so it finds what they
    match among the indexed words instead of nothing. Safe to call from several threads
    (PyStemmer objects are not, so stemming takes a lock).
    """

    def __init__(self, config: TokenConfig, vocab: Mapping[str, int]) -> None:
        self._split = re.compile(config.token_pattern).findall
        self._stopwords = frozenset(_dropped(config))
        self._stemmer = Stemmer.Stemmer(config.stemmer) if config.stemmer is not None else None
        self._lock = threading.Lock()
        self._vocab = vocab

    def encode(self, text: str) -> list[int]:
        words = self.words(text)
        if self._stemmer is not None:
            with self._lock:
                words = self._stemmer.stemWords(words)
        ids: dict[int, None] = {}  # ordered set: a repeated query word counts once
        for word in words:
            term_id = self._vocab.get(word)
            if term_id is not None and word != EMPTY_TOKEN:
                ids[term_id] = None
        return list(ids)

    def words(self, text: str) -> list[str]:
        """The words of ``text`` that are searched for, before stemming."""
        words = self._split(text.lower())
        kept = [word for word in words if word not in self._stopwords]
        return kept or words
