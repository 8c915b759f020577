"""How long a saved BM25 index takes to load (verified) and to answer its first query.

Passages are synthetic and deterministic for a ``--seed``: 20 to 100 words (60 on average) drawn
from a Zipf-like distribution over ``--vocabulary`` made-up words, and a title of 1 to 3 words.
The index is built and saved once, then loaded ``--repeat`` times with ``mmap=True`` (what
``refine ask --corpus DIR`` does); after each load one query runs, and that first query pays for
the pages and the block digests it touches. Reported: the time to generate, build and save; the
size of each file; the load and first-query times; a warm query; a load with ``mmap=False``, which
verifies every block; and what hashing every file with blake2b and sha256 would add to a load.

    python benchmarks/index_load.py [--passages 1000000] [--seed 0] [--dir DIR] [--repeat 3]

Without ``--dir`` the index goes to a temporary folder and is deleted afterwards; with it, the
index is kept in ``DIR/index-<passages>-<seed>-<vocabulary>`` and reused by the next run with the same
arguments, so only loading is measured again. Files are in the page cache when they are loaded:
these are warm-cache numbers.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import TypeVar

import numpy as np
from rich.console import Console
from rich.table import Table

from corpora import Passage
from refine.errors import IndexCorrupt
from refine.retrieval import BM25Retriever

T = TypeVar("T")
CONSONANTS = "bdfgklmnprstvz"
VOWELS = "aeiou"
# Query words by frequency rank: very common, common, rare.
QUERY_RANKS = ((3, 200, 20_000), (10, 1_000), (50, 5_000, 40_000))


def word(rank: int) -> str:
    """A pronounceable made-up word, distinct for every rank."""
    syllables = [c + v for c in CONSONANTS for v in VOWELS]
    digits, value = [], rank + len(syllables)
    while value:
        value, digit = divmod(value, len(syllables))
        digits.append(syllables[digit])
    return "".join(digits)


def synthetic_passages(count: int, *, seed: int, vocabulary: int) -> Iterator[Passage]:
    rng = np.random.default_rng(seed)
    weights = 1.0 / (np.arange(vocabulary) + 2.7)
    words = np.array([word(rank) for rank in range(vocabulary)], dtype=object)
    lengths = rng.integers(20, 101, size=count)
    title_lengths = rng.integers(1, 4, size=count)
    draws = rng.choice(vocabulary, size=int(lengths.sum() + title_lengths.sum()), p=weights / weights.sum())
    position = 0
    for number in range(count):
        title_end = position + int(title_lengths[number])
        text_end = title_end + int(lengths[number])
        title = " ".join(words[draws[position:title_end]]).capitalize()
        text = " ".join(words[draws[title_end:text_end]]).capitalize() + "."
        position = text_end
        yield Passage(id=f"p{number}", title=title, text=text)


def timed(call: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    result = call()
    return result, time.perf_counter() - started


def hash_every_file(folder: Path, algorithm: str) -> float:
    """Seconds to hash every file of ``folder`` in 1 MiB reads: the cost of verifying all of it eagerly."""
    started = time.perf_counter()
    buffer = memoryview(bytearray(1 << 20))
    for path in sorted(folder.iterdir()):
        digest = hashlib.new(algorithm)
        with path.open("rb", buffering=0) as file:
            while read := file.readinto(buffer):
                digest.update(buffer[:read])
    return time.perf_counter() - started


def open_or_build(folder: Path, args: argparse.Namespace, table: Table) -> None:
    try:
        if len(BM25Retriever.load(folder)) == args.passages:
            table.add_row("build", "reused", str(folder))
            return
    except IndexCorrupt as exc:
        if folder.exists():
            logging.getLogger("index_load").warning("rebuilding: %s", exc)
    passages, seconds = timed(
        lambda: tuple(synthetic_passages(args.passages, seed=args.seed, vocabulary=args.vocabulary))
    )
    table.add_row("generate passages", f"{seconds:.2f} s", f"{args.passages:,} passages, seed {args.seed}")
    retriever, seconds = timed(lambda: BM25Retriever.build(passages))
    table.add_row("build", f"{seconds:.2f} s", repr(retriever))
    _, seconds = timed(lambda: retriever.save(folder))
    table.add_row("save", f"{seconds:.2f} s", "write to a temporary folder, then swap it in")


def measure(folder: Path, args: argparse.Namespace, table: Table) -> None:
    sizes = {path.name: path.stat().st_size for path in sorted(folder.iterdir())}
    for name, size in sizes.items():
        table.add_row(f"  {name}", f"{size / 1e6:,.1f} MB", "")
    table.add_row("index on disk", f"{sum(sizes.values()) / 1e6:,.1f} MB", f"{len(sizes)} files")
    queries = [" ".join(word(rank) for rank in ranks) for ranks in QUERY_RANKS]
    loads, firsts = [], []
    for attempt in range(args.repeat):
        retriever, seconds = timed(lambda: BM25Retriever.load(folder, mmap=True))
        loads.append(seconds)
        firsts.append(timed(partial(retriever.search, queries[attempt % len(queries)], k=5))[1])
    table.add_row(
        "load, mmap=True",
        f"{min(loads):.3f} s",
        "verifies manifest, sizes, small files; all runs: " + ", ".join(f"{s:.3f}" for s in loads),
    )
    table.add_row(
        "first query after load",
        f"{min(firsts) * 1e3:.1f} ms",
        "verifies the blocks it reads; all runs: " + ", ".join(f"{s * 1e3:.1f}" for s in firsts),
    )
    warm = [timed(partial(retriever.search, query, k=5))[1] for query in queries * 5]
    table.add_row("warm query", f"{statistics.median(warm) * 1e3:.1f} ms", f"median of {len(warm)}")
    if not args.skip_full:
        _, seconds = timed(lambda: BM25Retriever.load(folder, mmap=False))
        table.add_row("load, mmap=False", f"{seconds:.3f} s", "reads and verifies every block")
        for algorithm in ("blake2b", "sha256"):
            seconds = hash_every_file(folder, algorithm)
            mb_per_s = sum(sizes.values()) / seconds / 1e6
            table.add_row(f"hash every file, {algorithm}", f"{seconds:.3f} s", f"{mb_per_s:,.0f} MB/s, one thread")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--passages", type=int, default=1_000_000, help="passages to index (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic corpus (default: %(default)s)")
    parser.add_argument("--vocabulary", type=int, default=100_000, help="distinct words (default: %(default)s)")
    parser.add_argument("--dir", type=Path, default=None, help="keep the index under this folder and reuse it")
    parser.add_argument("--repeat", type=int, default=3, help="loads to time (default: %(default)s)")
    parser.add_argument("--skip-full", action="store_true", help="skip the mmap=False load and the full hashes")
    args = parser.parse_args(argv)
    if args.passages < 1 or args.repeat < 1 or args.vocabulary < 1:
        parser.error(f"--passages={args.passages}, --repeat={args.repeat}, --vocabulary={args.vocabulary} must be >= 1")
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    table = Table(title=f"Index load, {args.passages:,} synthetic passages")
    for column in ("step", "time / size", "notes"):
        table.add_column(column)
    with tempfile.TemporaryDirectory(prefix="refine-index-load-") as scratch:
        root = args.dir if args.dir is not None else Path(scratch)
        folder = root / f"index-{args.passages}-{args.seed}-{args.vocabulary}"
        open_or_build(folder, args, table)
        measure(folder, args, table)
    Console(width=140).print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
