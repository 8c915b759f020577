"""The values a call returns about how it got its result, and the values a program learns from.

:class:`Violation` (a failed check), :class:`Attempt` (one LM call), :class:`Step` (one predictor
call of a program run), :class:`Usage`, :class:`Prediction` and :class:`Demo` live here, at the
bottom of ``refine``: they import nothing of the machinery that produces them, so anything
(an evaluation row, a saved program, a test) can hold them without pulling in backends.

Nothing about a call lives outside it: a :class:`Prediction` carries every attempt that produced
it and, for a module, every step of the program run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

from corpora.errors import UsageError
from refine.usage import History, Usage

if TYPE_CHECKING:  # annotations only: the values a call returns sit above the backends that make them
    from refine.lm import LMRequest, LMResponse

__all__ = [
    "Attempt",
    "Demo",
    "History",
    "Prediction",
    "RepairDemo",
    "RuleName",
    "Step",
    "Usage",
    "Violation",
    "best_attempt",
    "frozen_key",
]

# "parse", "type", "citations" and "quote" for what a signature declares; an assertion's name otherwise.
RuleName = str


@dataclass(frozen=True, slots=True)
class Violation:
    """One failed check: which field, which value, what is wrong (phrased as feedback), and whether
    it is hard (an assertion: the result cannot stand) or soft (a suggestion: it is recorded)."""

    field: str | None
    value: Any
    message: str
    rule: RuleName = "type"
    hard: bool = True

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True)
class Attempt:
    """One LM call: what was asked, what came back, and the checks the reply failed (if any)."""

    request: LMRequest
    response: LMResponse
    outputs: Mapping[str, Any] | None
    failures: tuple[Violation, ...] = ()

    @property
    def ok(self) -> bool:
        return self.outputs is not None and not self.failures

    @property
    def passed_hard(self) -> bool:
        """Parsed, and every failed check (if any) is a suggestion."""
        return self.outputs is not None and not any(v.hard for v in self.failures)

    @property
    def feedback(self) -> str:
        """What a retry is told about this attempt: one line per failed check."""
        return "\n".join(dict.fromkeys(v.message for v in self.failures))


@dataclass(frozen=True, slots=True)
class Step:
    """One predictor call in a program run: which predictor, its inputs, and all its attempts."""

    name: str
    inputs: Mapping[str, Any]
    attempts: tuple[Attempt, ...]
    outputs: Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class Prediction(History):
    """The outputs of a step or program, readable as attributes, with how they were reached.

    ``attempts`` lists every LM call made for it, in order; ``trace`` the predictor calls of a
    program run (empty for a single :class:`~refine.Predict`); ``failures`` the suggestions the
    result still fails after its retries ran out (hard assertions never leave any: they raise).
    """

    outputs: Mapping[str, Any]
    attempts: tuple[Attempt, ...] = ()
    failures: tuple[Violation, ...] = ()
    trace: tuple[Step, ...] = ()
    inputs: Mapping[str, Any] = field(default_factory=dict, repr=False)
    # Where this prediction came from in a program run, so a failed check can backtrack to it.
    origin: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "outputs", MappingProxyType(dict(self.outputs)))
        object.__setattr__(self, "inputs", MappingProxyType(dict(self.inputs)))

    def __getattr__(self, name: str) -> Any:
        try:
            return self.outputs[name]
        except KeyError:
            raise AttributeError(f"prediction has no field {name!r}; fields: {', '.join(self.outputs)}") from None

    def __getitem__(self, name: str) -> Any:
        return self.outputs[name]

    @property
    def violations(self) -> tuple[Violation, ...]:
        return self.failures

    @property
    def ok(self) -> bool:
        return not self.failures

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.outputs.items())
        return f"{type(self).__name__}({fields}, attempts={len(self.attempts)})"


def frozen_key(value: Any) -> Any:
    """A hashable stand-in for ``value`` such that equal values give equal keys.

    Mappings become frozensets of items and sequences tuples, recursively; ``1`` and ``1.0``
    stay equal (and hash alike), as they are. An unhashable object of another kind stands in as
    its type, which keeps equal values equal at the price of collisions.
    """
    if isinstance(value, Mapping):
        return frozenset((k, frozen_key(v)) for k, v in value.items())
    if isinstance(value, list | tuple):
        return tuple(frozen_key(v) for v in value)
    if isinstance(value, set | frozenset):
        return frozenset(frozen_key(v) for v in value)
    dump = getattr(value, "model_dump", None)
    if callable(dump):  # a pydantic model: equal models have equal fields
        return (type(value), frozen_key(dump()))
    try:
        hash(value)
    except TypeError:
        return type(value)
    return value


@dataclass(frozen=True, slots=True, eq=False)
class Demo:
    """A worked example: values for a signature's inputs and outputs."""

    values: Mapping[str, Any]

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", MappingProxyType(dict(self.values)))

    def __hash__(self) -> int:
        return hash(frozen_key(self.values))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Demo) and dict(self.values) == dict(other.values)


# The reply formats a demo's failed reply may have been written in (refine.signatures.ReplyFormat).
_REPLY_FORMATS = ("fields", "json")


@dataclass(frozen=True, slots=True, eq=False)
class RepairDemo(Demo):
    """A demo of a fixed reply: ``values`` holds the inputs and the fixed outputs, ``reply`` the
    failed reply's text, ``feedback`` what the check said about it, ``format`` the reply format
    the failed reply was written in (``"fields"`` or ``"json"``)."""

    reply: str
    feedback: str
    format: Literal["fields", "json"] = "fields"

    def __post_init__(self) -> None:
        Demo.__post_init__(self)
        for name in ("reply", "feedback"):
            value = getattr(self, name)
            if not isinstance(value, str):
                raise UsageError(f"RepairDemo {name}={value!r} must be a str (the text the model saw)")
        if not self.feedback.strip():
            raise UsageError("RepairDemo feedback='' is empty; a repair demo shows what was wrong with the reply")
        if self.format not in _REPLY_FORMATS:
            raise UsageError(f"RepairDemo format={self.format!r} must be one of {', '.join(map(repr, _REPLY_FORMATS))}")

    def as_plain(self) -> Demo:
        """The same inputs and fixed outputs, as a plain demo."""
        return Demo(self.values)

    def __hash__(self) -> int:
        return hash((frozen_key(self.values), self.reply, self.feedback, self.format))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, RepairDemo)
            and dict(self.values) == dict(other.values)
            and (self.reply, self.feedback, self.format) == (other.reply, other.feedback, other.format)
        )

    def __repr__(self) -> str:
        return f"RepairDemo(values={dict(self.values)!r}, reply={self.reply[:40]!r}, feedback={self.feedback[:60]!r})"


Score = Callable[[Prediction], float]


def best_attempt(attempts: Sequence[Attempt], scores: Sequence[Score], inputs: Mapping[str, Any]) -> int:
    """The index of the attempt to keep among those that passed the hard checks.

    With ``scores`` (a :class:`~refine.Suggest`'s ``score``), the best-scoring one, the latest on
    ties; without, the latest. Raises ``ValueError`` when no attempt passed.
    """
    standing = [i for i, a in enumerate(attempts) if a.passed_hard]
    if not standing:
        raise ValueError("no attempt passed the hard checks")
    if not scores:
        return standing[-1]
    return max(
        reversed(standing),
        key=lambda i: sum(score(Prediction(attempts[i].outputs or {}, inputs=inputs)) for score in scores),
    )
