"""Invariants of a program run, each a function that raises :class:`PropertyFailed` with a readable
explanation: what was violated, then the run's attempt history (each attempt's reply and the
feedback it got) and, when given, the LM script.

``outcome_of(program, inputs, lm=lm)`` runs a program and returns what it returned, or the typed
refine error it raised; anything else fails the property. The other invariants read that outcome.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise
from typing import Any, TypeAlias, cast

from hypothesis.errors import HypothesisException

import citations
from corpora import Passage
from refine.errors import RefineError, UsageError
from refine.history import Attempt, Prediction
from refine.lm import LM, ScriptedLM
from refine.program import Module, Predict, Program
from refine.program._assertions import violations_of
from refine.usage import Usage

__all__ = [
    "Outcome",
    "PropertyFailed",
    "attempts_bounded",
    "check_invariants",
    "cites_only_retrieved",
    "explain",
    "holds_hard_rules",
    "outcome_of",
    "retries_extend_prompts",
    "usage_adds_up",
]

# What a program call came to: its result, or the typed error it raised.
Outcome: TypeAlias = Prediction | RefineError

_SHOWN = 300


class PropertyFailed(AssertionError):
    """A property of a program run does not hold; the message explains it with the run's history."""


def _short(text: str) -> str:
    return repr(text) if len(text) <= _SHOWN else f"{text[:_SHOWN]!r}... ({len(text)} chars)"


def _attempt_lines(attempts: Sequence[Attempt], indent: str) -> list[str]:
    lines = []
    for number, attempt in enumerate(attempts, 1):
        lines.append(f"{indent}attempt {number}: reply {_short(attempt.response.text)}")
        if attempt.outputs is None:
            lines.append(f"{indent}  did not parse: {attempt.feedback}")
        elif attempt.failures:
            for violation in attempt.failures:
                kind = "hard" if violation.hard else "soft"
                lines.append(f"{indent}  failed {violation.rule} ({kind}): {violation.message}")
        else:
            lines.append(f"{indent}  passed")
    return lines


def explain(outcome: Outcome | BaseException, *, lm: LM | None = None) -> str:
    """The history of a run as text: what it came to, every attempt (by step, for a program of
    several predictors) with its reply and what it failed, and the LM's script when ``lm`` is a
    :class:`~refine.ScriptedLM` (or one drawn by :func:`scripted_lms`)."""
    if isinstance(outcome, BaseException):
        lines = [f"raised {type(outcome).__name__}: {str(outcome)[: _SHOWN * 2]}"]
    else:
        lines = [f"returned {outcome!r:.{_SHOWN * 2}}"]
    trace = getattr(outcome, "trace", ())
    attempts: Sequence[Attempt] = getattr(outcome, "attempts", ())
    if trace:
        for step in trace:
            lines.append(f"step {step.name!r}: {len(step.attempts)} attempt(s)")
            lines.extend(_attempt_lines(step.attempts, "  "))
    elif attempts:
        lines.extend(_attempt_lines(attempts, ""))
    else:
        lines.append("no LM attempt was made")
    if isinstance(lm, ScriptedLM):
        script = getattr(lm, "replies", None)
        if isinstance(script, list):
            lines.append(f"LM script ({len(script)} replies drawn): " + ", ".join(map(_short, script)))
        lines.append(f"LM calls made: {len(lm.requests)}")
    return "\n".join(lines)


def _fail(message: str, outcome: Outcome | BaseException, lm: LM | None = None) -> PropertyFailed:
    return PropertyFailed(f"{message}\n\n{explain(outcome, lm=lm)}")


def outcome_of(
    program: Program,
    inputs: Mapping[str, Any],
    *,
    lm: LM | None = None,
    allowed: tuple[type[RefineError], ...] = (RefineError,),
) -> Outcome:
    """Call ``program(**inputs, lm=lm)``: its result, or the error of one of ``allowed`` types it
    raised (any refine error by default). Any other exception fails the property: a program must
    return, or fail with a typed error that says what went wrong."""
    if not isinstance(inputs, Mapping):
        raise UsageError(f"inputs={inputs!r} must be a dict of the program's inputs")
    if not allowed or not all(isinstance(kind, type) and issubclass(kind, RefineError) for kind in allowed):
        raise UsageError(f"allowed={allowed!r} must be a tuple of refine error types, e.g. (refine.AssertionFailed,)")
    try:
        return program(lm=lm, **inputs)
    except allowed as exc:
        return exc
    except HypothesisException:
        raise  # hypothesis's own signals (a draw inside the run was rejected): not the program's doing
    # Not swallowed: re-raised as the property's failure, with the run's history where there is one.
    except Exception as exc:
        raise _fail(
            f"{program!r} raised {type(exc).__name__}, which is not one of "
            f"{', '.join(kind.__name__ for kind in allowed)}: {exc}",
            exc,
            lm,
        ) from exc


def _predictors(program: Program) -> dict[str, Predict]:
    return {name: cast(Predict, p) for name, p in program.named_predictors()}  # every leaf is a Predict


def holds_hard_rules(program: Program, outcome: Outcome) -> None:
    """A returned result satisfies every hard rule: each step's outputs pass its predictor's hard
    checks (declared rules and assertions), and the result passes the module's own assertions.
    A raised typed error holds trivially (that is what :func:`outcome_of` ensures)."""
    if not isinstance(outcome, Prediction):
        return
    predictors = _predictors(program)
    steps: list[tuple[str, Predict | None, Mapping[str, Any] | None, Mapping[str, Any]]]
    if isinstance(program, Predict) or not outcome.trace:
        only = program if isinstance(program, Predict) else next(iter(predictors.values()), None)
        steps = [("self", only, outcome.outputs, outcome.inputs)]
    else:
        steps = [(s.name, predictors.get(s.name), s.outputs, s.inputs) for s in outcome.trace]
    for name, predict, outputs, inputs in steps:
        if predict is None or outputs is None or not _inputs_of(predict, inputs):
            continue
        hard = [v for v in predict.check(outputs, inputs) if v.hard]
        if hard:
            raise _fail(
                f"step {name!r} returned outputs that fail hard rule(s): " + "; ".join(v.message for v in hard), outcome
            )
    if isinstance(program, Module):
        broken = [v for rule in program.assertions if rule.hard for v in violations_of(rule, outcome)]
        if broken:
            raise _fail("the result fails the program's assertion(s): " + "; ".join(v.message for v in broken), outcome)


def _inputs_of(predict: Predict, inputs: Mapping[str, Any]) -> bool:
    return {spec.name for spec in predict.signature.inputs} <= set(inputs)


def cites_only_retrieved(outcome: Outcome, *, field: str = "answer", passages: Sequence[Passage] | None = None) -> None:
    """Every citation in a returned result's ``field`` names one of the passages it was given
    (``passages``, else the result's ``passages`` or its ``passages`` input)."""
    if not isinstance(outcome, Prediction):
        return
    if field not in outcome.outputs:
        raise UsageError(f"field={field!r} is not an output of the result; outputs: {', '.join(outcome.outputs)}")
    given = passages if passages is not None else getattr(outcome, "passages", None) or outcome.inputs.get("passages")
    if not given:
        raise UsageError("cites_only_retrieved needs passages=: the result carries none")
    report = citations.check(str(outcome.outputs[field]), list(given))
    if report.invalid:
        found = "; ".join(item.message for item in report.invalid)
        raise _fail(f"{field!r} cites passages that were not retrieved ({len(given)} were): {found}", outcome)


def attempts_bounded(program: Program, outcome: Outcome, *, per_call: int | None = None) -> None:
    """No predictor call made more attempts than its ``max_backtracks + 1`` (or ``per_call``: a
    :class:`~refine.Refine` grants up to ``N`` rounds)."""
    predictors = _predictors(program)
    trace = getattr(outcome, "trace", ())
    attempts: Sequence[Attempt] = getattr(outcome, "attempts", ())
    calls = [(s.name, predictors.get(s.name), s.attempts) for s in trace]
    if not trace and attempts:
        only = program if isinstance(program, Predict) else next(iter(predictors.values()), None)
        calls = [("self", only, attempts)]
    for name, predict, made in calls:
        if predict is None:
            continue
        limit = per_call if per_call is not None else predict.max_backtracks + 1
        if len(made) > limit:
            raise _fail(
                f"step {name!r} made {len(made)} attempts, more than {limit} (max_backtracks={predict.max_backtracks})",
                outcome,
            )


def usage_adds_up(outcome: Outcome, *, lm: ScriptedLM | None = None) -> None:
    """The run's usage is the sum over its attempts, the steps' attempts are all of them, and
    (with a scripted ``lm`` used for this run only) every LM call is one attempt, in order."""
    attempts: Sequence[Attempt] = getattr(outcome, "attempts", ())
    usage = getattr(outcome, "usage", Usage())
    if usage != Usage.of(a.response for a in attempts):
        raise _fail(f"usage {usage} is not the sum over the {len(attempts)} attempts", outcome, lm)
    trace = getattr(outcome, "trace", ())
    if trace:
        in_steps = sum(len(step.attempts) for step in trace)
        if in_steps != len(attempts):
            raise _fail(f"the steps hold {in_steps} attempts but the run made {len(attempts)}", outcome, lm)
    if lm is not None:
        asked = [a.request for a in attempts]
        if len(asked) != len(lm.requests) or any(
            a is not b and a != b for a, b in zip(asked, lm.requests, strict=False)
        ):
            raise _fail(
                f"the LM was called {len(lm.requests)} times but the history holds {len(asked)} attempts "
                "(or holds them out of order)",
                outcome,
                lm,
            )


def retries_extend_prompts(outcome: Outcome) -> None:
    """Each retry's prompt starts with the whole prompt of the attempt before it, in every step."""
    trace = getattr(outcome, "trace", ())
    groups = [(s.name, s.attempts) for s in trace] or [("self", getattr(outcome, "attempts", ()))]
    for name, attempts in groups:
        for number, (before, after) in enumerate(pairwise(attempts), 2):
            old, new = before.request.messages, after.request.messages
            if new[: len(old)] != old:
                raise _fail(
                    f"step {name!r}: the prompt of attempt {number} does not extend attempt {number - 1}'s", outcome
                )


def check_invariants(program: Program, outcome: Outcome, *, lm: ScriptedLM | None = None) -> None:
    """Every invariant that applies to any program: hard rules hold, attempts are bounded, usage
    adds up, retries extend their prompts. (Citations are checked by :func:`cites_only_retrieved`.)"""
    holds_hard_rules(program, outcome)
    attempts_bounded(program, outcome)
    usage_adds_up(outcome, lm=lm)
    retries_extend_prompts(outcome)
