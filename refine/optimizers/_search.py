"""RandomSearch: candidate demo sets, each scored with :func:`refine.evaluate`; the best one kept.

DSPy's ``BootstrapFewShotWithRandomSearch``, as a function of its inputs. The candidates, in order:
the program without demos (zero-shot), labelled demos (:class:`LabeledFewShot`), bootstrapped
demos over the training set in order, then bootstrapped demos over the training set shuffled with
``seed + i``, each with a number of demos drawn from 1..``max_bootstrapped_demos``. The teacher
runs once per training example (per round): the candidates reuse its traces, which a
reproducible backend (the embedded model) would only repeat. Every candidate is scored on
``valset`` (the training set when none is given); the best mean wins, the earliest on ties.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from refine._options import check_bool, check_int, check_number
from refine.errors import UsageError
from refine.evaluation import Dataset, evaluate
from refine.example import Example
from refine.history import Demo
from refine.lm import LM
from refine.metrics import Metric, metric_name
from refine.optimizers._base import Optimizer
from refine.optimizers._fewshot import BootstrapFewShot, LabeledFewShot, TeacherRuns
from refine.optimizers._program import apply_demos, predictors, training_set
from refine.optimizers._report import Candidate, Compiled, CompileReport
from refine.program import Program, check_program
from refine.usage import Usage

__all__ = ["RandomSearch"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RandomSearch(Optimizer):
    """``num_candidates`` demo sets (zero-shot, labelled, bootstrapped, bootstrapped from shuffles),
    each scored with :func:`refine.evaluate` on a validation set; returns the best.

    ``metric`` scores the candidates (its mean); ``threshold`` is what a trace must reach to be
    bootstrapped (required when the metric returns numbers, as for :class:`BootstrapFewShot`).
    ``threads`` is passed to :func:`refine.evaluate`.
    """

    metric: Metric
    num_candidates: int = 8
    threshold: float | None = None
    max_bootstrapped_demos: int = 4
    max_labeled_demos: int = 4
    max_rounds: int = 1
    repair_demos: int = 0
    teacher: Program | None = None
    threads: int = 1
    context_window: int | None = None
    progress: bool = field(default=True, compare=False)

    def __post_init__(self) -> None:
        if not callable(self.metric):
            raise UsageError(f"metric={self.metric!r} is not callable; pass a function (example, prediction) -> float")
        check_int("num_candidates", self.num_candidates, minimum=1)
        check_int("max_bootstrapped_demos", self.max_bootstrapped_demos, minimum=0)
        check_int("max_labeled_demos", self.max_labeled_demos, minimum=0)
        check_int("threads", self.threads, minimum=1)
        check_bool("progress", self.progress)
        if self.threshold is not None:
            check_number("threshold", self.threshold)

    def __repr__(self) -> str:
        return f"RandomSearch({metric_name(self.metric)}, num_candidates={self.num_candidates})"

    def _bootstrap(self, max_demos: int) -> BootstrapFewShot:
        return BootstrapFewShot(
            self.metric,
            max_bootstrapped_demos=max_demos,
            max_labeled_demos=self.max_labeled_demos,
            max_rounds=self.max_rounds,
            teacher=self.teacher,
            threshold=self.threshold,
            repair_demos=self.repair_demos,
            context_window=self.context_window,
            progress=self.progress,
        )

    def optimize(
        self,
        program: Program,
        trainset: Iterable[Example] | Dataset,
        *,
        valset: Iterable[Example] | Dataset | None = None,
        lm: LM | None = None,
        seed: int = 0,
        runs: TeacherRuns | None = None,
    ) -> Compiled:
        """:meth:`compile`, returning the best program with a report of every candidate's score.

        ``runs`` shares the teacher's results with other optimizers of the same teacher, training
        set and LM (see :meth:`BootstrapFewShot.optimize`).
        """
        started = time.perf_counter()
        program = check_program(program)
        examples = training_set(trainset)
        validation = examples if valset is None else training_set(valset, "valset")
        seed = check_int("seed", seed, minimum=0)
        runs = {} if runs is None else runs
        made: list[tuple[str, Compiled]] = []
        for index in range(self.num_candidates):
            if index == 0:
                empty: dict[str, list[Demo]] = {name: [] for name in predictors(program)}
                zero = CompileReport("zero-shot", (), {name: 0 for name in empty})
                made.append(("zero-shot", Compiled(apply_demos(program, empty), zero)))
            elif index == 1:
                labeled = LabeledFewShot(self.max_labeled_demos, context_window=self.context_window)
                made.append(("labelled", labeled.optimize(program, examples, lm=lm, seed=seed)))
            elif index == 2:
                boot = self._bootstrap(self.max_bootstrapped_demos)
                made.append(("bootstrapped", boot.optimize(program, examples, lm=lm, seed=seed, runs=runs)))
            else:
                rng = random.Random(seed + index)
                order = list(examples)
                rng.shuffle(order)
                size = rng.randint(1, max(1, self.max_bootstrapped_demos))
                boot = self._bootstrap(size if self.max_bootstrapped_demos else 0)
                kind = f"bootstrapped, shuffled (seed {seed + index}, {size} demos)"
                made.append((kind, boot.optimize(program, order, lm=lm, seed=seed + index, runs=runs)))
        candidates: list[Candidate] = []
        usage = Usage()
        for index, (kind, compiled) in enumerate(made):
            usage = usage + compiled.report.usage
            scored = evaluate(compiled.program, validation, self.metric, lm=lm, threads=self.threads, progress=False)
            usage = usage + scored.usage
            candidates.append(Candidate(index, kind, compiled.report.demos, scored.mean, scored.interval))
            logger.info("candidate %d (%s): %s=%.3f", index, kind, metric_name(self.metric), scored.mean)
        best = max(range(len(candidates)), key=lambda i: (candidates[i].score, -i))
        chosen = made[best][1]
        report = CompileReport(
            optimizer=repr(self),
            outcomes=chosen.report.outcomes,
            demos=chosen.report.demos,
            repairs=chosen.report.repairs,
            trimmed=chosen.report.trimmed,
            usage=usage,
            seconds=time.perf_counter() - started,
            candidates=tuple(candidates),
            best=best,
        )
        return Compiled(chosen.program, report)
