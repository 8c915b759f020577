"""Evaluation: a program run over examples, each scored, with aggregates and a resumable row file.

:func:`evaluate` calls the program on every :class:`~refine.Example`, scores it with the metric
and returns an :class:`EvalReport` of :class:`EvalRow` s; rows stream to a JSON-lines file and a
run resumes it. :func:`load_dataset` reads HotpotQA, NQ-open or any JSON-lines file into a
:class:`Dataset` (examples plus the pooled corpus to retrieve from).
"""

from refine.evaluation._datasets import DataFormat, Dataset, load_dataset
from refine.evaluation._evaluate import EvaluationInterrupted, evaluate
from refine.evaluation._report import EvalReport, RuleStats, bootstrap_interval
from refine.evaluation._rows import EvalRow, RowError, RowFailure

__all__ = [
    "DataFormat",
    "Dataset",
    "EvalReport",
    "EvalRow",
    "EvaluationInterrupted",
    "RowError",
    "RowFailure",
    "RuleStats",
    "bootstrap_interval",
    "evaluate",
    "load_dataset",
]
