"""One system of ``benchmarks/retrieval.py``, measured alone in this process so memory does not mix.

``benchmarks/retrieval.py`` starts it once per system and step, as

    python benchmarks/_retrieval_worker.py '{"task": "memory", "system": "refine", ...}'

and reads one JSON object from its last line of standard output: the timings, the top ``k``
passage ids of every query (to compare rankings across systems) and the process's peak resident
set (``ru_maxrss``), with the peak it had already reached before building or loading
(``baseline_rss_mb``: the interpreter, the imports and the passages or queries in memory).

Tasks: ``memory`` builds an index of HotpotQA's pooled paragraphs in memory and queries it with
the questions; ``build`` generates the synthetic corpus, builds and saves an index; ``load``
loads a saved index with ``mmap=True`` and queries it with generated queries.

Every system tokenizes the same way, the way ``BM25Retriever.build`` does by default: lowercase,
bm25s's splitter ``(?u)\\b\\w\\w+\\b``, bm25s's English stopwords, PyStemmer's English stemmer; a
passage is indexed as ``title + "\\n" + text``. bm25s and rank_bm25 are called the way their
READMEs show: ``bm25s.tokenize`` then ``BM25.retrieve``; ``BM25Okapi.get_scores`` then the
``argsort`` of ``get_top_n``.
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import bm25s
import numpy as np
import Stemmer

import corpora
from corpora import Passage
from refine.retrieval import BM25Retriever

CONSONANTS = "bdfgklmnprstvz"
VOWELS = "aeiou"
# Passages generated per batch of random draws: bounds the draws' memory, whatever the count.
_CHUNK = 100_000
# The commonest synthetic words act as stopwords; queries leave them out, as people's do.
_QUERY_MIN_RANK = 100


def peak_rss_mb() -> float:
    """The peak resident set of this process so far, in MB (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1e6 if sys.platform == "darwin" else peak * 1024 / 1e6


# --- the synthetic corpus ------------------------------------------------------------------------


def word(rank: int) -> str:
    """A pronounceable made-up word, distinct for every rank (at least two syllables)."""
    syllables = [c + v for c in CONSONANTS for v in VOWELS]
    digits, value = [], rank + len(syllables)
    while value:
        value, digit = divmod(value, len(syllables))
        digits.append(syllables[digit])
    return "".join(digits)


def _zipf(vocabulary: int, first: int = 0) -> np.ndarray:
    weights = 1.0 / (np.arange(first, vocabulary) + 2.7)
    return weights / weights.sum()


def synthetic_passages(count: int, *, seed: int, vocabulary: int) -> list[Passage]:
    """``count`` passages of 20 to 100 words (titles of 1 to 3), Zipf-like over ``vocabulary`` words.

    The same corpus shape as ``benchmarks/index_load.py``; deterministic for a seed and a count.
    """
    rng = np.random.default_rng(seed)
    words = np.array([word(rank) for rank in range(vocabulary)], dtype=object)
    p = _zipf(vocabulary)
    passages: list[Passage] = []
    for start in range(0, count, _CHUNK):
        size = min(_CHUNK, count - start)
        lengths = rng.integers(20, 101, size=size)
        titles = rng.integers(1, 4, size=size)
        drawn = words[rng.choice(vocabulary, size=int(lengths.sum() + titles.sum()), p=p)].tolist()
        position = 0
        for offset in range(size):
            title_end = position + int(titles[offset])
            text_end = title_end + int(lengths[offset])
            title = " ".join(drawn[position:title_end]).capitalize()
            text = " ".join(drawn[title_end:text_end]).capitalize() + "."
            position = text_end
            passages.append(Passage(id=f"p{start + offset}", title=title, text=text))
    return passages


def synthetic_queries(count: int, *, seed: int, vocabulary: int) -> list[str]:
    """``count`` queries of 2 to 5 distinct words, Zipf-like over the words below the commonest 100.

    Distinct, because refine counts a repeated query word once and bm25s once per occurrence:
    with none, the two rank the same passages (up to ties).
    """
    rng = np.random.default_rng(seed + 1_000_003)  # not the corpus's stream
    first = min(_QUERY_MIN_RANK, vocabulary - 5)
    ranks, p = np.arange(first, vocabulary), _zipf(vocabulary, first)
    lengths = rng.integers(2, 6, size=count)
    return [
        " ".join(word(int(rank)) for rank in rng.choice(ranks, size=int(length), replace=False, p=p)) + "?"
        for length in lengths
    ]


# --- the systems ---------------------------------------------------------------------------------


def document_text(passage: Passage) -> str:
    """What every system indexes for a passage: what ``BM25Retriever`` indexes."""
    return f"{passage.title}\n{passage.text}" if passage.title else passage.text


class System(Protocol):
    batch: bool  # whether it has a call for many queries at once

    def build(self, passages: Sequence[Passage]) -> None: ...
    def save(self, folder: Path) -> None: ...
    def load(self, folder: Path) -> None: ...
    def search(self, query: str, k: int) -> list[str]: ...
    def search_batch(self, queries: Sequence[str], k: int) -> list[list[str]]: ...


class Refine:
    """refine's ``BM25Retriever``, with its defaults (English stemmer and stopwords)."""

    batch = False

    def __init__(self) -> None:
        self._retriever: BM25Retriever | None = None

    @property
    def retriever(self) -> BM25Retriever:
        if self._retriever is None:
            raise RuntimeError("build or load the index first")
        return self._retriever

    def build(self, passages: Sequence[Passage]) -> None:
        self._retriever = BM25Retriever.build(passages, show_progress=False)

    def save(self, folder: Path) -> None:
        self.retriever.save(folder)

    def load(self, folder: Path) -> None:
        self._retriever = BM25Retriever.load(folder, mmap=True)

    def search(self, query: str, k: int) -> list[str]:
        return [hit.passage.id for hit in self.retriever.search(query, k=k)]

    def search_batch(self, queries: Sequence[str], k: int) -> list[list[str]]:
        raise NotImplementedError("BM25Retriever has no batch search")


class RawBM25S:
    """bm25s alone: ``bm25s.tokenize`` with the same stopwords and stemmer, ``BM25.index``, ``retrieve``.

    Built in memory it maps result indices to the passages itself; saved, it saves the passages as
    its corpus (``{"id", "title", "text"}`` per line) and loads them memory-mapped with the index.
    """

    batch = True

    def __init__(self) -> None:
        self._stemmer = Stemmer.Stemmer("english")
        self._bm25: bm25s.BM25 | None = None
        self._corpus: Sequence[Any] = ()

    def _tokenize(self, texts: list[str]) -> Any:
        return bm25s.tokenize(texts, stopwords="en", stemmer=self._stemmer, show_progress=False)

    @property
    def bm25(self) -> bm25s.BM25:
        if self._bm25 is None:
            raise RuntimeError("build or load the index first")
        return self._bm25

    def build(self, passages: Sequence[Passage]) -> None:
        bm25 = bm25s.BM25()
        bm25.index(self._tokenize([document_text(p) for p in passages]), show_progress=False)
        self._bm25 = bm25
        self._corpus = [{"id": p.id, "title": p.title, "text": p.text} for p in passages]

    def save(self, folder: Path) -> None:
        self.bm25.save(folder, corpus=self._corpus, show_progress=False)

    def load(self, folder: Path) -> None:
        self._bm25 = bm25s.BM25.load(folder, mmap=True, load_corpus=True, show_progress=False)
        self._corpus = self._bm25.corpus

    def _ids(self, documents: Any, scores: Any) -> list[list[str]]:
        # Zero scores are documents without a query term; refine never returns those.
        return [
            [doc["id"] for doc, score in zip(row, row_scores, strict=True) if score > 0]
            for row, row_scores in zip(documents, scores, strict=True)
        ]

    def search(self, query: str, k: int) -> list[str]:
        return self.search_batch([query], k)[0]

    def search_batch(self, queries: Sequence[str], k: int) -> list[list[str]]:
        documents, scores = self.bm25.retrieve(
            self._tokenize(list(queries)), corpus=self._corpus, k=k, show_progress=False
        )
        return self._ids(documents, scores)


class RankBM25:
    """rank_bm25's ``BM25Okapi`` (k1=1.5, b=0.75, as bm25s), over the same tokens; in memory only."""

    batch = False

    def __init__(self) -> None:
        from rank_bm25 import BM25Okapi  # optional: the parent runs this system only where it imports

        self._okapi = BM25Okapi
        self._stemmer = Stemmer.Stemmer("english")
        self._index: Any = None
        self._ids: list[str] = []

    def _tokenize(self, texts: list[str]) -> list[list[str]]:
        tokens: list[list[str]] = bm25s.tokenize(
            texts, stopwords="en", stemmer=self._stemmer, return_ids=False, show_progress=False
        )
        return tokens

    def build(self, passages: Sequence[Passage]) -> None:
        self._index = self._okapi(self._tokenize([document_text(p) for p in passages]), k1=1.5, b=0.75)
        self._ids = [p.id for p in passages]

    def save(self, folder: Path) -> None:
        raise NotImplementedError("rank_bm25 has no save")

    def load(self, folder: Path) -> None:
        raise NotImplementedError("rank_bm25 has no load")

    def search(self, query: str, k: int) -> list[str]:
        # What get_top_n does, keeping the scores to drop passages without a query term.
        scores = self._index.get_scores(self._tokenize([query])[0])
        return [self._ids[i] for i in np.argsort(scores)[::-1][:k].tolist() if scores[i] > 0]

    def search_batch(self, queries: Sequence[str], k: int) -> list[list[str]]:
        raise NotImplementedError("rank_bm25 has no batch search")


SYSTEMS: dict[str, Callable[[], System]] = {"refine": Refine, "bm25s": RawBM25S, "rank_bm25": RankBM25}


# --- measuring -----------------------------------------------------------------------------------


def _timed(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def _one_by_one(system: System, queries: Sequence[str], k: int) -> list[list[str]]:
    return [system.search(query, k) for query in queries]


def _query(system: System, queries: Sequence[str], k: int, repeat: int) -> dict[str, Any]:
    """Queries per second over ``repeat`` passes, one query at a time and (where offered) in one batch."""
    top: list[list[str]] = []

    def single() -> None:
        nonlocal top
        top = _one_by_one(system, queries, k)

    passes = [_timed(single) for _ in range(repeat)]
    result: dict[str, Any] = {"qps": len(queries) / statistics.median(passes), "top": top, "batch_qps": None}
    result["repeat"] = repeat
    if system.batch:
        batches = [_timed(lambda: system.search_batch(queries, k)) for _ in range(repeat)]
        result["batch_qps"] = len(queries) / statistics.median(batches)
    return result


def task_memory(system: System, spec: dict[str, Any]) -> dict[str, Any]:
    """HotpotQA's pooled paragraphs: build in memory, one untimed pass, then the timed passes."""
    dataset = corpora.load_hotpotqa(spec["data"], limit=spec.get("limit"))
    queries = [example.question for example in dataset.examples]
    baseline = peak_rss_mb()
    build_s = _timed(lambda: system.build(dataset.passages))
    _one_by_one(system, queries, spec["k"])  # warm: first calls, caches
    return {
        "passages": len(dataset.passages),
        "queries": len(queries),
        "baseline_rss_mb": baseline,
        "build_s": build_s,
        **_query(system, queries, spec["k"], spec["repeat"]),
    }


def task_build(system: System, spec: dict[str, Any]) -> dict[str, Any]:
    """The synthetic corpus: generate it, then build and save the index (both timed)."""
    started = time.perf_counter()
    passages = synthetic_passages(spec["passages"], seed=spec["seed"], vocabulary=spec["vocabulary"])
    generate_s = time.perf_counter() - started
    baseline = peak_rss_mb()
    build_s = _timed(lambda: system.build(passages))
    save_s = _timed(lambda: system.save(Path(spec["folder"])))
    return {
        "passages": len(passages),
        "generate_s": generate_s,
        "baseline_rss_mb": baseline,
        "build_s": build_s,
        "save_s": save_s,
    }


def task_load(system: System, spec: dict[str, Any]) -> dict[str, Any]:
    """A saved synthetic index: load it memory-mapped, a first pass over the queries, then warm passes."""
    queries = synthetic_queries(spec["queries"], seed=spec["seed"], vocabulary=spec["vocabulary"])
    baseline = peak_rss_mb()
    load_s = _timed(lambda: system.load(Path(spec["folder"])))
    first_s = _timed(lambda: _one_by_one(system, queries, spec["k"]))  # pages in, verifies blocks
    return {
        "queries": len(queries),
        "baseline_rss_mb": baseline,
        "load_s": load_s,
        "qps_first": len(queries) / first_s,
        **_query(system, queries, spec["k"], spec["repeat"]),
    }


TASKS: dict[str, Callable[[System, dict[str, Any]], dict[str, Any]]] = {
    "memory": task_memory,
    "build": task_build,
    "load": task_load,
}


def main(argv: Sequence[str]) -> int:
    spec = json.loads(argv[1])
    result = TASKS[spec["task"]](SYSTEMS[spec["system"]](), spec)
    result["peak_rss_mb"] = peak_rss_mb()
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
