"""The retrieval benchmark's quick run: every system measured, every row complete and sane."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("REFINE_DATA", ROOT.parent / "shared" / "data"))
FIELDS = {"benchmark", "corpus", "system", "passages", "build_s", "load_s", "qps", "peak_rss_mb", "ratio_qps_vs_bm25s"}


def load_benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location("retrieval_benchmark", ROOT / "benchmarks" / "retrieval.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["retrieval_benchmark"] = module
    spec.loader.exec_module(module)
    return module


bench = load_benchmark()


def test_a_quick_run_measures_every_system_with_sane_numbers():
    rows = bench.run(quick=True, data=DATA)
    systems = {(row["corpus"].split("[")[0].split("-")[0], row["system"]) for row in rows}
    assert {("synthetic", "refine"), ("synthetic", "bm25s")} <= systems
    if (DATA / "hotpotqa" / "dev397.jsonl").is_file():
        assert {("hotpotqa", "refine"), ("hotpotqa", "bm25s")} <= systems
    for row in rows:
        assert row.keys() >= FIELDS, row
        assert row["benchmark"] == "retrieval" and row["quick"] is True
        assert row["passages"] > 0 and row["queries"] > 0 and row["k"] == 5
        assert row["build_s"] > 0 and row["qps"] > 0 and row["peak_rss_mb"] > 0
        assert row["peak_rss_mb"] >= row["baseline_rss_mb"] > 0
        assert row["ratio_qps_vs_bm25s"] > 0 and 0 <= row["overlap_vs_bm25s"] <= 1
        if row["corpus"].startswith("synthetic"):
            assert row["load_s"] > 0 and row["save_s"] > 0 and row["qps_first"] > 0
            assert row["build_peak_rss_mb"] > 0
        else:
            assert row["load_s"] is None
        assert (row["batch_qps"] is not None) == (row["system"] == "bm25s")
    synthetic = {row["system"]: row for row in rows if row["corpus"].startswith("synthetic")}
    assert synthetic["bm25s"]["ratio_qps_vs_bm25s"] == 1.0
    # The same tokenization, and generated queries repeat no word: the same passages, ties aside.
    assert synthetic["refine"]["overlap_vs_bm25s"] > 0.95


def test_the_verdicts_name_the_targets_and_every_loss():
    base = {"corpus": "c", "passages": 1_000_000, "save_s": None, "qps_first": None, "batch_qps": None}
    base |= {"build_peak_rss_mb": None, "peak_rss_mb": 100.0, "load_s": 2.5, "build_s": 1.0}
    refine = {**base, "system": "refine", "qps": 80.0, "ratio_qps_vs_bm25s": 0.8}
    bm25s = {**base, "system": "bm25s", "qps": 100.0, "ratio_qps_vs_bm25s": 1.0, "load_s": 1.0, "build_s": 2.0}
    lines = bench.verdicts([bm25s, refine])
    assert "c: refine queries/s 0.80x raw bm25s's (target >= 0.9x): MISSED" in lines
    assert "c: refine loads in 2.500 s (target < 2 s): MISSED" in lines
    assert "c: refine loses to bm25s on load: 2.5 s against 1 (2.50x)" in lines
    assert "c: refine loses to bm25s on queries/s one at a time: 80 qps against 100 (0.80x)" in lines
    assert not any("on build" in line for line in lines)
