"""The WiCE benchmark's arithmetic, and the lexical checker's required AUC on the real data."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("REFINE_DATA", ROOT.parent / "shared" / "data"))


def load_benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location("wice_support", ROOT / "benchmarks" / "wice_support.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["wice_support"] = module
    spec.loader.exec_module(module)
    return module


bench = load_benchmark()


@pytest.mark.parametrize(
    ("scores", "positives", "auc"),
    [
        ([0.1, 0.2, 0.8, 0.9], [False, False, True, True], 1.0),
        ([0.9, 0.8, 0.2, 0.1], [False, False, True, True], 0.0),
        ([0.5, 0.5, 0.5, 0.5], [False, True, False, True], 0.5),
        ([0.1, 0.4, 0.35, 0.8], [False, False, True, True], 0.75),
        ([1.0, 0.0, 1.0], [True, False, False], 0.75),
    ],
)
def test_roc_auc(scores: list[float], positives: list[bool], auc: float) -> None:
    assert bench.roc_auc(scores, positives) == pytest.approx(auc)


def test_roc_auc_needs_both_classes() -> None:
    assert bench.roc_auc([0.1, 0.2], [True, True]) != bench.roc_auc([0.1, 0.2], [True, True])  # nan


def test_best_threshold() -> None:
    threshold, accuracy = bench.best_threshold([0.1, 0.4, 0.35, 0.8], [False, False, True, True])
    assert (threshold, accuracy) == (0.35, 0.75)  # ties go to the lowest threshold
    assert bench.best_threshold([0.1, 0.9], [True, False]) == (0.1, 0.5)
    assert bench.accuracy([0.2, 0.7], [False, True], 0.5) == 1.0


@pytest.mark.data
@pytest.mark.skipif(not (DATA / "wice" / "dev.jsonl").is_file(), reason="needs ../shared/data/wice/dev.jsonl")
def test_lexical_checker_reaches_the_required_auc_on_wice() -> None:
    from citations import LexicalChecker

    rows = bench.load(DATA / "wice" / "dev.jsonl")
    result = bench.evaluate("lexical", LexicalChecker(), rows, lambda: None)
    assert result.claims == 158
    assert result.auc >= 0.70
