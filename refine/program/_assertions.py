"""Assertions (hard) and suggestions (soft) on a step's outputs, as plain frozen values.

An :class:`Assert` that still fails when its retries run out raises :class:`AssertionFailed`; a
:class:`Suggest` is retried the same way, then the program carries on and the failure is recorded
on the result. Both are data: where they are checked (``Predict(assertions=...)``, a module's
``assertions``, or :func:`refine.check` inside ``forward``) decides when they run, and the
runtime that checks them keeps every attempt on the result.

A condition is a function of the :class:`Prediction` (outputs, and the inputs it was given) that
returns ``True`` when satisfied, ``False`` when not (the rule's message is the feedback), or the
problems it found as a string or a list of strings (empty when satisfied). A :class:`Check` from
:mod:`refine.checks` is a ready condition that names the fields it reads and explains itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, ClassVar

from refine.constraints import Bounds
from refine.errors import UsageError
from refine.history import Prediction, Violation

__all__ = ["Assert", "Check", "Condition", "Rule", "Suggest", "field_bounds", "violations_of"]

CheckResult = bool | str | Sequence[str]
Condition = Callable[[Prediction], CheckResult]


@dataclass(frozen=True, slots=True)
class Check:
    """A ready condition: ``problems(prediction)`` lists what is wrong, phrased as feedback.

    ``bounds``, when given, is what the check requires of its one field in a form a grammar can
    enforce (a word limit, a choice, ...), or a function of the call's inputs that returns it: a
    predictor folds it into that field's decoding constraint on a grammar backend, so the check
    holds on the first attempt.
    """

    name: str
    fields: tuple[str, ...]
    description: str
    problems: Callable[[Prediction], Sequence[str]] = field(repr=False)
    bounds: Bounds | Callable[[Mapping[str, Any]], Bounds | None] | None = field(default=None, repr=False)

    def __call__(self, prediction: Prediction) -> tuple[str, ...]:
        return tuple(self.problems(prediction))


@dataclass(frozen=True, slots=True)
class Rule:
    """What :class:`Assert` and :class:`Suggest` share; ``hard`` tells them apart.

    ``target`` names the predictor a failure backtracks to (a :class:`~refine.Predict`, its
    attribute name in the module, or the :class:`Prediction` it produced); by default it is the
    latest predictor that wrote one of ``fields`` (the fields a :class:`Check` reads, or every
    output of the prediction checked).
    """

    condition: Condition | Check | bool
    message: str | None = None
    _: KW_ONLY
    target: Any = None
    fields: tuple[str, ...] | None = None
    name: str | None = None
    hard: ClassVar[bool] = True

    def __post_init__(self) -> None:
        kind = type(self).__name__
        if not (isinstance(self.condition, bool | Check) or callable(self.condition)):
            raise UsageError(
                f"{kind}(condition={self.condition!r}) is neither a bool nor a function of the prediction; "
                f"pass e.g. lambda p: len(p.answer) < 200"
            )
        if self.message is None and not isinstance(self.condition, Check):
            raise UsageError(
                f"{kind}(condition={_label(self.condition)}) needs message=...: "
                "the feedback the LM is given when it fails"
            )
        if self.fields is not None:
            object.__setattr__(self, "fields", tuple(self.fields))

    @property
    def label(self) -> str:
        """The rule's name in violations and logs."""
        if self.name:
            return self.name
        if isinstance(self.condition, Check):
            return self.condition.name
        return type(self).__name__.lower()

    @property
    def reads(self) -> tuple[str, ...] | None:
        """The output fields the condition reads, when known."""
        if self.fields is not None:
            return self.fields
        return self.condition.fields if isinstance(self.condition, Check) else None


def field_bounds(rules: Sequence[Rule], inputs: Mapping[str, Any] | None = None) -> dict[str, Bounds]:
    """Per output field, the tightest :class:`Bounds` the rules' ready checks state for it.

    Bounds that depend on the inputs count only when ``inputs`` are given.
    """
    found: dict[str, Bounds] = {}
    for rule in rules:
        check = rule.condition
        if not isinstance(check, Check) or check.bounds is None or len(check.fields) != 1:
            continue
        stated = check.bounds
        if isinstance(stated, Bounds):
            bounds: Bounds | None = stated
        else:
            bounds = None if inputs is None else stated(inputs)
        if bounds is None:
            continue
        name = check.fields[0]
        found[name] = found[name] & bounds if name in found else bounds
    return found


def _label(condition: object) -> str:
    return getattr(condition, "__name__", None) or repr(condition)


class Assert(Rule):
    """A hard rule: retried with feedback, then :class:`~refine.AssertionFailed` if it still fails."""

    __slots__ = ()
    hard: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class Suggest(Rule):
    """A soft rule: retried with feedback, then the program carries on and the failure is recorded.

    With ``score`` (a function of the prediction, higher is better), the best-scoring attempt is
    kept when none satisfies the rule; otherwise the last one.
    """

    score: Callable[[Prediction], float] | None = field(default=None, kw_only=True)
    hard: ClassVar[bool] = False


def violations_of(rule: Rule, prediction: Prediction) -> tuple[Violation, ...]:
    """The violations ``rule`` finds in ``prediction``: empty when it holds."""
    condition = rule.condition
    outcome = condition if isinstance(condition, bool) else condition(prediction)
    if outcome is True:
        return ()
    if outcome is False:
        problems: tuple[str, ...] = (rule.message or "",)
    elif isinstance(outcome, str):
        problems = (outcome,) if outcome else ()
    elif isinstance(outcome, Sequence) and all(isinstance(p, str) for p in outcome):
        problems = tuple(p for p in outcome if p)
    else:
        raise UsageError(
            f"{type(rule).__name__} condition {_label(condition)} returned {outcome!r}; "
            "return True/False, or the problems found as a string or a list of strings"
        )
    reads = rule.reads or ()
    where = reads[0] if reads else None
    value = prediction.outputs.get(where) if where else None
    prefix = f"{rule.message}: " if rule.message and isinstance(condition, Check) else ""
    return tuple(Violation(where, value, prefix + p, rule.label, rule.hard) for p in problems)
