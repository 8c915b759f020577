"""The assertions benchmark: its bookkeeping with a scripted model, and a short real run."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

from corpora import Passage
from refine import ScriptedLM

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("REFINE_DATA", ROOT.parent / "shared" / "data"))


def load_benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location("assertions_benchmark", ROOT / "benchmarks" / "assertions.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["assertions_benchmark"] = module
    spec.loader.exec_module(module)
    return module


bench = load_benchmark()
INPUTS = {"passages": [Passage.create("Paris", "Paris is the capital of France.")], "question": "Capital of France?"}


def test_a_suggestion_retries_and_the_row_counts_it():
    lm = ScriptedLM(["It is Paris.", "It is Paris [1]."], supports=())
    row = bench.run_one(bench.predictor("suggest", 2, 64), lm, INPUTS)
    assert row["passed"] and not row["exhausted"] and row["calls"] == 2
    assert len(row["retry_seconds"]) == 1 and row["answer"] == "It is Paris [1]."
    assert row["retry_new_tokens"][0] > 0  # the retry's prompt holds the failed reply and the feedback


def test_an_exhausted_assertion_is_a_failed_row_not_a_crash():
    lm = ScriptedLM(["Paris.", "Paris!", "Paris?"], supports=())
    row = bench.run_one(bench.predictor("assert", 2, 64), lm, INPUTS)
    assert not row["passed"] and row["exhausted"] and row["calls"] == 3


def test_without_assertions_the_rules_are_only_measured():
    row = bench.run_one(bench.predictor("none", 2, 64), ScriptedLM(["Paris."], supports=()), INPUTS)
    assert not row["passed"] and not row["exhausted"] and row["calls"] == 1


def test_finished_rows_survive_an_interrupted_line(tmp_path):
    out = tmp_path / "rows.jsonl"
    out.write_text(json.dumps({"mode": "none", "id": "q1", "passed": True}) + '\n{"mode": "none", "id"')
    assert list(bench.done_rows(out)) == [("none", "q1")]


@pytest.mark.model
@pytest.mark.data
def test_a_short_real_run_writes_rows_and_resumes(tmp_path, embedded_lm, capsys):
    if not (DATA / "hotpotqa" / "dev397.jsonl").is_file():
        pytest.skip("needs ../shared/data/hotpotqa/dev397.jsonl")
    out = tmp_path / "rows.jsonl"
    args = ["--data", str(DATA), "--n", "1", "--modes", "none,grammar", "--out", str(out)]
    assert bench.main(args) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["mode"], r["calls"]) for r in rows] == [("none", 1), ("grammar", 1)]
    assert all(r["passed"] for r in rows if r["mode"] == "grammar")  # the grammar admits only valid citations
    assert bench.main(args) == 0 and len(out.read_text().splitlines()) == 2  # resumed: nothing redone
    assert "Assertions, SmolLM2-135M" in capsys.readouterr().out
