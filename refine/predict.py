"""Predict: one signature, one LM step, with its attempt history returned, not hidden."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from refine._context import resolve_lm
from refine.adapter import Demo, parse_reply, render_messages
from refine.constraints import Constraint
from refine.errors import ParseError, UsageError
from refine.lm import LM, LMRequest, LMResponse, Message
from refine.signatures import Signature, as_signature

__all__ = ["Attempt", "Predict", "Prediction", "Usage", "feedback_turns", "retry_request"]

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
    """One LM call: what was asked, what came back, and why it was not accepted (if it was not)."""

    request: LMRequest
    response: LMResponse
    outputs: Mapping[str, Any] | None
    failures: tuple[str, ...] = ()
    feedback: str = ""

    @property
    def ok(self) -> bool:
        return self.outputs is not None and not self.failures


@dataclass(frozen=True, slots=True)
class Prediction:
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
    def usage(self) -> Usage:
        return Usage.of(a.response for a in self.attempts)

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


class Predict:
    """Ask an LM for a signature's outputs; a reply that does not parse is retried with feedback."""

    def __init__(
        self,
        signature: str | Signature | type[Signature],
        *,
        lm: LM | None = None,
        demos: Sequence[Demo] = (),
        constraint: Constraint | None = None,
        max_tokens: int = 256,
        temperature: float = 0.0,
        max_retries: int = 1,
    ) -> None:
        if max_retries < 0:
            raise UsageError(f"max_retries={max_retries} must be >= 0")
        self.signature = as_signature(signature)
        self.lm = lm
        self.demos = tuple(demos)
        self.constraint = constraint
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.max_retries = max_retries

    def request(self, inputs: Mapping[str, Any]) -> LMRequest:
        """The first request for ``inputs`` (pure: no LM is called)."""
        messages = render_messages(self.signature, inputs, self.demos)
        return LMRequest(messages, constraint=self.constraint, temperature=self.temperature, max_tokens=self.max_tokens)

    def attempt(self, lm: LM, request: LMRequest) -> Attempt:
        response = lm.complete(request)
        try:
            outputs = parse_reply(self.signature, response.text)
        except ParseError as exc:
            return Attempt(request, response, None, (str(exc),), feedback=f"Your reply could not be read: {exc}.")
        return Attempt(request, response, outputs)

    def __call__(self, *, lm: LM | None = None, **inputs: Any) -> Prediction:
        backend = resolve_lm(lm or self.lm)
        request = self.request(inputs)
        attempts: list[Attempt] = []
        for number in range(self.max_retries + 1):
            attempt = self.attempt(backend, request)
            attempts.append(attempt)
            if attempt.outputs is not None:
                return Prediction(attempt.outputs, tuple(attempts))
            logger.info("attempt %d failed: %s", number + 1, "; ".join(attempt.failures))
            request = retry_request(request, attempt, number + 1)
        last = attempts[-1]
        raise ParseError(
            f"no parseable reply after {len(attempts)} attempts; last: {last.failures[0]}",
            text=last.response.text,
            attempts=tuple(attempts),
        )

    def __repr__(self) -> str:
        return f"Predict({self.signature!r})"
