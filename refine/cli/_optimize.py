"""What ``refine optimize`` and ``--program`` do, as functions the CLI calls (it only parses and prints).

``refine optimize --train PATH [--format F] [--optimizer bootstrap|random-search|labeled]
[--limit N] --save program.json`` compiles a :class:`~refine.CitedRAG` over the data set's pooled
passages and saves it; ``refine ask ... --program program.json`` and ``refine eval ...
--program program.json`` load that file into the CitedRAG they build.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar, cast

from refine import retrieval
from refine.errors import UsageError
from refine.evaluation._datasets import FORMATS, DataFormat, load_dataset
from refine.example import Example
from refine.lm import LM
from refine.metrics import Metric, cited, em, f1, gold_answers, normalize_answer
from refine.optimizers import BootstrapFewShot, Compiled, LabeledFewShot, RandomSearch
from refine.program import Program, load_program, save_program
from refine.rag import CitedRAG

__all__ = [
    "METRICS",
    "OPTIMIZERS",
    "OptimizeResult",
    "cited_labels",
    "make_optimizer",
    "optimize_command",
    "with_program",
]

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


def cited_labels(retriever: retrieval.BM25Retriever, examples: Sequence[Example], k: int) -> tuple[Example, ...]:
    """``examples`` ready to be labelled demos of cited answers: each gets the ``k`` passages the
    program would retrieve and ``answer``, its gold answer citing the first of them that holds it
    (``"Seine [2]."``); the gold ``answers`` stay for the metrics. An example none of whose passages
    holds a gold answer is left as it was, without passages, so it makes no labelled demo: a demo
    must never cite a passage that lacks its claim."""
    labelled = []
    for example in examples:
        passages = [hit.passage for hit in retriever.search(example["question"], k=k)]
        texts = [f" {normalize_answer(p.text)} " for p in passages]  # padded: whole words only
        found = next(
            (
                (gold, i)
                for gold in gold_answers(example)
                if normalize_answer(gold)
                for i, text in enumerate(texts, 1)
                if f" {normalize_answer(gold)} " in text
            ),
            None,
        )
        if found is None:
            labelled.append(example)
            continue
        answer = f"{found[0].rstrip('.')} [{found[1]}]."
        labelled.append(example.with_values(passages=passages, answer=answer))
    return tuple(labelled)


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
    format: DataFormat | None = None,
    limit: int | None = None,
    k: int = 3,
    seed: int = 0,
    retriever: retrieval.BM25Retriever | None = None,
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
    if retriever is None:
        if not dataset.passages:
            raise UsageError(
                f"--train {train} holds no passages to retrieve from; pass --corpus with the corpus to search"
            )
        retriever = retrieval.BM25Retriever.build(dataset.passages)
    program = CitedRAG(retriever, k=k)
    # Labelled demos (LabeledFewShot's, RandomSearch's labelled candidate) need cited answers.
    training = cited_labels(retriever, training, k)
    if isinstance(optimizer, RandomSearch):
        validation = examples[len(training) :] or training
        compiled = optimizer.optimize(program, training, valset=validation, lm=lm, seed=seed)
    else:
        compiled = optimizer.optimize(program, training, lm=lm, seed=seed)
    path = save_program(compiled.program, save)
    return OptimizeResult(compiled, path, time.perf_counter() - started)


P = TypeVar("P", bound=Program)


def with_program(program: P, path: str | os.PathLike[str] | None) -> P:
    """``program`` with what ``--program PATH`` holds loaded into it (as it is without the flag)."""
    return program if path is None else cast(P, load_program(program, path))
