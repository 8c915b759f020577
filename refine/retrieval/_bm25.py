"""BM25 search over passages, on bm25s with PyStemmer stemming."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property
from pathlib import Path

import bm25s
import numpy as np

from corpora import Passage, shipped_corpus
from refine._options import check_bool, check_int
from refine._progress import progress, wants_progress
from refine.errors import IndexCorrupt, RuntimeFailure, UsageError
from refine.retrieval._blocks import ScoreGuard
from refine.retrieval._cache import cache_folder, cache_root, index_source
from refine.retrieval._hit import Hit
from refine.retrieval._store import read_index, write_index
from refine.retrieval._tokens import QueryEncoder, TokenConfig, make_tokenizer, named_stopwords

# bm25s sets its logger to DEBUG when imported; a library's logger follows the application's level.
logging.getLogger("bm25s").setLevel(logging.NOTSET)

__all__ = ["BM25Retriever"]

logger = logging.getLogger(__name__)

# Passages tokenized per progress step.
_CHUNK = 1_000


def _document_text(passage: Passage) -> str:
    # The title is indexed with the text, so a query that names the title finds the passage.
    return f"{passage.title}\n{passage.text}" if passage.title else passage.text


def _check_passages(passages: Iterable[Passage]) -> tuple[Passage, ...]:
    if isinstance(passages, (str, bytes)):
        raise UsageError(f"passages must be an iterable of Passage, got a {type(passages).__name__}")
    items = tuple(passages)
    if not items:
        raise UsageError("passages=() is empty; an index needs at least one Passage")
    seen: dict[str, int] = {}
    for position, passage in enumerate(items):
        if not isinstance(passage, Passage):
            raise UsageError(
                f"passages[{position}]={passage!r} is a {type(passage).__name__}, not a Passage; "
                "wrap it with corpora.Passage.create(title, text)"
            )
        if passage.id in seen:
            raise UsageError(
                f"passage id={passage.id!r} appears at positions {seen[passage.id]} and {position}; "
                "ids must be unique so citations are unambiguous; drop duplicates or give them distinct ids"
            )
        seen[passage.id] = position
    return items


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` best positive scores, best first; ties go to the earlier passage."""
    positive = int(np.count_nonzero(scores > 0))
    take = min(k, positive)
    if take == 0:
        return np.empty(0, dtype=np.int64)
    threshold = np.partition(scores, len(scores) - take)[len(scores) - take]
    candidates = np.flatnonzero(scores >= threshold)  # threshold > 0, as take <= positive
    order = np.lexsort((candidates, -scores[candidates]))
    return candidates[order[:take]]


class BM25Retriever:
    """Ranks passages for a query with BM25 over their title and text.

    Build one with :meth:`build` or :meth:`load`; it does not change afterwards, so one retriever
    can serve several threads. Passages that share no term with the query are never returned.
    """

    def __init__(
        self,
        bm25: bm25s.BM25,
        passages: Sequence[Passage],
        config: TokenConfig,
        *,
        mapped_from: Path | None = None,
        guard: ScoreGuard | None = None,
        source: Mapping[str, str] | None = None,
    ) -> None:
        """Internal: use :meth:`build`, :meth:`load` or :meth:`shipped`."""
        self._bm25 = bm25
        self._passages = passages  # a saved index parses a passage when a hit needs it
        self._config = config
        self._encoder = QueryEncoder(config, bm25.vocab_dict)
        self._mapped_from = mapped_from
        self._guard = guard
        self._source = dict(source) if source is not None else None  # the shipped corpus it was built from

    @classmethod
    def build(
        cls,
        passages: Iterable[Passage],
        *,
        stemmer: str | None = "english",
        stopwords: str | Sequence[str] | None = "en",
        keep: Iterable[str] = (),
        show_progress: bool | None = None,
    ) -> BM25Retriever:
        """Index ``passages``.

        ``stemmer`` is a PyStemmer algorithm (or ``None``); ``stopwords`` a bm25s language name, a
        list of words, or ``None``. ``keep`` names words that are never dropped as stopwords, in
        passages or queries: the names a corpus is about (``["with", "in", "is"]`` for Python's
        keywords); the index records them. Progress goes to stderr when ``show_progress`` is true,
        or when it is ``None`` and there are more than 5,000 passages.
        """
        config = TokenConfig.create(stemmer=stemmer, stopwords=stopwords, keep=keep)
        items = _check_passages(passages)
        started = time.perf_counter()
        tokenizer = make_tokenizer(config)
        token_ids: list[list[int]] = []
        with progress(wants_progress(show_progress, len(items))) as add:
            tokenized = add("Tokenizing passages", len(items))
            for start in range(0, len(items), _CHUNK):
                chunk = [_document_text(p) for p in items[start : start + _CHUNK]]
                token_ids.extend(tokenizer.tokenize(chunk, update_vocab=True, show_progress=False, return_as="ids"))
                tokenized(len(chunk))
            indexed = add("Building BM25 index", 1)
            bm25 = bm25s.BM25()
            bm25.index((token_ids, dict(tokenizer.get_vocab_dict())), show_progress=False)
            indexed(1)
        scores = bm25.scores
        logger.info(
            "indexed %d passages (%d terms, %.1f MB of scores) in %.2fs",
            len(items),
            len(bm25.vocab_dict),
            (scores["data"].nbytes + scores["indices"].nbytes + scores["indptr"].nbytes) / 1e6,
            time.perf_counter() - started,
        )
        return cls(bm25, items, config)

    @classmethod
    def load(cls, folder: str | Path, *, mmap: bool = True) -> BM25Retriever:
        """Open an index written by :meth:`save`; ``mmap`` maps its files instead of reading them.

        Raises :class:`refine.errors.IndexCorrupt` for a missing, foreign or damaged folder. With
        ``mmap=True`` the large files are verified block by block as searches read them, so a
        damaged block raises :class:`~refine.errors.IndexCorrupt` from the first :meth:`search`
        that needs it; ``mmap=False`` verifies everything here.
        """
        mmap = check_bool("mmap", mmap)
        path = Path(folder)
        started = time.perf_counter()
        stored = read_index(path, mmap=mmap)
        logger.info(
            "loaded index %s (%d passages, mmap=%s) in %.2fs",
            path,
            len(stored.passages),
            mmap,
            time.perf_counter() - started,
        )
        mapped_from = path.resolve() if mmap else None
        return cls(
            stored.bm25,
            stored.passages,
            stored.config,
            mapped_from=mapped_from,
            guard=stored.scores,
            source=stored.source,
        )

    @classmethod
    def shipped(cls, name: str, *, cache_dir: str | os.PathLike[str] | None = None) -> BM25Retriever:
        """An index of the shipped corpus ``name`` (see :func:`corpora.corpus_names`), cached on disk.

        Built the first time (for ``python-docs``, one to two seconds), saved under ``cache_dir``
        (default ``$REFINE_CACHE_DIR``, else the user cache folder; see
        :mod:`refine.retrieval._cache`) and loaded from there afterwards. A cached index built by
        another Python or another refine, or damaged, is rebuilt. The corpus's own names are
        protected from stopword removal and its question words dropped with the English
        stopwords. A cache folder that cannot be written only costs the rebuild next time.
        """
        corpus = shipped_corpus(name)
        root = cache_root(cache_dir)
        config = TokenConfig.create(
            stemmer="english", stopwords=sorted({*named_stopwords("en"), *corpus.question_words})
        )
        source = index_source(corpus, config)
        folder = cache_folder(root, source)
        started = time.perf_counter()
        cached = _load_cached(folder, source)
        if cached is not None:
            logger.info("loaded %s from the cache %s in %.2fs", name, folder, time.perf_counter() - started)
            return cached
        passages = corpus.load()
        keep = corpus.names(passages)
        built = cls.build(passages, stemmer=config.stemmer, stopwords=config.stopwords, keep=keep)
        retriever = cls(built._bm25, built._passages, built._config, source=source)
        try:
            retriever.save(folder)
        except (OSError, UsageError, RuntimeFailure) as exc:
            logger.warning("could not cache the %s index in %s (%s); it is rebuilt next time", name, folder, exc)
        logger.info("built %s in %.2fs", name, time.perf_counter() - started)
        return retriever

    def save(self, folder: str | Path) -> None:
        """Write the index to ``folder`` (created if needed).

        An index already there is replaced only once the new one is complete: an error or Ctrl-C
        while saving leaves it as it was.
        """
        path = Path(folder)
        if self._mapped_from is not None and path.resolve() == self._mapped_from:
            raise UsageError(
                f"folder='{path}' is the folder this index is memory-mapped from and already holds it; "
                "save to another folder, or load with mmap=False before overwriting it"
            )
        size = write_index(path, self._bm25, self._passages, self._config, source=self._source)
        logger.info("saved index of %d passages to %s (%.1f MB)", len(self._passages), path, size / 1e6)

    def search(self, query: str, k: int = 5) -> tuple[Hit, ...]:
        """The ``k`` passages that best match ``query``, best first.

        Fewer come back when fewer passages share a term with the query; a query with no indexed
        term (empty, only stopwords, only unknown words) returns ``()``.
        """
        if not isinstance(query, str):
            raise UsageError(f"query={query!r} must be a str")
        k = check_int("k", k, minimum=1)
        term_ids = self._encoder.encode(query)
        if not term_ids:
            return ()
        if self._guard is not None:
            self._guard.check(term_ids)  # damaged bytes raise IndexCorrupt before bm25s reads them
        scores = self._bm25.get_scores_from_ids(term_ids)
        return tuple(
            Hit(passage=self._passages[index], score=float(scores[index]), rank=rank)
            for rank, index in enumerate(_top(scores, k).tolist(), start=1)
        )

    @cached_property
    def passages(self) -> tuple[Passage, ...]:
        """The indexed passages, in index order (for a saved index, all parsed on first use)."""
        return tuple(self._passages)

    def __len__(self) -> int:
        return len(self._passages)

    def __repr__(self) -> str:
        stopwords = self._config.stopwords
        shown = f"<{len(stopwords)} words>" if isinstance(stopwords, tuple) and len(stopwords) > 5 else repr(stopwords)
        keep = f", keep={list(self._config.keep)!r}" if self._config.keep else ""
        return (
            f"BM25Retriever(passages={len(self._passages)}, terms={len(self._bm25.vocab_dict)}, "
            f"stemmer={self._config.stemmer!r}, stopwords={shown}{keep})"
        )


def _load_cached(folder: Path, source: Mapping[str, str]) -> BM25Retriever | None:
    """The index cached in ``folder`` if it is there, intact and built from ``source``; else None."""
    if not folder.exists():
        return None
    try:
        retriever = BM25Retriever.load(folder, mmap=False)  # reads and verifies every file now
    except IndexCorrupt as exc:
        logger.warning("the cached index is unusable, rebuilding it: %s", exc)
        return None
    if retriever._source != source:
        logger.warning(
            "the cached index in %s was built from %s, not %s; rebuilding it", folder, retriever._source, source
        )
        return None
    return retriever
