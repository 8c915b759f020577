"""Predict: one signature, one LM step, with its attempt history returned, not hidden."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from refine._context import resolve_lm
from refine.adapter import Demo, Format, parse_reply, render_messages
from refine.constraints import Constraint, JsonSchema
from refine.errors import ParseError, UsageError
from refine.grammar import fields_constraint, json_schema
from refine.lm import LM, LMRequest, LMResponse, Message
from refine.signatures import Signature, as_signature
from refine.validation import Rule, Violation, validate

__all__ = ["Attempt", "History", "Plan", "Predict", "Prediction", "Usage", "feedback_turns", "retry_request"]

logger = logging.getLogger(__name__)

RETRY_TEMPERATURE = 0.7


@dataclass(frozen=True, slots=True)
class Usage:
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0

    @classmethod
    def of(cls, responses: Iterable[LMResponse]) -> Usage:
        total = cls()
        for r in responses:
            total = total + cls(1, r.prompt_tokens, r.completion_tokens, r.seconds)
        return total

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.calls + other.calls,
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.seconds + other.seconds,
        )


@dataclass(frozen=True, slots=True)
class Attempt:
    """One LM call: what was asked, what came back, and the rules the reply broke (if any)."""

    request: LMRequest
    response: LMResponse
    outputs: Mapping[str, Any] | None
    failures: tuple[Violation, ...] = ()

    @property
    def ok(self) -> bool:
        return self.outputs is not None and not self.failures

    @property
    def feedback(self) -> str:
        """What a retry is told about this attempt: one line per broken rule."""
        return "\n".join(v.message for v in self.failures)


class History:
    """What a result with an ``attempts`` history reports about it: LM usage and remaining violations."""

    __slots__ = ()
    attempts: tuple[Attempt, ...]

    @property
    def usage(self) -> Usage:
        return Usage.of(a.response for a in self.attempts)

    @property
    def violations(self) -> tuple[Violation, ...]:
        """The rules the accepted (last) attempt still breaks; empty when it satisfies them all."""
        return self.attempts[-1].failures if self.attempts else ()


@dataclass(frozen=True, slots=True)
class Prediction(History):
    """The outputs of a step, readable as attributes, with every attempt that produced them."""

    outputs: Mapping[str, Any]
    attempts: tuple[Attempt, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "outputs", MappingProxyType(dict(self.outputs)))

    def __getattr__(self, name: str) -> Any:
        try:
            return self.outputs[name]
        except KeyError:
            raise AttributeError(f"prediction has no field {name!r}; fields: {', '.join(self.outputs)}") from None

    def __getitem__(self, name: str) -> Any:
        return self.outputs[name]

    @property
    def ok(self) -> bool:
        return not self.violations

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.outputs.items())
        return f"Prediction({fields}, attempts={len(self.attempts)})"


def feedback_turns(reply: str, feedback: str) -> tuple[Message, Message]:
    """Turns appended after a rejected reply: the reply itself, then what was wrong with it.

    Appending (never editing earlier turns) keeps the prompt a prefix of the retry's prompt, so a
    backend with a prefix cache only evaluates the new tokens.
    """
    return (
        Message("assistant", reply),
        Message("user", f"{feedback}\nWrite the whole reply again, fixing this."),
    )


def retry_request(request: LMRequest, attempt: Attempt, number: int) -> LMRequest:
    """The request for retry ``number`` (1-based): feedback appended, sampling changed."""
    retry = request.with_messages(*feedback_turns(attempt.response.text, attempt.feedback))
    return retry.with_sampling(temperature=max(request.temperature, RETRY_TEMPERATURE), seed=request.seed + number)


@dataclass(frozen=True, slots=True)
class Plan:
    """How one call is made: the first request and the reply format it asks for."""

    request: LMRequest
    format: Format


class Predict:
    """Ask an LM for a signature's outputs, under the strongest constraint the backend enforces.

    A reply that does not parse, or breaks a rule the signature declares (types, ``Field``
    constraints, required citations, verbatim quotes), is retried with feedback up to
    ``max_retries`` times. A reply that never parses raises :class:`ParseError`; one that parses
    but still breaks rules is returned with ``prediction.violations`` listing them.
    """

    def __init__(
        self,
        signature: str | Signature | type[Signature],
        *,
        lm: LM | None = None,
        demos: Sequence[Demo] = (),
        max_tokens: int = 512,
        temperature: float = 0.0,
        max_retries: int = 1,
        constrained: bool = True,
    ) -> None:
        if max_retries < 0:
            raise UsageError(f"max_retries={max_retries} must be >= 0")
        if max_tokens < 1:
            raise UsageError(f"max_tokens={max_tokens} must be >= 1")
        self.signature = as_signature(signature)
        self.lm = lm
        self.demos = tuple(demos)
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.max_retries = max_retries
        self.constrained = constrained

    def plan(self, lm: LM, inputs: Mapping[str, Any]) -> Plan:
        """The first request for ``inputs`` on ``lm`` (pure: no LM is called).

        Grammar backends get the field-marker format under a grammar; backends that only take a
        JSON schema get a JSON reply under the signature's schema; others get free text.
        """
        fmt: Format = "fields"
        constraint: Constraint | None = None
        if self.constrained:
            grammar = fields_constraint(self.signature, inputs)
            schema = JsonSchema.of(json_schema(self.signature))
            if grammar is None or lm.supports(grammar):
                constraint = grammar
            elif lm.supports(schema):
                fmt, constraint = "json", schema
        messages = render_messages(self.signature, inputs, self.demos, format=fmt)
        request = LMRequest(messages, constraint=constraint, temperature=self.temperature, max_tokens=self.max_tokens)
        return Plan(request, fmt)

    def attempt(self, lm: LM, request: LMRequest, inputs: Mapping[str, Any], format: Format = "fields") -> Attempt:
        """One call: the reply parsed and checked against every rule the signature declares."""
        response = lm.complete(request)
        try:
            outputs = parse_reply(self.signature, response.text, format=format)
        except ParseError as exc:
            rule: Rule = "type" if exc.field else "parse"
            return Attempt(request, response, None, (Violation(exc.field, response.text, f"{exc}.", rule),))
        return Attempt(request, response, outputs, validate(self.signature, outputs, inputs))

    def __call__(self, *, lm: LM | None = None, **inputs: Any) -> Prediction:
        backend = resolve_lm(lm or self.lm)
        plan = self.plan(backend, inputs)
        request = plan.request
        attempts: list[Attempt] = []
        for number in range(self.max_retries + 1):
            attempt = self.attempt(backend, request, inputs, plan.format)
            attempts.append(attempt)
            if attempt.ok:
                break
            logger.info("attempt %d rejected: %s", number + 1, attempt.feedback)
            if number < self.max_retries:
                request = retry_request(request, attempt, number + 1)
        parsed = [a for a in attempts if a.outputs is not None]
        if not parsed:
            raise ParseError(
                f"no parseable reply after {len(attempts)} attempts; last: {attempts[-1].feedback}",
                text=attempts[-1].response.text,
                attempts=tuple(attempts),
            )
        # The last attempt that parsed is the answer; later unparseable ones are kept in history.
        return Prediction(parsed[-1].outputs or {}, tuple(attempts[: attempts.index(parsed[-1]) + 1]))

    def __repr__(self) -> str:
        return f"Predict({self.signature!r})"
