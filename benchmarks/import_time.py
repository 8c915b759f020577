"""How long ``import refine`` takes in a fresh interpreter, beside ``import dspy`` (issue 17).

Each run starts a new ``python -c "import refine"`` and measures its wall time, start-up and exit
included; so does a bare ``python -c pass``, for the interpreter's own share. The commands take
turns, ``--runs`` times each, so a machine that gets busier or quieter affects them alike; the
medians are printed, and the ratio to dspy when dspy is importable (it is not a dependency and is
never installed by this script; without it, a note says it was skipped).

    python benchmarks/import_time.py [--runs 7]

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

ROOT = Path(__file__).resolve().parents[1]


def _environment() -> dict[str, str]:
    path = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    return {**os.environ, "PYTHONPATH": path}


def wall_seconds(code: str, env: dict[str, str]) -> float:
    """The wall time of one fresh ``python -c code``."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh interpreters per command (default 7)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error(f"--runs {args.runs} must be at least 1")
    env = _environment()
    commands = {"python -c pass": "pass", "import refine": "import refine"}
    if importlib.util.find_spec("dspy") is not None:
        commands["import dspy"] = "import dspy"
    else:
        print("dspy is not importable here: timing refine alone (pip install dspy to compare)")
    for code in commands.values():
        wall_seconds(code, env)  # once untimed, so every timed run finds the files in the page cache
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, code in commands.items():
            times[name].append(wall_seconds(code, env))
    medians = {name: statistics.median(values) for name, values in times.items()}
    startup = medians["python -c pass"]
    print(f"{sys.executable} ({sys.version.split()[0]}), {args.runs} alternating runs each; wall time:")
    for name, values in times.items():
        spread = f"{min(values) * 1000:.0f}-{max(values) * 1000:.0f} ms"
        extra = "" if name == "python -c pass" else f", {(medians[name] - startup) * 1000:.0f} ms beyond start-up"
        print(f"  {name:<16} median {medians[name] * 1000:6.0f} ms  (range {spread}{extra})")
    if "import dspy" in medians:
        ratio = medians["import refine"] / medians["import dspy"]
        print(f"import refine / import dspy = {ratio:.2f} (medians; start-up included)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
