"""What ``python -m benchmarks`` writes: ``results.json`` and ``results.md``, with the machine they came from.

``results.json`` is versioned like refine's other files::

    {"format": "refine-benchmarks", "version": 1,
     "environment": {...}, "run": {...}, "parts": [{"part", "module", "status", ...}], "rows": [...]}

``rows`` holds every part's rows as the part returned them (flat dicts, each with a ``"benchmark"``
key); ``parts`` says how each part ended (``ok``, ``failed`` with its error, or ``not available``).
``results.md`` shows the same: an environment line, a table of the parts, then one table per benchmark.
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from importlib import metadata, util
from pathlib import Path
from typing import Any

__all__ = ["FORMAT", "VERSION", "environment", "environment_line", "markdown", "write_json", "write_markdown"]

FORMAT = "refine-benchmarks"
VERSION = 1
ROOT = Path(__file__).resolve().parents[1]
PEERS = ("dspy", "bm25s", "llama-cpp-python", "guidance", "matplotlib")


def environment() -> dict[str, Any]:
    """The date, the interpreter, refine's commit, the peers' versions (None: not installed) and the machine."""
    spec = util.find_spec("refine")
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "refine_commit": _git(["rev-parse", "HEAD"]),
        "refine_dirty": None if (status := _git(["status", "--porcelain"])) is None else bool(status),
        "refine_source": str(Path(spec.origin).parent) if spec is not None and spec.origin else None,
        "versions": {name: _version(name) for name in PEERS},
        **_cpu(Path("/proc/cpuinfo")),
        "ram_gib": _ram_gib(Path("/proc/meminfo")),
    }


def _git(arguments: list[str]) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(ROOT), *arguments], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None  # no git, or not a checkout
    return done.stdout.strip()


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _cpu(cpuinfo: Path) -> dict[str, Any]:
    try:
        text = cpuinfo.read_text()
    except OSError:
        return {"cpu": platform.processor() or None, "cpus": os.cpu_count()}
    models = re.findall(r"^model name\s*:\s*(.+)$", text, flags=re.MULTILINE)
    processors = re.findall(r"^processor\s*:", text, flags=re.MULTILINE)
    return {"cpu": models[0].strip() if models else None, "cpus": len(processors) or os.cpu_count()}


def _ram_gib(meminfo: Path) -> float | None:
    try:
        found = re.search(r"^MemTotal:\s*(\d+) kB", meminfo.read_text(), flags=re.MULTILINE)
    except OSError:
        return None
    return round(int(found.group(1)) / 2**20, 1) if found else None


def environment_line(env: Mapping[str, Any]) -> str:
    """One sentence: when, on what, with which versions."""
    commit = env.get("refine_commit")
    refine = f"refine {commit[:7]}{' (uncommitted changes)' if env.get('refine_dirty') else ''}" if commit else "refine"
    versions = ", ".join(
        f"{name} {version}" if version else f"{name} not installed" for name, version in env["versions"].items()
    )
    machine = ", ".join(
        part
        for part in (
            env.get("cpu"),
            f"{env['cpus']} CPUs" if env.get("cpus") else None,
            f"{env['ram_gib']} GiB RAM" if env.get("ram_gib") else None,
        )
        if part
    )
    return f"{env['date']}: {refine}, Python {env['python']}, {versions}; {machine} ({env['platform']})."


def write_json(
    path: Path, *, env: Mapping[str, Any], run: Mapping[str, Any], parts: Sequence[Mapping[str, Any]]
) -> None:
    """``parts`` as :meth:`Outcome.to_json` gives them: their rows go to ``rows``, the rest to ``parts``."""
    document = {
        "format": FORMAT,
        "version": VERSION,
        "environment": dict(env),
        "run": dict(run),
        "parts": [{key: value for key, value in part.items() if key != "rows"} for part in parts],
        "rows": [row for part in parts for row in part["rows"]],
    }
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def write_markdown(
    path: Path, *, env: Mapping[str, Any], run: Mapping[str, Any], parts: Sequence[Mapping[str, Any]]
) -> None:
    path.write_text(markdown(env=env, run=run, parts=parts))


def markdown(*, env: Mapping[str, Any], run: Mapping[str, Any], parts: Sequence[Mapping[str, Any]]) -> str:
    """The environment line, a table of how each part ended, then each benchmark's rows as a table."""
    command = "python -m benchmarks" + (" --quick" if run.get("quick") else "")
    lines = [f"Measured by `{command}` on {environment_line(env)}", ""]
    summary = [
        {
            "part": part["part"],
            "status": part["status"],
            "rows": len(part["rows"]),
            "seconds": part["seconds"],
            "error": part.get("error"),
        }
        for part in parts
    ]
    lines += [*_table(summary), ""]
    by_benchmark: dict[str, list[Mapping[str, Any]]] = {}
    for part in parts:
        for row in part["rows"]:
            by_benchmark.setdefault(str(row.get("benchmark", part["part"])), []).append(row)
    for name, rows in by_benchmark.items():
        lines += [f"### {name}", "", *_table(rows, skip=("benchmark",)), ""]
    return "\n".join(lines)


def _table(rows: Sequence[Mapping[str, Any]], *, skip: Iterable[str] = ()) -> list[str]:
    columns = [key for key in dict.fromkeys(key for row in rows for key in row) if key not in set(skip)]
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(cell(row.get(column)) for column in columns) + " |" for row in rows]
    return lines


def cell(value: Any) -> str:
    """A value as a markdown cell: numbers to a readable precision, None as a dash."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.1f}" if abs(value) >= 10 else f"{value:.3f}"
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10000 else str(value)
    return str(value).replace("|", "\\|").replace("\n", " ")
