"""``python -m benchmarks`` with fake parts: what it writes, and how it reports a part that fails or is missing."""

from __future__ import annotations

import importlib.util
import io
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from rich.console import Console

import benchmarks
from benchmarks import _plots, _report, _suite, overhead

QUALITY = [
    {"dataset": dataset, "system": system, "n": 10, "em": 0.1, "f1": f1, "parsed": 1.0, "valid": valid}
    | {"gold_precision": 0.5, "gold_recall": 0.4, "calls": calls, "prompt_tokens": 800.0}
    | {"completion_tokens": 30.0, "seconds": 2.5 * calls}
    for dataset in ("hotpotqa", "nq")
    for system, f1, valid, calls in (("refine", 0.3, 1.0, 1.4), ("dspy", 0.25, 0.7, 1.0))
]
RETRIEVAL = [
    {"corpus": "hotpotqa", "system": "refine", "passages": 1000, "build_s": 0.5, "load_s": 0.01}
    | {"qps": 900.0, "peak_rss_mb": 120.0, "ratio_qps_vs_bm25s": 0.9}
]


def fake(name: str, rows: list[dict[str, Any]], calls: list[dict[str, Any]], *, error: Exception | None = None):
    module = ModuleType(name)

    def run(**arguments: Any) -> list[dict[str, Any]]:
        calls.append(arguments)
        if error is not None:
            raise error
        return rows  # without "benchmark": the suite adds the part's name

    module.run = run  # type: ignore[attr-defined]
    return module


@pytest.fixture
def parts(monkeypatch) -> dict[str, list[dict[str, Any]]]:
    """Every part faked; the arguments each run got, by part."""
    calls: dict[str, list[dict[str, Any]]] = {part.name: [] for part in _suite.PARTS}
    rows = {
        "import": [{"command": "import refine", "runs": 3, "median_s": 0.3, "ratio_vs_dspy": 0.5}],
        "overhead": [
            {"mode": "free text", "refine_us": 56.0, "dspy_us": 550.0, "ratio": 0.1},
            {"mode": "grammar", "refine_us": 102.0, "dspy_us": 550.0, "ratio": 0.19},
        ],
        "retrieval": RETRIEVAL,
        "quality": QUALITY,
    }
    for part in _suite.PARTS:
        monkeypatch.setitem(sys.modules, part.module, fake(part.module, rows[part.name], calls[part.name]))
    return calls


def suite(*argv: str) -> tuple[int, str]:
    console = Console(file=io.StringIO(), width=200)
    code = _suite.main(list(argv), console=console)
    return code, console.file.getvalue()  # type: ignore[attr-defined]


def test_the_suite_writes_its_json_its_tables_and_its_plots(parts, tmp_path):
    code, output = suite("--out", str(tmp_path / "out"), "--data", str(tmp_path))

    assert code == 0, output
    assert parts["quality"] == [{"quick": False, "data": tmp_path}]
    assert parts["retrieval"] == [{"quick": False, "data": tmp_path}]
    assert parts["import"] == [{"quick": False}] and parts["overhead"] == [{"quick": False}]
    assert "[3/4] retrieval" in output and "ok: 4 rows" in output
    document = json.loads((tmp_path / "out" / "results.json").read_text())
    assert (document["format"], document["version"]) == ("refine-benchmarks", 1)
    assert [(p["part"], p["status"], p["error"]) for p in document["parts"]] == [
        ("import", "ok", None),
        ("overhead", "ok", None),
        ("retrieval", "ok", None),
        ("quality", "ok", None),
    ]
    assert len(document["rows"]) == 1 + 2 + 1 + 4
    assert document["rows"][-1]["benchmark"] == "quality"
    env = document["environment"]
    assert env["python"] == platform.python_version() and env["date"] and env["cpus"] >= 1
    assert set(env["versions"]) == {"dspy", "bm25s", "llama-cpp-python", "guidance", "matplotlib"}
    table = (tmp_path / "out" / "results.md").read_text()
    assert table.startswith("Measured by `python -m benchmarks` on ") and f"Python {env['python']}" in table
    assert "### quality" in table and "| dataset | system | n | em | f1 |" in table
    assert "| free text | 56.0 | 550.0 | 0.100 |" in table
    pngs = sorted(path.name for path in (tmp_path / "out").glob("*.png"))
    if _plots.available():
        assert pngs == sorted(_plots.PLOTS)
        assert all((tmp_path / "out" / name).read_bytes().startswith(b"\x89PNG") for name in pngs)
    else:
        assert pngs == [] and "matplotlib not installed: no plots (pip install -e '.[bench]')" in output


def test_a_failing_part_is_recorded_and_the_others_still_run(parts, monkeypatch, tmp_path):
    monkeypatch.setitem(
        sys.modules, "benchmarks.overhead", fake("benchmarks.overhead", [], [], error=RuntimeError("boom"))
    )

    code, output = suite("--out", str(tmp_path))

    assert code == 1
    assert "failed after" in output and "RuntimeError: boom" in output and "1 of 4 parts failed: overhead" in output
    document = json.loads((tmp_path / "results.json").read_text())
    overhead = document["parts"][1]
    assert (overhead["status"], overhead["error"]) == ("failed", "RuntimeError: boom")
    assert "raise error" in overhead["traceback"]
    assert [row["benchmark"] for row in document["rows"]] == ["import", "retrieval"] + ["quality"] * 4
    assert "| overhead | failed | 0 |" in (tmp_path / "results.md").read_text()


def test_a_missing_module_is_reported_as_not_available(parts, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "benchmarks.retrieval", None)  # import raises ModuleNotFoundError for it

    code, output = suite("--only", "retrieval,quality", "--quick", "--out", str(tmp_path))

    assert code == 0
    assert "not available: benchmarks.retrieval is not in this checkout" in output
    document = json.loads((tmp_path / "results.json").read_text())
    assert [(p["part"], p["status"]) for p in document["parts"]] == [("retrieval", "not available"), ("quality", "ok")]
    assert parts["quality"] == [{"quick": True, "data": _suite.corpora.shared_data_dir()}]
    assert parts["import"] == parts["overhead"] == []
    assert document["run"]["quick"] is True and document["run"]["only"] == ["retrieval", "quality"]


def test_a_module_that_cannot_import_what_it_needs_fails_naming_it(monkeypatch, tmp_path):
    (tmp_path / "_needs_a_peer.py").write_text("import no_such_peer_for_this_test\n")
    monkeypatch.setattr(benchmarks, "__path__", [*benchmarks.__path__, str(tmp_path)])
    part = _suite.Part("peer", "benchmarks._needs_a_peer")

    outcome = _suite.run_part(part, quick=True, data=None)

    assert (outcome.status, outcome.error) == (
        "failed",
        "ModuleNotFoundError: No module named 'no_such_peer_for_this_test'",
    )


@pytest.mark.parametrize(
    ("returned", "message"),
    [
        ("rows", "benchmarks._fake.run returned str, not a list of dicts"),
        ([{"when": object()}], "benchmarks._fake.run returned rows that are not JSON: Object of type object"),
    ],
)
def test_rows_that_cannot_be_written_fail_the_part(monkeypatch, returned, message):
    module = ModuleType("benchmarks._fake")
    module.run = lambda **arguments: returned  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "benchmarks._fake", module)

    outcome = _suite.run_part(_suite.Part("fake", "benchmarks._fake"), quick=True, data=None)

    assert outcome.status == "failed" and outcome.error is not None and outcome.error.startswith(message)


def test_a_quick_run_writes_beside_the_full_one(parts, monkeypatch, tmp_path):
    monkeypatch.setattr(_suite, "RESULTS", tmp_path)

    assert suite("--quick", "--only", "import")[0] == 0
    assert (tmp_path / "suite-quick" / "results.json").is_file() and not (tmp_path / "suite").exists()


def test_only_names_the_parts_there_are(capsys):
    with pytest.raises(SystemExit) as exited:
        _suite.main(["--only", "import,bogus"])

    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert "argument --only: 'import,bogus' names no part or an unknown one; use some of import, overhead," in error


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "—"),
        (True, "yes"),
        (0.1234, "0.123"),
        (56.04, "56.0"),
        (12345.6, "12,346"),
        (20000, "20,000"),
        ("a|b", "a\\|b"),
    ],
)
def test_a_cell_is_readable(value, shown):
    assert _report.cell(value) == shown


def test_the_plots_are_drawn_from_rows(tmp_path):
    pytest.importorskip("matplotlib")
    (tmp_path / "overhead.png").write_bytes(b"stale")

    written = _plots.write_plots([{"benchmark": "quality", **row} for row in QUALITY], tmp_path)

    assert [path.name for path in written] == list(_plots.PLOTS[:3])
    assert not (tmp_path / "overhead.png").exists()  # no overhead rows this time: an old plot is not left behind


def test_overhead_runs_as_a_file_and_as_a_part(capsys):
    root = Path(benchmarks.__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, str(root / "benchmarks" / "overhead.py"), "--calls", "5", "--repeats", "1"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])},
    )
    assert "refine (free text)" in done.stdout

    rows = overhead.run(quick=True)

    assert [(row["benchmark"], row["mode"], row["calls"]) for row in rows] == [
        ("overhead", "free text", 200),
        ("overhead", "grammar", 200),
    ]
    assert all(row["refine_us"] > 0 for row in rows)
    if importlib.util.find_spec("dspy") is None:
        assert all(row["dspy_us"] is None and row["ratio"] is None for row in rows)
        assert "dspy not installed: pip install -e '.[bench]'" in capsys.readouterr().out


def test_questions_reach_the_quality_part_alone(parts, tmp_path):
    code, _ = suite("--only", "overhead,quality", "--questions", "8", "--out", str(tmp_path))

    assert code == 0
    assert parts["quality"] == [{"quick": False, "data": _suite.corpora.shared_data_dir(), "n": 8}]
    assert parts["overhead"] == [{"quick": False}]
    assert json.loads((tmp_path / "results.json").read_text())["run"]["questions"] == 8


def test_questions_must_be_a_positive_number(capsys):
    with pytest.raises(SystemExit) as exited:
        _suite.main(["--questions", "0"])
    assert exited.value.code == 2 and "'0' is not a positive number of questions" in capsys.readouterr().err
