"""Few-shot optimizers: :class:`LabeledFewShot` (demos from labels) and :class:`BootstrapFewShot`
(demos from the teacher's own traces, kept only when every constraint held and the metric passed).

Both are functions of their inputs: ``compile(program, trainset, *, lm=None, seed=0)`` returns a
new program and leaves the input as it was; the same inputs and seed give the same program;
nothing is kept on the optimizer, so one optimizer may compile from many threads at once.
``optimize(...)`` is the same call returning the program with its :class:`CompileReport`.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from refine._options import check_bool, check_int, check_number
from refine._progress import progress_bar
from refine.errors import UsageError
from refine.evaluation import Dataset
from refine.example import Example
from refine.history import Demo, RepairDemo
from refine.lm import LM
from refine.metrics import Metric, metric_name
from refine.optimizers._base import Optimizer
from refine.optimizers._program import (
    apply_demos,
    labeled_demo,
    predictors,
    training_set,
    trimmed,
)
from refine.optimizers._report import Compiled, CompileReport, ExampleOutcome
from refine.optimizers._traces import Trace, bootstrap_one
from refine.program import Program, check_program
from refine.usage import Usage

__all__ = ["BootstrapFewShot", "LabeledFewShot", "TeacherRuns"]

logger = logging.getLogger(__name__)

# What the teacher gave on each (example id, round): shared by the candidates of one search, so a
# reproducible teacher runs once per example however many candidates reuse its traces.
TeacherRuns = dict[tuple[str, int], tuple[ExampleOutcome, Trace | None, Usage]]


def _labeled(
    program: Program, examples: Sequence[Example], k: int, rng: random.Random
) -> tuple[dict[str, list[tuple[str, Demo]]], dict[str, str]]:
    """Up to ``k`` labelled demos per predictor (with the id of the example each is from), sampled
    by ``rng``; and, for the examples that cannot be one, why."""
    demos: dict[str, list[tuple[str, Demo]]] = {}
    why: dict[str, str] = {}
    for name, predict in predictors(program).items():
        usable: list[tuple[str, Demo]] = []
        for example in examples:
            made = labeled_demo(name, predict, example)
            if isinstance(made, Demo):
                usable.append((str(example.id), made))
            else:
                why.setdefault(str(example.id), made)
        demos[name] = rng.sample(usable, min(k, len(usable))) if k else []
    return demos, why


def _used(demos: Mapping[str, Sequence[tuple[str, Demo]]], kept: Mapping[str, Sequence[Demo]]) -> set[str]:
    """The ids of the examples whose labelled demos survived trimming (a prefix of each list)."""
    return {example_id for name, pairs in demos.items() for example_id, _ in pairs[: len(kept.get(name, ()))]}


@dataclass(frozen=True, slots=True)
class LabeledFewShot(Optimizer):
    """``k`` demos per predictor straight from labelled examples, sampled with the seed.

    A demo holds the predictor's fields taken by name from the example (an output ``answer`` from
    its gold ``answers``); an example without every field a predictor needs is not a demo of it.
    ``k=0`` means no demos.
    """

    k: int = 16
    context_window: int | None = None

    def __post_init__(self) -> None:
        check_int("k", self.k, minimum=0)
        if self.context_window is not None:
            check_int("context_window", self.context_window, minimum=1)

    def optimize(
        self, program: Program, trainset: Iterable[Example] | Dataset, *, lm: LM | None = None, seed: int = 0
    ) -> Compiled:
        started = time.perf_counter()
        program = check_program(program)
        examples = training_set(trainset)
        seed = check_int("seed", seed, minimum=0)
        labeled, why = _labeled(program, examples, self.k, random.Random(seed))
        demos = {name: [demo for _, demo in pairs] for name, pairs in labeled.items()}
        kept, dropped = trimmed(program, demos, {}, lm=lm, window=self.context_window)
        used = _used(labeled, kept)
        outcomes = []
        for example in examples:
            example_id = str(example.id)
            if example_id in used:
                outcomes.append(ExampleOutcome(example_id, True, "a labelled demo"))
            else:
                outcomes.append(ExampleOutcome(example_id, False, why.get(example_id, "not sampled")))
        report = CompileReport(
            optimizer=repr(self),
            outcomes=tuple(outcomes),
            demos={name: len(ds) for name, ds in kept.items()},
            trimmed=dropped,
            seconds=time.perf_counter() - started,
        )
        return Compiled(apply_demos(program, kept), report)


@dataclass(frozen=True, slots=True)
class BootstrapFewShot(Optimizer):
    """Demos from the teacher's own traces, kept only when every constraint held and the metric passed.

    The teacher (the program itself by default, its assertions active) runs on the training
    examples in order until every predictor has ``max_bootstrapped_demos`` demos (and
    ``repair_demos`` repair demos, when asked). A trace is kept only when the call returned, no
    hard or soft check still fails on its final outputs, and ``metric(example, prediction)``
    passed: a bool by being true, a number by reaching ``threshold`` (required for a metric that
    returns numbers). A trace that needed retries is a demo of its final, passing attempt; with
    ``repair_demos=n``, up to ``n`` such traces per predictor become :class:`RepairDemo` s instead,
    showing the failed reply, the feedback and the fix. ``max_rounds > 1`` runs the examples
    that were not kept again, each round a fresh sample (its own seeds, temperature >= 0.7).

    Then up to ``max_labeled_demos`` labelled demos (see :class:`LabeledFewShot`) are added from
    the examples not bootstrapped, sampled with the seed. ``0`` means none, for every ``max_*``.
    Demos that would not fit the context window beside the inputs, the reply and the retries are
    dropped with a :class:`DemoTrimWarning`.
    """

    metric: Metric
    max_bootstrapped_demos: int = 4
    max_labeled_demos: int = 4
    max_rounds: int = 1
    teacher: Program | None = None
    threshold: float | None = None
    repair_demos: int = 0
    context_window: int | None = None
    progress: bool = field(default=True, compare=False)

    def __post_init__(self) -> None:
        if not callable(self.metric):
            raise UsageError(
                f"metric={self.metric!r} is not callable; pass a function (example, prediction) -> bool | float, "
                "e.g. refine.metrics.em with threshold=1.0"
            )
        check_int("max_bootstrapped_demos", self.max_bootstrapped_demos, minimum=0)
        check_int("max_labeled_demos", self.max_labeled_demos, minimum=0)
        check_int("max_rounds", self.max_rounds, minimum=1)
        check_int("repair_demos", self.repair_demos, minimum=0)
        check_bool("progress", self.progress)
        if self.threshold is not None:
            check_number("threshold", self.threshold)
        if self.teacher is not None:
            check_program(self.teacher, "teacher")
        if self.context_window is not None:
            check_int("context_window", self.context_window, minimum=1)

    def __repr__(self) -> str:
        threshold = "" if self.threshold is None else f", threshold={self.threshold:g}"
        return (
            f"BootstrapFewShot({metric_name(self.metric)}, max_bootstrapped_demos={self.max_bootstrapped_demos}, "
            f"max_labeled_demos={self.max_labeled_demos}, repair_demos={self.repair_demos}{threshold})"
        )

    def optimize(
        self,
        program: Program,
        trainset: Iterable[Example] | Dataset,
        *,
        lm: LM | None = None,
        seed: int = 0,
        runs: TeacherRuns | None = None,
    ) -> Compiled:
        """:meth:`compile`, returning the program with its :class:`CompileReport`.

        ``runs`` (a dict, empty at first) keeps the teacher's results across calls that share a
        teacher, a training set and an LM, as :class:`RandomSearch` does for its candidates.
        """
        started = time.perf_counter()
        program = check_program(program)
        examples = training_set(trainset)
        seed = check_int("seed", seed, minimum=0)
        teacher = self.teacher if self.teacher is not None else program
        students = predictors(program)
        taught = predictors(teacher)
        if set(taught) != set(students):
            raise UsageError(
                f"teacher={teacher!r} has predictors {', '.join(taught)}, but the program has {', '.join(students)}; "
                "give a teacher of the same structure (e.g. the program itself with other settings)"
            )
        runs = {} if runs is None else runs
        demos: dict[str, list[Demo]] = {name: [] for name in students}
        repairs: dict[str, list[RepairDemo]] = {name: [] for name in students}
        seen_inputs: dict[str, list[Mapping[str, Any]]] = {name: [] for name in students}
        outcomes: dict[str, ExampleOutcome] = {}
        usage = Usage()

        def enough() -> bool:
            return all(len(demos[n]) >= self.max_bootstrapped_demos for n in students) and all(
                len(repairs[n]) >= self.repair_demos for n in students
            )

        wanted = self.max_bootstrapped_demos > 0 or self.repair_demos > 0
        with progress_bar(self.progress and wanted, "bootstrap", len(examples) * self.max_rounds) as advance:
            for round in range(self.max_rounds if wanted else 0):
                for example in examples:
                    example_id = str(example.id)
                    if example_id in outcomes and outcomes[example_id].kept:
                        continue
                    if enough():
                        break
                    key = (example_id, round)
                    fresh = key not in runs
                    if fresh:
                        runs[key] = bootstrap_one(
                            teacher, students, example, self.metric, self.threshold, lm=lm, round=round
                        )
                    outcome, trace, cost = runs[key]
                    if fresh:  # a run reused from an earlier call cost nothing now
                        usage = usage + cost
                    outcomes[example_id] = outcome
                    if trace is not None:
                        self._take(trace, demos, repairs, seen_inputs)
                    kept = sum(o.kept for o in outcomes.values())
                    advance(1, f"kept {kept}")
        bootstrapped = {str(e.id) for e in examples if e.id in outcomes and outcomes[str(e.id)].kept}
        rest = [e for e in examples if str(e.id) not in bootstrapped]
        labeled, _ = _labeled(program, rest, self.max_labeled_demos, random.Random(seed))
        # Repair demos first, then bootstrapped, then labelled: trimming drops from the end.
        combined = {name: [*repairs[name], *demos[name], *(d for _, d in labeled[name])] for name in students}
        kept_demos, dropped = trimmed(program, combined, seen_inputs, lm=lm, window=self.context_window)
        used = _used(
            {name: [("", d) for d in (*repairs[name], *demos[name])] + labeled[name] for name in students}, kept_demos
        )
        for example in examples:
            example_id = str(example.id)
            if example_id not in outcomes:
                reason = "not run: enough demos before it" if wanted else "not run: max_bootstrapped_demos=0"
                outcomes[example_id] = ExampleOutcome(example_id, False, reason)
            if example_id in used and not outcomes[example_id].kept:
                outcome = outcomes[example_id]
                outcomes[example_id] = replace(outcome, reason=f"{outcome.reason}; a labelled demo instead")
        report = CompileReport(
            optimizer=repr(self),
            outcomes=tuple(outcomes[str(e.id)] for e in examples),
            demos={name: len(ds) for name, ds in kept_demos.items()},
            repairs={name: sum(isinstance(d, RepairDemo) for d in ds) for name, ds in kept_demos.items()},
            trimmed=dropped,
            usage=usage,
            seconds=time.perf_counter() - started,
        )
        logger.info("%r", report)
        return Compiled(apply_demos(program, kept_demos), report)

    def _take(
        self,
        trace: Trace,
        demos: dict[str, list[Demo]],
        repairs: dict[str, list[RepairDemo]],
        seen_inputs: dict[str, list[Mapping[str, Any]]],
    ) -> None:
        """File a kept trace: a repair demo where one is wanted, else a plain demo, per predictor."""
        for name, demo in trace.demos.items():
            seen_inputs[name].append(demo.values)
            repair = trace.repairs.get(name)
            if repair is not None and len(repairs[name]) < self.repair_demos:
                repairs[name].append(repair)
            elif len(demos[name]) < self.max_bootstrapped_demos:
                demos[name].append(demo)
