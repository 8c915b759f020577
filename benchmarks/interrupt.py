"""How fast Ctrl-C stops `refine ask` on the embedded model, and whether it ever does worse.

One uninterrupted ``refine ask QUESTION`` first measures how long an answer takes. Then each
trial starts it again as a terminal would (SIGINT at its default), sends SIGINT after a random
delay (uniform from ``--min-delay`` seconds to the end of the measured run, which spans imports,
loading the model, retrieval, prompt evaluation and decoding), and records how long the process
took to exit after it, its exit status, and what it printed. A good trial exits with 130 and
"refine: interrupted"; a bad one finishes the answer anyway, aborts, or prints a traceback. A
process that had already exited when the signal was due is counted apart.

    python benchmarks/interrupt.py [--trials 40] [--seed 0] [--question "..."] [--project DIR]

``--project`` runs the ``refine`` of another checkout (``python -m refine.cli`` started there), to
compare two versions in one run.

Run it alone: a second model process on two cores slows both many times over.
"""

from __future__ import annotations

import argparse
import random
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

QUESTION = "How do I open a file for reading?"


@dataclass(frozen=True)
class Trial:
    delay: float
    seconds: float  # from SIGINT to exit
    status: int
    stderr: str
    stdout: str
    signalled: bool = True  # False: the process had exited before the signal was due

    @property
    def outcome(self) -> str:
        if not self.signalled:
            return "finished before the signal"
        if self.status == 130 and self.stderr == "refine: interrupted\n" and not self.stdout:
            return "interrupted"
        if self.status in (0, 1) and self.stdout:
            return "answered anyway"
        if "Traceback" in self.stderr:
            return "traceback"
        if self.status < 0:
            return f"killed by signal {-self.status}"
        return f"exit {self.status}"


def _default_sigint() -> None:
    # A shell starts background jobs with SIGINT ignored, and Python keeps it so: undo that.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_trial(question: str, delay: float, project: str | None) -> Trial:
    process = subprocess.Popen(
        [sys.executable, "-m", "refine.cli", "ask", question],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_sigint,
    )
    time.sleep(delay)
    sent = time.perf_counter()
    signalled = process.poll() is None
    if signalled:
        process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate()
    return Trial(delay, time.perf_counter() - sent, process.returncode, stderr, stdout, signalled)


def answer_seconds(question: str, project: str | None) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "refine.cli", "ask", question], cwd=project, capture_output=True, check=False)
    return time.perf_counter() - started


def _quantile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1] if len(values) > 1 else values[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--min-delay", type=float, default=0.2)
    parser.add_argument("--max-delay", type=float, default=None, help="default: the measured answer time")
    parser.add_argument("--question", default=QUESTION)
    parser.add_argument("--project", default=None, help="a checkout whose refine to run (default: this one)")
    args = parser.parse_args(argv)
    console = Console(stderr=True)
    if args.max_delay is None:
        args.max_delay = answer_seconds(args.question, args.project)
        console.print(f"an uninterrupted answer took {args.max_delay:.2f} s")
    if args.trials < 1 or not 0 <= args.min_delay <= args.max_delay:
        parser.error(f"need --trials >= 1 and 0 <= --min-delay <= --max-delay, got {vars(args)}")
    rng = random.Random(args.seed)
    trials = []
    with Progress(console=console) as progress:
        task = progress.add_task("Interrupting refine ask", total=args.trials)
        for _ in range(args.trials):
            trials.append(run_trial(args.question, rng.uniform(args.min_delay, args.max_delay), args.project))
            progress.advance(task)
    title = f"Ctrl-C during `refine ask`, {args.trials} trials, delays {args.min_delay:.1f}-{args.max_delay:.1f} s"
    table = Table(title=title)
    for column in ("outcome", "trials", "median s", "p90 s", "max s"):
        table.add_column(column)
    for outcome in sorted({t.outcome for t in trials}):
        seconds = [t.seconds for t in trials if t.outcome == outcome]
        table.add_row(
            outcome,
            str(len(seconds)),
            f"{statistics.median(seconds):.2f}",
            f"{_quantile(seconds, 0.9):.2f}",
            f"{max(seconds):.2f}",
        )
    Console().print(table)
    for trial in trials:
        if trial.outcome not in ("interrupted", "finished before the signal"):
            tail = trial.stderr.strip().splitlines()[-1:] or [""]
            print(f"delay {trial.delay:.2f} s: {trial.outcome} after {trial.seconds:.2f} s; stderr ends {tail[0]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
