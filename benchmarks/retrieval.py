"""Index build time, peak memory and queries per second: ``BM25Retriever`` beside raw bm25s and rank_bm25 (issue 17).

Two corpora. **HotpotQA**: the pooled paragraphs of dev397 (3,852), queried with its 397 questions;
each system builds its index in memory (rank_bm25 runs here only: it scores in Python, too slow
for a large corpus). **Synthetic**: ``--passages`` generated passages (default one million, seeded,
Zipf-like over 100,000 made-up words; the shape of ``benchmarks/index_load.py``), queried with
``--queries`` generated queries of 2 to 5 words; refine and raw bm25s each build and save an
index once (refine's folder; bm25s's ``save`` with the passages as its corpus), then load it with
``mmap=True`` and are queried after the load.

Every system is measured in its own process (``benchmarks/_retrieval_worker.py``, which says how
each one is called), so each peak RSS is that system's alone: ``ru_maxrss`` of the process, the
interpreter and the passages in memory included (``baseline_rss_mb`` is the peak before the
build or load; memory-mapped pages that queries touch count too). All tokenize alike, as
``BM25Retriever`` does by default: lowercase, ``(?u)\\b\\w\\w+\\b``, bm25s's English stopwords,
PyStemmer's English stemmer, title and text indexed together; k=5 everywhere.

Reported per system: build s (save s), load s, queries/s one query at a time (the median of
``--repeat`` passes over the queries, after one untimed pass in memory, or after the first pass
following a load, reported apart as ``qps first``: it pages the index in and, for refine,
verifies the blocks it reads), bm25s's batch ``retrieve`` of all queries at once (refine has no
batch call), peak RSS, and the share of each top-k that raw bm25s returns too (``same top-k``;
below 1 on HotpotQA because refine counts a repeated query word once and bm25s once per
occurrence, which changes the ranking of the questions that repeat one; the generated queries
repeat none). Ratios are from this one run. The targets: refine's queries/s at least 0.9x raw bm25s's, and its load of
a saved one-million-passage index under 2 s; the table is followed by whether they are met and
by every comparison refine loses.

    python benchmarks/retrieval.py [--data DIR] [--passages 1000000] [--queries 500] [--repeat 3] [--quick] [--out FILE]

``--quick`` runs small sizes in a few seconds (a CI smoke run) and writes no results unless
``--out`` is given; otherwise rows are appended to ``benchmarks/results/retrieval.jsonl``.
HotpotQA is read from ``DIR/hotpotqa/dev397.jsonl`` (default ``$REFINE_DATA``, else
``../shared/data``) and skipped, with a note, when it is not there. The full run takes about ten
minutes on two cores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import importlib.util
import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
WORKER = Path(__file__).resolve().parent / "_retrieval_worker.py"
DEFAULT_DATA = Path(os.environ.get("REFINE_DATA", ROOT.parent / "shared" / "data"))
RESULTS = ROOT / "benchmarks" / "results" / "retrieval.jsonl"
HOTPOTQA = Path("hotpotqa") / "dev397.jsonl"
TOKENIZER = "lowercase, (?u)\\b\\w\\w+\\b, bm25s 'en' stopwords, PyStemmer english; title + text"
K = 5
QPS_TARGET = 0.9
LOAD_TARGET_S = 2.0
LOAD_TARGET_PASSAGES = 1_000_000


@dataclass(frozen=True, slots=True)
class Sizes:
    hotpotqa_limit: int | None  # questions of dev397 whose paragraphs are pooled; None for all
    passages: int
    queries: int
    vocabulary: int
    repeat: int


FULL = Sizes(hotpotqa_limit=None, passages=1_000_000, queries=500, vocabulary=100_000, repeat=3)
QUICK = Sizes(hotpotqa_limit=30, passages=2_000, queries=30, vocabulary=5_000, repeat=2)


def _note(message: str) -> None:
    print(f"note: {message}", file=sys.stderr)


def _worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one measured step in a fresh interpreter; its last stdout line is its result."""
    path = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    env = {**os.environ, "PYTHONPATH": path}
    done = subprocess.run(
        [sys.executable, str(WORKER), json.dumps(spec)], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise RuntimeError(f"the {spec['system']} {spec['task']} step exited with {done.returncode}:\n{tail}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _overlap(top: Sequence[Sequence[str]], reference: Sequence[Sequence[str]]) -> float:
    """The mean share of each reference top-k that a system's top-k holds too (1.0: the same passages)."""
    shares = [
        len(set(mine) & set(theirs)) / max(len(mine), len(theirs)) if mine or theirs else 1.0
        for mine, theirs in zip(top, reference, strict=True)
    ]
    return sum(shares) / len(shares)


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _commit() -> str | None:
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    except OSError:
        return None
    return done.stdout.strip() or None


def _row(corpus: str, system: str, result: dict[str, Any], quick: bool) -> dict[str, Any]:
    return {
        "benchmark": "retrieval",
        "corpus": corpus,
        "system": system,
        "passages": result["passages"],
        "queries": result["queries"],
        "k": K,
        "build_s": result["build_s"],
        "save_s": result.get("save_s"),
        "load_s": result.get("load_s"),
        "qps": result["qps"],
        "qps_first": result.get("qps_first"),
        "batch_qps": result["batch_qps"],
        "ratio_qps_vs_bm25s": None,
        "overlap_vs_bm25s": None,
        "peak_rss_mb": result["peak_rss_mb"],
        "baseline_rss_mb": result["baseline_rss_mb"],
        "build_peak_rss_mb": result.get("build_peak_rss_mb"),
        "generate_s": result.get("generate_s"),
        "repeat": result["repeat"],
        "tokenizer": TOKENIZER,
        "quick": quick,
    }


def _compare(rows: list[dict[str, Any]], tops: dict[str, list[list[str]]]) -> None:
    """Fill in each row's ratio and overlap against the raw bm25s row of its corpus."""
    reference = next((row for row in rows if row["system"] == "bm25s"), None)
    if reference is None:
        return
    for row in rows:
        row["ratio_qps_vs_bm25s"] = row["qps"] / reference["qps"]
        row["overlap_vs_bm25s"] = _overlap(tops[row["system"]], tops["bm25s"])


def hotpotqa_rows(path: Path, sizes: Sizes, quick: bool) -> list[dict[str, Any]]:
    systems = ["bm25s", "refine"]
    if importlib.util.find_spec("rank_bm25") is not None:
        systems.append("rank_bm25")
    else:
        _note("rank_bm25 not installed, left out: pip install -e '.[bench]'")
    corpus = "hotpotqa-dev397" if sizes.hotpotqa_limit is None else f"hotpotqa-dev397[:{sizes.hotpotqa_limit}]"
    rows, tops = [], {}
    for system in systems:
        spec = {"task": "memory", "system": system, "data": str(path), "limit": sizes.hotpotqa_limit}
        result = _worker({**spec, "k": K, "repeat": sizes.repeat + 2})  # passes take milliseconds here
        tops[system] = result.pop("top")
        rows.append(_row(corpus, system, result, quick))
    _compare(rows, tops)
    return rows


def synthetic_rows(sizes: Sizes, quick: bool, scratch: Path) -> list[dict[str, Any]]:
    corpus = f"synthetic-{sizes.passages:,}"
    rows, tops = [], {}
    common = {"seed": 0, "vocabulary": sizes.vocabulary, "k": K, "repeat": sizes.repeat}
    for system in ("bm25s", "refine"):
        folder = str(scratch / f"{system}-index")
        built = _worker({**common, "task": "build", "system": system, "passages": sizes.passages, "folder": folder})
        loaded = _worker({**common, "task": "load", "system": system, "queries": sizes.queries, "folder": folder})
        tops[system] = loaded.pop("top")
        result = {
            **loaded,
            "passages": built["passages"],
            "build_s": built["build_s"],
            "save_s": built["save_s"],
            "generate_s": built["generate_s"],
            "build_peak_rss_mb": built["peak_rss_mb"],
        }
        rows.append(_row(corpus, system, result, quick))
    _compare(rows, tops)
    return rows


def run(
    *,
    quick: bool = False,
    data: Path | None = None,
    passages: int | None = None,
    queries: int | None = None,
    repeat: int | None = None,
) -> list[dict[str, Any]]:
    """Measure every system and return one flat row each (see the module docstring for the fields).

    ``data`` is the shared data folder (default ``$REFINE_DATA``, else ``../shared/data``); without
    ``hotpotqa/dev397.jsonl`` in it the HotpotQA rows are skipped with a note on stderr.
    ``passages``, ``queries`` and ``repeat`` override the sizes that ``quick`` picks.
    """
    base = QUICK if quick else FULL
    sizes = Sizes(
        hotpotqa_limit=base.hotpotqa_limit,
        passages=base.passages if passages is None else passages,
        queries=base.queries if queries is None else queries,
        vocabulary=base.vocabulary,
        repeat=base.repeat if repeat is None else repeat,
    )
    for name, value in (("passages", sizes.passages), ("queries", sizes.queries), ("repeat", sizes.repeat)):
        if value < 1:
            raise ValueError(f"{name}={value} must be >= 1")
    if sizes.passages < K:
        raise ValueError(f"passages={sizes.passages} must be >= k={K}: bm25s refuses a k above the corpus size")
    rows: list[dict[str, Any]] = []
    path = (DEFAULT_DATA if data is None else Path(data)) / HOTPOTQA
    if path.is_file():
        rows.extend(hotpotqa_rows(path, sizes, quick))
    else:
        _note(f"no HotpotQA at {path}: its rows are skipped (pass --data DIR, the folder holding {HOTPOTQA})")
    with tempfile.TemporaryDirectory(prefix="refine-bench-retrieval-") as scratch:
        rows.extend(synthetic_rows(sizes, quick, Path(scratch)))
    stamp = {
        "bm25s_version": _version("bm25s"),
        "rank_bm25_version": _version("rank-bm25"),
        "python": platform.python_version(),
        "commit": _commit(),
        "run_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    return [{**row, **stamp} for row in rows]


# --- reporting -----------------------------------------------------------------------------------


# (what, refine's key, the other system's key, unit, whether more is better)
_COMPARED = (
    ("build", "build_s", "build_s", "s", False),
    ("save", "save_s", "save_s", "s", False),
    ("load", "load_s", "load_s", "s", False),
    ("queries/s one at a time", "qps", "qps", "qps", True),
    ("queries/s in the first pass after the load", "qps_first", "qps_first", "qps", True),
    ("queries/s against its batch retrieve", "qps", "batch_qps", "qps", True),
    ("peak RSS of the build", "build_peak_rss_mb", "build_peak_rss_mb", "MB", False),
    ("peak RSS", "peak_rss_mb", "peak_rss_mb", "MB", False),
)


def _targets(corpus: str, mine: dict[str, Any]) -> list[str]:
    lines = []
    ratio = mine["ratio_qps_vs_bm25s"]
    if ratio is not None:
        met = "met" if ratio >= QPS_TARGET else "MISSED"
        lines.append(f"{corpus}: refine queries/s {ratio:.2f}x raw bm25s's (target >= {QPS_TARGET}x): {met}")
    if mine["load_s"] is not None:
        if mine["passages"] >= LOAD_TARGET_PASSAGES:
            met = "met" if mine["load_s"] < LOAD_TARGET_S else "MISSED"
            lines.append(f"{corpus}: refine loads in {mine['load_s']:.3f} s (target < {LOAD_TARGET_S:.0f} s): {met}")
        else:
            lines.append(f"{corpus}: the load target is for 1,000,000 passages; not checked at {mine['passages']:,}")
    return lines


def verdicts(rows: Sequence[dict[str, Any]]) -> list[str]:
    """The targets, met or missed, and every comparison refine loses, as sentences with the numbers."""
    lines = []
    for corpus in dict.fromkeys(row["corpus"] for row in rows):
        here = [row for row in rows if row["corpus"] == corpus]
        mine = next((row for row in here if row["system"] == "refine"), None)
        if mine is None:
            continue
        lines += _targets(corpus, mine)
        for other in (row for row in here if row["system"] != "refine"):
            for what, key, their_key, unit, more_is_better in _COMPARED:
                ours, theirs = mine[key], other[their_key]
                if ours is None or theirs is None or ours == theirs or (ours > theirs) == more_is_better:
                    continue
                ratio = ours / theirs
                close = ", within 5%" if abs(ratio - 1) < 0.05 else ""
                lines.append(
                    f"{corpus}: refine loses to {other['system']} on {what}: {_number(ours)} {unit} "
                    f"against {_number(theirs)} ({ratio:.2f}x{close})"
                )
    return lines


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def _cell(value: Any, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def table(rows: Sequence[dict[str, Any]]) -> Table:
    shown = Table(title=f"BM25 retrieval, k={K}, queries one at a time unless 'batch'")
    columns = (
        ("corpus", "corpus", "s"),
        ("system", "system", "s"),
        ("passages", "passages", ",d"),
        ("queries", "queries", ",d"),
        ("build s", "build_s", ".2f"),
        ("save s", "save_s", ".2f"),
        ("load s", "load_s", ".3f"),
        ("qps", "qps", ",.0f"),
        ("qps first", "qps_first", ",.0f"),
        ("batch qps", "batch_qps", ",.0f"),
        ("x bm25s qps", "ratio_qps_vs_bm25s", ".2f"),
        ("same top-k", "overlap_vs_bm25s", ".3f"),
        ("build RSS MB", "build_peak_rss_mb", ",.0f"),
        ("peak RSS MB", "peak_rss_mb", ",.0f"),
        ("before MB", "baseline_rss_mb", ",.0f"),
    )
    for title, _, spec in columns:
        shown.add_column(title, justify="left" if spec == "s" else "right")
    for row in rows:
        shown.add_row(*(_cell(row[key], spec) for _, key, spec in columns))
    return shown


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="shared data folder (default: %(default)s)")
    parser.add_argument("--passages", type=int, default=None, help="synthetic passages (default: 1000000)")
    parser.add_argument("--queries", type=int, default=None, help="synthetic queries (default: 500)")
    parser.add_argument("--repeat", type=int, default=None, help="timed passes over the queries (default: 3)")
    parser.add_argument("--quick", action="store_true", help="small sizes, a few seconds; writes nothing by default")
    parser.add_argument("--out", type=Path, default=None, help=f"append rows here (default: {RESULTS})")
    args = parser.parse_args(argv)
    for name in ("passages", "queries", "repeat"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name}={value} must be >= 1")
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    rows = run(quick=args.quick, data=args.data, passages=args.passages, queries=args.queries, repeat=args.repeat)
    console = Console(width=200)
    console.print(table(rows))
    for line in verdicts(rows):
        console.print(line, highlight=False)
    out = args.out if args.out is not None or args.quick else RESULTS
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("a", encoding="utf-8") as sink:
            for row in rows:
                sink.write(json.dumps(row) + "\n")
        console.print(f"appended {len(rows)} rows to {out}", highlight=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
