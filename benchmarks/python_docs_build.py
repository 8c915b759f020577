"""How long the shipped ``python-docs`` corpus and its index take to build, and how large they are.

Each step runs in a fresh Python process, so nothing is cached in memory between steps:

- ``topics only``: the corpus as it was before the standard library was added (the
  ``pydoc_data`` reference topics), built into an index with the English defaults;
- ``cold``: :meth:`BM25Retriever.shipped` with an empty cache folder: render and split the
  topics and the ``pydoc`` text of every module, index them, save the index to the cache;
- ``warm``: :meth:`BM25Retriever.shipped` again, loading (and verifying) the cached index.

Times exclude ``import refine`` (reported on its own line); sizes are the index folder on disk.

    python benchmarks/python_docs_build.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

STEPS = ("topics", "cold", "warm")


def folder_size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def run_step(step: str, cache: Path) -> dict[str, Any]:
    """One measurement, in this process (called in a child process by :func:`measure`)."""
    started = time.perf_counter()
    from corpora._python_docs import _module_passages, _topic_passages, load_python_docs
    from refine.retrieval import BM25Retriever

    imported = time.perf_counter()
    if step == "topics":
        passages = _topic_passages(200)
        split = time.perf_counter()
        retriever = BM25Retriever.build(passages)
        indexed = time.perf_counter()
        retriever.save(cache / "topics")
        return {
            "import": imported - started,
            "corpus": split - imported,
            "index": indexed - split,
            "total": indexed - imported,
            "passages": len(passages),
            "chars": sum(len(p.text) for p in passages),
            "bytes": folder_size(cache / "topics"),
        }
    retriever = BM25Retriever.shipped("python-docs", cache_dir=cache)
    done = time.perf_counter()
    result = {"import": imported - started, "total": done - imported, "passages": len(retriever)}
    result["bytes"] = folder_size(cache / "indexes")
    if step == "cold":  # the parts, measured again after the fact (the corpus is cached in memory now)
        t0 = time.perf_counter()
        module_passages = _module_passages(200)
        result["modules"] = time.perf_counter() - t0
        result["chars"] = sum(len(p.text) for p in load_python_docs())
        result["module_passages"] = len(module_passages)
    return result


def measure(step: str, cache: Path) -> dict[str, Any]:
    code = (
        "import json, sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); "
        "import python_docs_build as b; print(json.dumps(b.run_step(sys.argv[2], Path(sys.argv[3]))))"
    )
    here = Path(__file__).resolve().parent
    out = subprocess.run(
        [sys.executable, "-c", code, str(here), step, str(cache)], capture_output=True, text=True, check=True
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each step (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error(f"--repeat={args.repeat} must be >= 1")
    runs: dict[str, list[dict[str, Any]]] = {step: [] for step in STEPS}
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="refine-python-docs-") as scratch:
            for step in STEPS:  # cold then warm share the cache folder
                runs[step].append(measure(step, Path(scratch)))
    table = Table(title=f"python-docs build, Python {sys.version.split()[0]}, median of {args.repeat}")
    for column in ("step", "seconds", "passages", "text", "index on disk", "notes"):
        table.add_column(column)

    def median(step: str, key: str) -> float:
        return statistics.median(run[key] for run in runs[step])

    topics, cold, warm = runs["topics"][0], runs["cold"][0], runs["warm"][0]
    table.add_row(
        "import refine", f"{median('cold', 'import'):.2f}", "", "", "", "bm25s, numpy, scipy; not counted below"
    )
    table.add_row(
        "topics only (before)",
        f"{median('topics', 'total'):.2f}",
        f"{topics['passages']:,}",
        f"{topics['chars'] / 1e6:.2f} M chars",
        f"{topics['bytes'] / 1e6:.2f} MB",
        f"split {median('topics', 'corpus'):.2f} s, index {median('topics', 'index'):.2f} s",
    )
    table.add_row(
        "topics + stdlib, cold cache",
        f"{median('cold', 'total'):.2f}",
        f"{cold['passages']:,}",
        f"{cold['chars'] / 1e6:.2f} M chars",
        f"{cold['bytes'] / 1e6:.2f} MB",
        f"of which the {cold['module_passages']:,} module passages take {median('cold', 'modules'):.2f} s; "
        "build, index, save",
    )
    table.add_row(
        "topics + stdlib, warm cache",
        f"{median('warm', 'total'):.3f}",
        f"{warm['passages']:,}",
        "",
        f"{warm['bytes'] / 1e6:.2f} MB",
        "load and verify every block (mmap=False)",
    )
    Console(width=160).print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
