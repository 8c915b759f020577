"""What ``refine optimize`` and ``--program`` do, as functions the CLI calls (it only parses and prints).

``refine optimize --train PATH [--format F] [--optimizer bootstrap|random-search|labeled]
[--limit N] --save program.json`` compiles a :class:`~refine.CitedRAG` over the data set's pooled
passages and saves it; ``refine ask ... --program program.json`` and ``refine eval ...
--program program.json`` load that file into the CitedRAG they build.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from refine.datasets import FORMATS, Format, load_dataset
from refine.errors import UsageError
from refine.lm import LM
from refine.metrics import Metric, cited, em, f1
from refine.module import Program
from refine.optimizers._fewshot import BootstrapFewShot, LabeledFewShot
from refine.optimizers._report import Compiled
from refine.optimizers._search import RandomSearch
from refine.program_file import load_program, save_program
from refine.rag import CitedRAG
from refine.retrieval import BM25Retriever

__all__ = ["METRICS", "OPTIMIZERS", "OptimizeResult", "make_optimizer", "optimize_command", "with_program"]

OPTIMIZERS = ("bootstrap", "random-search", "labeled")
METRICS: dict[str, Metric] = {"em": em, "f1": f1, "cited": cited}
# What a trace must reach to be kept, per metric, unless --threshold says otherwise (cited is a bool).
THRESHOLDS: dict[str, float | None] = {"em": 1.0, "f1": 0.5, "cited": None}

Optimizer = BootstrapFewShot | RandomSearch | LabeledFewShot


def make_optimizer(
    name: str,
    *,
    metric: str = "f1",
    threshold: float | None = None,
    demos: int = 4,
    repair_demos: int = 0,
    candidates: int = 4,
    threads: int = 1,
    progress: bool = True,
) -> Optimizer:
    """The optimizer ``--optimizer name`` means, with its options."""
    if metric not in METRICS:
        raise UsageError(f"--metric {metric!r} is not one of {', '.join(METRICS)}")
    chosen = METRICS[metric]
    bar = THRESHOLDS[metric] if threshold is None else threshold
    if name == "labeled":
        return LabeledFewShot(demos)
    if name == "bootstrap":
        return BootstrapFewShot(
            chosen,
            max_bootstrapped_demos=demos,
            max_labeled_demos=0,
            threshold=bar,
            repair_demos=repair_demos,
            progress=progress,
        )
    if name == "random-search":
        return RandomSearch(
            chosen,
            num_candidates=candidates,
            threshold=bar,
            max_bootstrapped_demos=demos,
            max_labeled_demos=0,
            repair_demos=repair_demos,
            threads=threads,
            progress=progress,
        )
    raise UsageError(f"--optimizer {name!r} is not one of {', '.join(OPTIMIZERS)}")


@dataclass(frozen=True, slots=True)
class OptimizeResult:
    compiled: Compiled
    saved: Path
    seconds: float


def optimize_command(
    *,
    train: str | os.PathLike[str],
    save: str | os.PathLike[str],
    optimizer: Optimizer,
    lm: LM,
    format: Format | None = None,
    limit: int | None = None,
    k: int = 3,
    seed: int = 0,
) -> OptimizeResult:
    """Compile a CitedRAG over the data at ``train`` (its first ``limit`` questions) and save it.

    For ``random-search``, the questions after the first ``limit`` (as many again) are the
    validation set, so candidates are never scored on the questions they were compiled from.
    """
    if format is not None and format not in FORMATS:
        raise UsageError(f"--format {format!r} is not one of {', '.join(FORMATS)}")
    started = time.perf_counter()
    dataset = load_dataset(train, format=format, limit=None if limit is None else 2 * limit)
    examples = dataset.examples
    training = examples[:limit] if limit is not None else examples
    program = CitedRAG(BM25Retriever.build(dataset.passages), k=k)
    if isinstance(optimizer, RandomSearch):
        validation = examples[len(training) :] or training
        compiled = optimizer.optimize(program, training, valset=validation, lm=lm, seed=seed)
    else:
        compiled = optimizer.optimize(program, training, lm=lm, seed=seed)
    path = save_program(compiled.program, save)
    return OptimizeResult(compiled, path, time.perf_counter() - started)


def with_program(program: Program, path: str | os.PathLike[str] | None) -> Program:
    """``program`` with what ``--program PATH`` holds loaded into it (as it is without the flag)."""
    return program if path is None else load_program(program, path)
