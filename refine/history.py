"""What a call returns about how it got its result: attempts, steps, usage, remaining failures.

Nothing about a call lives outside it: a :class:`Prediction` carries every attempt that produced
it and, for a module, every step of the program run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from refine.lm import LMRequest, LMResponse
from refine.validation import Violation

__all__ = ["Attempt", "History", "Prediction", "Step", "Usage"]


@dataclass(frozen=True, slots=True)
class Usage:
    """LM calls and their cost; ``cached_tokens`` of the prompt tokens came from a prefix cache."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    cached_tokens: int = 0

    @classmethod
    def of(cls, responses: Iterable[LMResponse]) -> Usage:
        total = cls()
        for r in responses:
            total = total + cls(1, r.prompt_tokens, r.completion_tokens, r.seconds, r.cached_tokens)
        return total

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.calls + other.calls,
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.seconds + other.seconds,
            self.cached_tokens + other.cached_tokens,
        )


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


class History:
    """What a result with an ``attempts`` history reports about it: the LM usage of all of them."""

    __slots__ = ()
    attempts: tuple[Attempt, ...]

    @property
    def usage(self) -> Usage:
        return Usage.of(a.response for a in self.attempts)


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
        return f"Prediction({fields}, attempts={len(self.attempts)})"
