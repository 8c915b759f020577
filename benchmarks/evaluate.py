"""What refine.evaluate costs beyond the program, and how well cited RAG does on real questions.

Overhead (the default): a one-step ``Predict("question -> answer")`` on the scripted LM, over
``--rows`` examples, timed as plain calls in a loop and through :func:`refine.evaluate` (one
thread, no file; one thread streaming rows to a file; ``--threads`` threads), in the same run,
each ``--repeat`` times in turn (the best of each is kept). The difference, per row, is what
evaluation adds: the metric, the row and its JSON, the file write, the report.

    python benchmarks/evaluate.py [--rows 1000] [--repeat 3] [--threads 4]

Quality (with ``--data``): ``refine eval``'s program, cited RAG (``CitedRAG`` over BM25 on the data
set's own pooled corpus, top ``-k``) on SmolLM2-135M, over the first ``--limit`` questions of
HotpotQA dev397 or NQ-open, with ``--threads`` threads. Reported: EM, token F1 (with its 95%
bootstrap interval), citation validity, ALCE support precision and recall (lexical checker),
gold-passage recall, LM calls, seconds per question. Rows stream to ``--out`` (default
``benchmarks/results/evaluate-<data>-<limit>-t<threads>.jsonl``); a rerun resumes it.

    python benchmarks/evaluate.py --data hotpotqa|nq [--limit 100] [--threads 1|2] [-k 3] [--out FILE]
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

import corpora
from refine import BM25Retriever, CitedRAG, LlamaCpp, Predict, ScriptedLM, metrics
from refine.evaluation import EvalReport, evaluate, load_dataset
from refine.example import Example
from refine.lm import LMRequest

DATA_FILES = {"hotpotqa": Path("hotpotqa/dev397.jsonl"), "nq": Path("nq_open/oracle1500.jsonl.gz")}


def reply(request: LMRequest) -> str:
    return "Answer: Paris"


def overhead(args: argparse.Namespace) -> Table:
    examples = [
        Example(question=f"What is the capital of France? ({i})", answers=["Paris"], id=f"q{i}").with_inputs("question")
        for i in range(args.rows)
    ]
    program = Predict("question -> answer")

    def calls() -> None:
        lm = ScriptedLM([reply] * args.rows)
        for example in examples:
            program(lm=lm, **example.inputs)

    def through(threads: int, out: bool) -> Callable[[], None]:
        def run() -> None:
            lm = ScriptedLM([reply] * args.rows)
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "rows.jsonl" if out else None
                evaluate(program, examples, metrics.em, lm=lm, threads=threads, progress=False, out=path)

        return run

    ways: dict[str, Callable[[], None]] = {
        "program calls in a loop": calls,
        "evaluate, 1 thread": through(1, out=False),
        "evaluate, 1 thread, out=FILE": through(1, out=True),
        f"evaluate, {args.threads} threads, out=FILE": through(args.threads, out=True),
    }
    best = dict.fromkeys(ways, float("inf"))
    for _ in range(args.repeat):
        for name, way in ways.items():
            started = time.perf_counter()
            way()
            best[name] = min(best[name], time.perf_counter() - started)
    base = best["program calls in a loop"]
    table = Table(title=f"Evaluation overhead, scripted LM, {args.rows} rows, best of {args.repeat}")
    for column in ("how", "total s", "µs / row", "beyond the call, µs / row"):
        table.add_column(column, justify="right" if column != "how" else "left")
    for name, seconds in best.items():
        extra = "-" if seconds is base else f"{(seconds - base) / args.rows * 1e6:,.0f}"
        table.add_row(name, f"{seconds:.3f}", f"{seconds / args.rows * 1e6:,.0f}", extra)
    return table


def quality(args: argparse.Namespace) -> tuple[Table, EvalReport]:
    folder = args.data_dir or corpora.shared_data_dir()
    if folder is None:
        raise SystemExit("no data folder: pass --data-dir DIR or set REFINE_DATA (see ../shared/data)")
    data = load_dataset(folder / DATA_FILES[args.data], limit=args.limit)
    rag = CitedRAG(BM25Retriever.build(data.passages), k=args.k)
    out = args.out or Path(f"benchmarks/results/evaluate-{args.data}-{args.limit}-t{args.threads}.jsonl")
    out.parent.mkdir(parents=True, exist_ok=True)
    scores = [
        metrics.em,
        metrics.citation_validity,
        metrics.support_precision(),
        metrics.support_recall(),
        metrics.gold_recall,
        metrics.answer_in_cited,
    ]
    report = evaluate(
        rag,
        data.examples,
        metrics.f1,
        lm=LlamaCpp(),
        threads=args.threads,
        out=out,
        resume=out.exists(),
        metrics=scores,
    )
    rows = len(report.rows)
    ran = rows - report.resumed
    low, high = report.interval
    table = Table(title=f"Cited RAG on SmolLM2-135M, {args.data}, first {rows} questions, BM25 top-{args.k}")
    for column in (
        "threads",
        "EM",
        "F1 [95% CI]",
        "validity",
        "support P",
        "support R",
        "gold R",
        "calls/q",
        "LM s/q",
        "wall s/q",
        "errors",
    ):
        table.add_column(column, justify="right")
    table.add_row(
        str(args.threads),
        f"{report.scores['em']:.3f}",
        f"{report.mean:.3f} [{low:.3f}, {high:.3f}]",
        f"{report.scores['citation_validity']:.3f}",
        f"{report.scores['support_precision']:.3f}",
        f"{report.scores['support_recall']:.3f}",
        f"{report.scores['gold_recall']:.3f}",
        f"{report.usage.calls / rows:.2f}",
        f"{report.usage.seconds / rows:.2f}",
        f"{report.seconds / ran:.2f}" if ran else "- (all resumed)",
        str(len(report.errors)),
    )
    return table, report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", choices=tuple(DATA_FILES), default=None, help="measure quality on this data set")
    parser.add_argument("--data-dir", type=Path, default=None, help="the shared data folder (default: REFINE_DATA)")
    parser.add_argument("--limit", type=int, default=100, help="questions, with --data (default: %(default)s)")
    parser.add_argument("-k", type=int, default=3, help="passages retrieved, with --data (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=None, help="rows file, with --data (resumed when it exists)")
    parser.add_argument("--threads", type=int, default=None, help="threads (default: 1 with --data, else 4)")
    parser.add_argument("--rows", type=int, default=1000, help="rows, for the overhead (default: %(default)s)")
    parser.add_argument("--repeat", type=int, default=3, help="runs, for the overhead (default: %(default)s)")
    args = parser.parse_args(argv)
    args.threads = args.threads or (1 if args.data else 4)
    if min(args.limit, args.k, args.threads, args.rows, args.repeat) < 1:
        parser.error("--limit, -k, --threads, --rows and --repeat must be >= 1")
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    console = Console(width=140)
    if args.data is None:
        console.print(overhead(args))
        return 0
    table, report = quality(args)
    console.print(report.table())
    console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
