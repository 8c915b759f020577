"""Running a teacher on one training example, and whether its trace may become demonstrations.

A trace is kept only when the teacher returned (no assertion gave up, every reply parsed), no
suggestion still fails on the result, the attempt that wrote each predictor's final outputs
failed no check at all, and the metric passed: a bool metric by being true, a numeric one by
reaching an explicit ``threshold``. Each predictor gets the demo of its last call in the trace
(the one in the final pass of a program that backtracked), valued by its final, passing
attempt; when an earlier attempt of that call failed, it also yields a :class:`RepairDemo`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from refine.errors import RefineError, UsageError
from refine.example import Example
from refine.history import Attempt, Demo, Prediction, RepairDemo, Step
from refine.lm import LM
from refine.metrics import Metric, metric_name
from refine.optimizers._report import ExampleOutcome as Outcome
from refine.program import Module, Predict, Program
from refine.program._context import resolve_lm
from refine.program._runs import Run
from refine.signatures import ReplyFormat
from refine.usage import Usage

__all__ = ["Trace", "bootstrap_one", "metric_passes", "one_line", "reply_format"]


def one_line(text: str, width: int = 200) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= width else f"{flat[: width - 3]}..."


@dataclass(frozen=True, slots=True)
class Trace:
    """What a kept trace teaches: a demo per predictor, and a repair demo where a retry fixed a reply."""

    demos: Mapping[str, Demo]
    repairs: Mapping[str, RepairDemo]


def metric_passes(metric: Metric, threshold: float | None, example: Example, prediction: Any) -> tuple[bool, float]:
    """Whether ``metric`` passes on ``prediction``, and its value as a float."""
    value = metric(example, prediction)
    name = metric_name(metric)
    if isinstance(value, bool):
        return (value if threshold is None else float(value) >= threshold), float(value)
    if isinstance(value, numbers.Real) and not math.isnan(value):
        if threshold is None:
            raise UsageError(
                f"metric {name} returned {value!r} for example {example.id!r}; a metric that returns numbers "
                f"keeps a demo only at or above an explicit threshold: pass threshold=..., e.g. threshold=1.0 "
                "(or make the metric return a bool)"
            )
        return float(value) >= threshold, float(value)
    raise UsageError(f"metric {name} returned {value!r} for example {example.id!r}; a metric returns a float or a bool")


def _run(teacher: Program, example: Example, lm: LM | None, round: int) -> Prediction:
    inputs = dict(example.inputs)
    if isinstance(teacher, Predict):
        return teacher.run(inputs, lm=resolve_lm(lm or teacher.lm), rollout=round)
    if round == 0 or type(teacher)._start is not Module._start:
        # Round 0 is an ordinary call; a program with its own way of running (BestOfN, Refine) is
        # always called as it is, since a fresh sample of it is not one Run.
        return teacher(lm=lm, **inputs)
    # A later round: the same program, sampled afresh (each call its own seed, temperature >= 0.7).
    return teacher._execute(Run(resolve_lm(lm or teacher.lm), round), (), inputs)


def _steps(teacher: Program, prediction: Prediction) -> dict[str, Step]:
    """The last call of each predictor: the one the final pass made."""
    if isinstance(teacher, Predict):
        return {"self": Step("self", prediction.inputs, prediction.attempts, prediction.outputs)}
    return {step.name: step for step in prediction.trace}


def _final(step: Step) -> int | None:
    """The index of the attempt that wrote the step's outputs."""
    for index in range(len(step.attempts) - 1, -1, -1):
        if step.attempts[index].outputs == step.outputs:
            return index
    return None


def reply_format(predict: Predict, lm: LM | None, inputs: Mapping[str, Any]) -> ReplyFormat:
    """The reply format ``predict`` asks ``lm`` for (``"fields"`` when that cannot be told)."""
    try:
        return predict.plan(resolve_lm(predict.lm or lm), inputs).format
    except RefineError:
        return "fields"


def _repair(step: Step, final: int, format: ReplyFormat) -> RepairDemo | None:
    failed: Attempt | None = step.attempts[final - 1] if final > 0 else None
    if failed is None or not failed.failures:
        return None
    return RepairDemo({**step.inputs, **(step.outputs or {})}, failed.response.text, failed.feedback, format)


def bootstrap_one(
    teacher: Program,
    students: Mapping[str, Predict],
    example: Example,
    metric: Metric,
    threshold: float | None,
    *,
    lm: LM | None,
    round: int,
) -> tuple[Outcome, Trace | None, Usage]:
    """Run ``teacher`` on ``example``; the outcome, what the trace teaches (when kept), and its cost."""
    example_id = str(example.id)
    try:
        prediction = _run(teacher, example, lm, round)
    except RefineError as exc:
        attempts: Sequence[Attempt] = tuple(getattr(exc, "attempts", ()) or ())
        usage = Usage.of(a.response for a in attempts)
        reason = f"the teacher raised {type(exc).__name__}: {one_line(str(exc))}"
        return Outcome(example_id, False, reason, attempts=len(attempts), round=round), None, usage
    usage = prediction.usage
    attempts_made = len(prediction.attempts)
    if prediction.failures:
        shown = "; ".join(dict.fromkeys(f"{v.rule}: {v.message}" for v in prediction.failures))
        return (
            Outcome(
                example_id, False, f"a suggestion still fails: {one_line(shown)}", attempts=attempts_made, round=round
            ),
            None,
            usage,
        )
    steps = _steps(teacher, prediction)
    demos: dict[str, Demo] = {}
    repairs: dict[str, RepairDemo] = {}
    for name, step in steps.items():
        if name not in students:
            raise UsageError(
                f"the teacher's predictor {name!r} is not among the student's ({', '.join(students)}); "
                "give a teacher with the same predictors as the program compiled"
            )
        final = _final(step)
        if step.outputs is None or final is None:
            return (
                Outcome(example_id, False, f"predictor {name!r} gave no outputs", attempts=attempts_made, round=round),
                None,
                usage,
            )
        failures = step.attempts[final].failures
        if failures:
            shown = "; ".join(dict.fromkeys(f"{v.rule}: {v.message}" for v in failures))
            reason = f"predictor {name!r} kept outputs that fail {one_line(shown)}"
            return Outcome(example_id, False, reason, attempts=attempts_made, round=round), None, usage
        demos[name] = Demo({**step.inputs, **step.outputs})
        repair = _repair(step, final, reply_format(students[name], lm or teacher.lm, step.inputs))
        if repair is not None:
            repairs[name] = repair
    passed, score = metric_passes(metric, threshold, example, prediction)
    if not passed:
        bar = "true" if threshold is None else f"threshold={threshold:g}"
        reason = f"metric {metric_name(metric)}={score:.3g} does not reach {bar}"
        return Outcome(example_id, False, reason, score=score, attempts=attempts_made, round=round), None, usage
    fixed = tuple(repairs)
    reason = "kept" + (f" (a retry fixed {', '.join(map(repr, fixed))})" if fixed else "")
    outcome = Outcome(example_id, True, reason, score=score, repaired=fixed, attempts=attempts_made, round=round)
    return outcome, Trace(demos, repairs), usage
