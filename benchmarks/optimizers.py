"""Do compiled demos, and repair demos, help the embedded model? Compile on some questions, evaluate on others.

For HotpotQA (dev397) or NQ (oracle1500): a CitedRAG over the data set's pooled paragraphs (BM25
top ``--k``), decoded under the citation grammar, with one suggestion: every cited passage
supports its sentence (lexical checker), up to ``--backtracks`` retries. Compiled on the first
``--n-train`` questions; scored on the next ``--n-eval`` (never the training ones); RandomSearch
scores its candidates on ``--n-val`` questions after those. Modes, side by side in one run:
uncompiled, LabeledFewShot, BootstrapFewShot, BootstrapFewShot + repair demos, RandomSearch.
The bootstrapping modes share the teacher's traces (the embedded model is reproducible, so they
would be the same).

Reported per mode: EM, F1, citations valid, support precision/recall, the share of questions
whose first attempt passed every rule, retries per question, LM calls and prompt tokens per
question, seconds per question, compile seconds, demos (repair demos) and traces kept.

Labelled demos cite the retrieved passage that holds the gold answer (what ``refine optimize
--optimizer labeled`` does); a repair demo is shown as a retry is (the failed reply, the feedback,
the fixed reply).

    flock /tmp/refine-model.lock python benchmarks/optimizers.py [--data hotpotqa|nq] [--n-train 100] [--n-eval 100]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

import citations
from refine import (
    BM25Retriever,
    CitedRAG,
    LlamaCpp,
    Suggest,
    checks,
    evaluate,
    load_dataset,
    metrics,
)
from refine.cli._optimize import cited_labels
from refine.history import RepairDemo
from refine.optimizers import BootstrapFewShot, DemoTrimWarning, LabeledFewShot, RandomSearch
from refine.optimizers._fewshot import TeacherRuns
from refine.program import Program

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FILES = {"hotpotqa": DATA / "hotpotqa" / "dev397.jsonl", "nq": DATA / "nq_open" / "oracle1500.jsonl.gz"}
RESULTS = Path(__file__).resolve().parent / "results" / "optimizers.jsonl"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", choices=sorted(FILES), default="hotpotqa")
    parser.add_argument("--n-train", type=int, default=100)
    parser.add_argument("--n-eval", type=int, default=100)
    parser.add_argument("--n-val", type=int, default=20)
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--backtracks", type=int, default=2)
    parser.add_argument("--demos", type=int, default=2)
    parser.add_argument("--candidates", type=int, default=4)
    parser.add_argument("--modes", default="uncompiled,labeled,bootstrap,bootstrap+repair,random-search")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    total = args.n_train + args.n_eval + args.n_val
    dataset = load_dataset(FILES[args.data], limit=total)
    train = dataset.examples[: args.n_train]
    held_out = dataset.examples[args.n_train : args.n_train + args.n_eval]
    val = dataset.examples[args.n_train + args.n_eval :]
    lm = LlamaCpp()
    supported = Suggest(checks.citations_supported(citations.LexicalChecker()))
    retriever = BM25Retriever.build(dataset.passages)
    program = CitedRAG(retriever, k=args.k, assertions=[supported], max_backtracks=args.backtracks)
    metric = metrics.f1
    runs: TeacherRuns = {}
    boot = dict(max_bootstrapped_demos=args.demos, max_labeled_demos=0, threshold=0.5, progress=False)
    rows: list[dict[str, Any]] = []
    console = Console(stderr=True, width=240)
    for mode in args.modes.split(","):
        started = time.perf_counter()
        report = None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DemoTrimWarning)
            compiled: Program = program
            if mode == "uncompiled":
                pass
            elif mode == "labeled":
                result = LabeledFewShot(args.demos).optimize(program, cited_labels(retriever, train, args.k))
                compiled, report = result.program, result.report
            elif mode in ("bootstrap", "bootstrap+repair"):
                repair = args.demos if mode == "bootstrap+repair" else 0
                result = BootstrapFewShot(metric, repair_demos=repair, **boot).optimize(
                    program, train, lm=lm, runs=runs
                )
                compiled, report = result.program, result.report
            elif mode == "random-search":
                search = RandomSearch(
                    metric,
                    num_candidates=args.candidates,
                    threshold=0.5,
                    max_bootstrapped_demos=args.demos,
                    max_labeled_demos=0,
                    progress=False,
                )
                # Its labelled candidate needs cited answers, as LabeledFewShot does.
                result = search.optimize(program, cited_labels(retriever, train, args.k), valset=val, lm=lm, runs=runs)
                compiled, report = result.program, result.report
            else:
                parser.error(f"unknown mode {mode!r}")
        compile_seconds = time.perf_counter() - started
        scored = evaluate(
            compiled,
            held_out,
            metrics.em,
            lm=lm,
            progress=True,
            metrics=[metrics.f1, metrics.citation_validity, metrics.support_precision(), metrics.support_recall()],
        )
        n = len(scored.rows)
        first_ok = sum(1 for r in scored.rows if r.error is None and r.attempts == r.calls and not r.failures) / n
        demos = dict(compiled.named_predictors())["predict"].demos
        row = {
            "data": args.data,
            "mode": mode,
            "n_train": len(train),
            "n_eval": n,
            "em": scored.mean,
            **{k: v for k, v in scored.scores.items()},
            "first_attempt_pass": first_ok,
            "retries_per_q": sum(r.backtracks for r in scored.rows) / n,
            "calls_per_q": scored.usage.calls / n,
            "prompt_tokens_per_q": scored.usage.prompt_tokens / n,
            "seconds_per_q": sum(r.seconds for r in scored.rows) / n,
            "compile_seconds": compile_seconds,
            "demos": len(demos),
            "repair_demos": sum(isinstance(d, RepairDemo) for d in demos),
            "traces_kept": None if report is None else len(report.kept),
            "trimmed": [str(w.message) for w in caught],
            "candidates": None if report is None else [(c.kind, c.score) for c in report.candidates],
            "reasons": None if report is None else [o.reason for o in report.outcomes],
        }
        rows.append(row)
        RESULTS.parent.mkdir(exist_ok=True)
        with RESULTS.open("a", encoding="utf-8") as out:
            out.write(json.dumps(row) + "\n")
    table = Table(title=f"{args.data}: compiled on {len(train)}, evaluated on {len(held_out)} others")
    columns = (
        "mode",
        "em",
        "f1",
        "citation_validity",
        "support_precision",
        "support_recall",
        "first_attempt_pass",
        "retries_per_q",
        "calls_per_q",
        "prompt_tokens_per_q",
        "seconds_per_q",
        "compile_seconds",
        "demos",
        "repair_demos",
        "traces_kept",
    )
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(f"{row[c]:.2f}" if isinstance(row[c], float) else str(row[c]) for c in columns))
    console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
