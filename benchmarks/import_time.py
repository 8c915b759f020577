"""How long ``import refine`` takes in a fresh interpreter, beside ``import dspy`` (issue 17).

Each run starts a new ``python -c "import refine"`` and measures its wall time, start-up and exit
included; so does a bare ``python -c pass``, for the interpreter's own share. The commands take
turns, ``--runs`` times each, so a machine that gets busier or quieter affects them alike; the
medians are printed, and the ratio to dspy when dspy is importable (it is not a dependency and is
never installed by this script; without it, a note says it was skipped).

    python benchmarks/import_time.py [--runs 7]

:func:`run` returns the same medians as rows, for ``python -m benchmarks``.

The refine timed is this checkout's: its root goes first on ``PYTHONPATH``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _environment() -> dict[str, str]:
    path = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    return {**os.environ, "PYTHONPATH": path}


def wall_seconds(code: str, env: dict[str, str]) -> float:
    """The wall time of one fresh ``python -c code``."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


DSPY_MISSING = "dspy not installed: pip install -e '.[bench]'"


def measure(runs: int) -> dict[str, list[float]]:
    """Wall seconds of each command, ``runs`` alternating fresh interpreters each, after one untimed
    warm-up; ``import dspy`` is timed only when dspy is importable."""
    env = _environment()
    # refine imports each name on first use, so what a program that answers questions loads is timed too.
    commands = {
        "python -c pass": "pass",
        "import refine": "import refine",
        "from refine import CitedRAG, Predict": "from refine import CitedRAG, Predict",
    }
    if importlib.util.find_spec("dspy") is not None:
        commands["import dspy"] = "import dspy"
    for code in commands.values():
        wall_seconds(code, env)  # once untimed, so every timed run finds the files in the page cache
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, code in commands.items():
            times[name].append(wall_seconds(code, env))
    return times


def run(*, quick: bool = False) -> list[dict[str, Any]]:
    """One row per command: its median, and for ``import refine`` its ratio to ``import dspy``
    (None without dspy). ``quick`` times 3 runs each instead of 7."""
    runs = 3 if quick else 7
    times = measure(runs)
    if "import dspy" not in times:
        print(DSPY_MISSING)
    medians = {name: statistics.median(values) for name, values in times.items()}
    dspy = medians.get("import dspy")
    return [
        {
            "benchmark": "import",
            "command": name,
            "runs": runs,
            "median_s": median,
            "min_s": min(times[name]),
            "max_s": max(times[name]),
            "ratio_vs_dspy": median / dspy if dspy is not None and name.startswith(("import refine", "from")) else None,
        }
        for name, median in medians.items()
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh interpreters per command (default 7)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error(f"--runs {args.runs} must be at least 1")
    if importlib.util.find_spec("dspy") is None:
        print("dspy is not importable here: timing refine alone (pip install dspy to compare)")
    times = measure(args.runs)
    medians = {name: statistics.median(values) for name, values in times.items()}
    startup = medians["python -c pass"]
    print(f"{sys.executable} ({sys.version.split()[0]}), {args.runs} alternating runs each; wall time:")
    for name, values in times.items():
        spread = f"{min(values) * 1000:.0f}-{max(values) * 1000:.0f} ms"
        extra = "" if name == "python -c pass" else f", {(medians[name] - startup) * 1000:.0f} ms beyond start-up"
        print(f"  {name:<36} median {medians[name] * 1000:6.0f} ms  (range {spread}{extra})")
    if "import dspy" in medians:
        for name in ("import refine", "from refine import CitedRAG, Predict"):
            ratio = medians[name] / medians["import dspy"]
            print(f"{name} / import dspy = {ratio:.2f} (medians; start-up included)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
