"""The quality benchmark's quick run, as ``python -m benchmarks --quick`` does it: the real model, real data.

Every refine system answers 5 questions of each data set, in process and through llama.cpp's
OpenAI-compatible server on loopback; DSPy's systems run when the ``bench`` extra is installed and
are reported as skipped, with the fix, when it is not.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from benchmarks import quality

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("REFINE_DATA", ROOT.parent / "shared" / "data"))
DECODED = ("refine", "refine+suggest", "refine compiled", "refine (server)")  # grammar or JSON schema

pytestmark = [pytest.mark.model, pytest.mark.data]


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    if not all((DATA / path).exists() for path in quality.FILES.values()):
        pytest.skip(f"needs HotpotQA and NQ under {DATA}")
    pytest.importorskip("llama_cpp.server.app", reason="needs llama-cpp-python[server]: pip install -e '.[dev]'")
    return quality.run(quick=True, data=DATA)


def test_every_refine_system_answers_five_questions_of_each_data_set(rows):
    found = {(row["system"], row["dataset"]): row for row in rows if row.get("dataset")}
    for system in (*quality.REFINE_LOCAL, "refine (server)"):
        for dataset in quality.FILES:
            row = found[(system, dataset)]
            assert row["n"] == 5, (system, dataset)
            assert row["calls"] >= 1.0 and row["prompt_tokens"] > 0 and row["seconds"] > 0
            assert 0.0 <= row["f1"] <= 1.0 and 0.0 <= row["gold_precision"] <= 1.0
            if system in DECODED:  # outputs decoded under a grammar or schema always parse
                assert row["parsed"] == 1.0 and row["errors"] == 0, (system, dataset, row)


def test_the_compiled_system_says_what_compiling_cost(rows):
    compiled = [row for row in rows if row["system"] == "refine compiled"]
    assert compiled and all(row["compile_questions"] == 3 and row["compile_calls"] >= 3 for row in compiled)


def test_dspy_runs_or_is_skipped_with_the_fix(rows):
    dspy = [row for row in rows if row["system"].startswith("dspy")]
    assert {row["system"] for row in dspy} == {s for s in quality.SYSTEMS if s.startswith("dspy")}
    if importlib.util.find_spec("dspy") is None:
        assert all(row["skipped"] == quality.DSPY_MISSING for row in dspy)
    else:
        assert all(row["n"] == 5 for row in dspy)
