"""``python -m benchmarks``: every benchmark of issue 17 in one command, into one folder.

    python -m benchmarks [--quick] [--only import,overhead,retrieval,quality] [--questions N] [--data DIR] [--out DIR]

Each part is a module of this package with a ``run(*, quick=False, ...) -> list[dict]`` (see
:data:`PARTS`), imported by name when it runs: a part whose module is not there is reported as
not available, and a part that raises is recorded with its error while the others still run. The
command exits with 1 when a part failed. It writes ``results.json``, ``results.md`` and, with
matplotlib (the ``bench`` extra), the PNG plots of :mod:`benchmarks._plots`, into ``--out``
(default ``benchmarks/results/suite``, or ``benchmarks/results/suite-quick`` with ``--quick``, so
a smoke run never overwrites the full run's numbers).
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from rich.console import Console
from rich.markup import escape

import corpora
from benchmarks import _plots, _report

__all__ = ["PARTS", "Outcome", "Part", "main", "run_part"]

RESULTS = Path(__file__).resolve().parent / "results"
BENCH_EXTRA = "pip install -e '.[bench]'"


@dataclass(frozen=True)
class Part:
    """One benchmark of the suite: ``module.run(quick=..., [data=...])`` returns its rows."""

    name: str
    module: str
    takes_data: bool = False
    takes_questions: bool = False  # run(..., n=N): how many questions per data set


PARTS = (
    Part("import", "benchmarks.import_time"),
    Part("overhead", "benchmarks.overhead"),
    Part("retrieval", "benchmarks.retrieval", takes_data=True),
    Part("quality", "benchmarks.quality", takes_data=True, takes_questions=True),
)
Status = Literal["ok", "failed", "not available"]


@dataclass(frozen=True)
class Outcome:
    """How one part ended, and the rows it returned."""

    part: Part
    status: Status
    seconds: float
    rows: tuple[dict[str, Any], ...] = ()
    error: str | None = None
    traceback: str | None = field(default=None, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "part": self.part.name,
            "module": self.part.module,
            "status": self.status,
            "seconds": self.seconds,
            "error": self.error,
            "traceback": self.traceback,
            "rows": list(self.rows),
        }


def run_part(part: Part, *, quick: bool, data: Path | None, questions: int | None = None) -> Outcome:
    """Import ``part.module`` and call its ``run``; whatever goes wrong becomes the outcome's error."""
    started = time.perf_counter()

    def ended(status: Status, rows: Sequence[dict[str, Any]] = (), error: BaseException | str | None = None) -> Outcome:
        if isinstance(error, BaseException):
            trace = "".join(traceback.format_exception(error))
            error = f"{type(error).__name__}: {error}"
        else:
            trace = None
        return Outcome(part, status, time.perf_counter() - started, tuple(rows), error, trace)

    try:
        module = importlib.import_module(part.module)
    except ModuleNotFoundError as error:
        if error.name == part.module:
            return ended("not available", error=f"{part.module} is not in this checkout")
        return ended("failed", error=error)  # the module is there; something it imports is not
    except Exception as error:  # the suite's boundary: any failure of one part is recorded, the rest still run
        return ended("failed", error=error)
    run = getattr(module, "run", None)
    if not callable(run):
        return ended("failed", error=f"{part.module} has no run(*, quick=False) -> list[dict]")
    arguments: dict[str, Any] = {"quick": quick}
    if part.takes_data:
        arguments["data"] = data
    if part.takes_questions and questions is not None:
        arguments["n"] = questions
    try:
        rows = run(**arguments)
    except Exception as error:  # as above: the part failed, the suite carries on
        return ended("failed", error=error)
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        return ended("failed", error=f"{part.module}.run returned {type(rows).__name__}, not a list of dicts")
    rows = [{"benchmark": part.name, **row} for row in rows]
    try:
        json.dumps(rows)
    except (TypeError, ValueError) as error:
        return ended("failed", error=f"{part.module}.run returned rows that are not JSON: {error}")
    return ended("ok", rows)


def _only(text: str) -> tuple[Part, ...]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    known = {part.name: part for part in PARTS}
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"{text!r} names no part or an unknown one; use some of {', '.join(known)}")
    return tuple(part for part in PARTS if part.name in names)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of questions, e.g. --questions 20")
    return value


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Run refine's benchmarks into one JSON file, markdown tables and PNG plots.",
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: 10 questions, fewer runs and calls")
    parser.add_argument(
        "--only",
        type=_only,
        default=PARTS,
        metavar="PARTS",
        help=f"comma-separated parts to run (default: all of {','.join(part.name for part in PARTS)})",
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=corpora.shared_data_dir(),
        metavar="DIR",
        help="the shared data folder (default: $REFINE_DATA, else ../shared/data beside the checkout)",
    )
    parser.add_argument(
        "--questions",
        type=_positive,
        metavar="N",
        help="questions per data set for the quality part (default 100; resumed from earlier rows)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="folder for the results (default: benchmarks/results/suite, or suite-quick)",
    )
    return parser


def main(argv: Sequence[str] | None = None, *, console: Console | None = None) -> int:
    args = parser().parse_args(argv)
    console = console or Console()
    logging.basicConfig(level=logging.WARNING)
    out: Path = args.out or RESULTS / ("suite-quick" if args.quick else "suite")
    env = _report.environment()
    run = {
        "quick": args.quick,
        "only": [part.name for part in args.only],
        "data": str(args.data) if args.data else None,
        "questions": args.questions,
    }
    outcomes = []
    for number, part in enumerate(args.only, start=1):
        console.print(f"[bold]\\[{number}/{len(args.only)}] {part.name}[/]: {part.module}.run(quick={args.quick})")
        outcome = run_part(part, quick=args.quick, data=args.data, questions=args.questions)
        outcomes.append(outcome)
        took = f"{outcome.seconds:.1f} s"
        if outcome.status == "ok":
            console.print(f"  [green]ok[/]: {len(outcome.rows)} rows in {took}")
        elif outcome.status == "not available":
            console.print(f"  [yellow]not available[/]: {escape(outcome.error or '')}")
        else:
            console.print(f"  [red]failed[/] after {took}: {escape(outcome.error or '')}")
    out.mkdir(parents=True, exist_ok=True)
    parts = [outcome.to_json() for outcome in outcomes]
    _report.write_json(out / "results.json", env=env, run=run, parts=parts)
    _report.write_markdown(out / "results.md", env=env, run=run, parts=parts)
    written = [out / "results.json", out / "results.md"]
    if _plots.available():
        written += _plots.write_plots([row for outcome in outcomes for row in outcome.rows], out)
    else:
        console.print(escape(f"matplotlib not installed: no plots ({BENCH_EXTRA})"))
    console.print(f"wrote {', '.join(path.name for path in written)} in {escape(str(out))}")
    failed = [outcome.part.name for outcome in outcomes if outcome.status == "failed"]
    if failed:
        console.print(f"[red]{len(failed)} of {len(outcomes)} parts failed[/]: {', '.join(failed)}")
        return 1
    return 0
