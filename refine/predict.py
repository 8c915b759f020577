"""Predict: one signature, one LM step, its checks retried with feedback, its history returned."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from refine._context import resolve_lm
from refine._options import check_bool, check_int, check_number
from refine.adapter import Demo, Format, parse_reply, render_messages
from refine.assertions import Rule, Suggest, evaluate
from refine.constraints import Constraint, JsonSchema
from refine.errors import AssertionFailed, ParseError, UsageError
from refine.grammar import fields_constraint, json_schema
from refine.history import Attempt, History, Prediction, Step, Usage
from refine.lm import LM, LMRequest, Message
from refine.signatures import Signature, as_signature
from refine.validation import Violation, validate

__all__ = [
    "Attempt",
    "History",
    "Plan",
    "Predict",
    "Prediction",
    "Step",
    "Usage",
    "feedback_turns",
    "retry_request",
]

logger = logging.getLogger(__name__)

RETRY_TEMPERATURE = 0.7
# Seeds of rollout n start here, clear of the seeds its retries use (seed + retry number).
ROLLOUT_SEED_STRIDE = 1000


def feedback_turns(reply: str, feedback: str) -> tuple[Message, Message]:
    """Turns appended after a rejected reply: the reply itself, then what was wrong with it.

    Appending (never editing earlier turns) keeps the prompt a prefix of the retry's prompt, so a
    backend with a prefix cache only evaluates the new tokens.
    """
    return (
        Message("assistant", reply, generated=True),
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

    Every reply is checked against what the signature declares (types, ``Field`` constraints,
    required citations, verbatim quotes) and against ``assertions``. A reply that fails a check
    is retried with feedback appended to the prompt, up to ``max_backtracks`` times. Then:

    - when no attempt passes the hard checks, :class:`AssertionFailed` is raised (or
      :class:`ParseError` when no reply even parsed), carrying every attempt;
    - otherwise the last attempt that passes them (or the best-scoring one, when a
      :class:`Suggest` gives a ``score``) is returned, with the suggestions it still fails in
      ``prediction.failures``.

    With ``strict=False`` the signature's declared rules are soft (suggestions); parsing stays
    hard, since without outputs there is nothing to continue with.
    """

    def __init__(
        self,
        signature: str | Signature | type[Signature],
        *,
        lm: LM | None = None,
        demos: Sequence[Demo] = (),
        assertions: Sequence[Rule] = (),
        max_backtracks: int = 2,
        strict: bool = True,
        max_tokens: int = 512,
        temperature: float = 0.0,
        constrained: bool = True,
    ) -> None:
        max_backtracks = check_int("max_backtracks", max_backtracks, minimum=0)
        max_tokens = check_int("max_tokens", max_tokens, minimum=1)
        temperature = check_number("temperature", temperature, minimum=0.0)
        strict = check_bool("strict", strict)
        constrained = check_bool("constrained", constrained)
        for rule in assertions:
            if not isinstance(rule, Rule):
                raise UsageError(
                    f"assertions=[..., {rule!r}, ...] holds a non-rule; wrap conditions in Assert or Suggest"
                )
            if isinstance(rule.condition, bool):
                raise UsageError(
                    f"{rule!r} is already decided; a declared assertion needs a function of the prediction"
                )
        self.signature = as_signature(signature)
        self.lm = lm
        self.demos = tuple(demos)
        self.assertions = tuple(assertions)
        self.max_backtracks = max_backtracks
        self.strict = strict
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.constrained = constrained

    def plan(self, lm: LM, inputs: Mapping[str, Any], *, rollout: int = 0) -> Plan:
        """The first request for ``inputs`` on ``lm`` (pure: no LM is called).

        Grammar backends get the field-marker format under a grammar; backends that only take a
        JSON schema get a JSON reply under the signature's schema; others get free text. Rollout
        ``n > 0`` (a fresh sample of the same call) samples with its own seed.
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
        if rollout:
            request = request.with_sampling(
                temperature=max(self.temperature, RETRY_TEMPERATURE), seed=rollout * ROLLOUT_SEED_STRIDE
            )
        return Plan(request, fmt)

    def check(self, outputs: Mapping[str, Any], inputs: Mapping[str, Any]) -> tuple[Violation, ...]:
        """Every check ``outputs`` fail: the signature's declared rules, then the assertions."""
        declared = validate(self.signature, outputs, inputs)
        if not self.strict:
            declared = tuple(replace(v, hard=False) for v in declared)
        prediction = Prediction(outputs, inputs=inputs)
        return declared + tuple(v for rule in self.assertions for v in evaluate(rule, prediction))

    def attempt(self, lm: LM, request: LMRequest, inputs: Mapping[str, Any], format: Format = "fields") -> Attempt:
        """One call: the reply parsed and checked."""
        response = lm.complete(request)
        try:
            outputs = parse_reply(self.signature, response.text, format=format, constraint=request.constraint)
        except ParseError as exc:
            rule = "type" if exc.field else "parse"
            return Attempt(request, response, None, (Violation(exc.field, response.text, f"{exc}.", rule),))
        return Attempt(request, response, outputs, self.check(outputs, inputs))

    def run(
        self,
        inputs: Mapping[str, Any],
        *,
        lm: LM,
        prior: Sequence[Attempt] = (),
        feedback: Sequence[Violation] = (),
        rollout: int = 0,
        limit: int | None = None,
    ) -> Prediction:
        """Make attempts until one passes every check or ``max_backtracks`` retries are spent.

        ``prior`` continues an earlier call whose result a later check (in a module) rejected
        with ``feedback``: its last attempt is retried with that feedback, within the same budget
        (``limit`` attempts in all, when given; at least one new attempt is made).
        """
        limit = max(limit or self.max_backtracks + 1, len(prior) + 1)
        plan = self.plan(lm, inputs, rollout=rollout)
        attempts = list(prior)
        if attempts:
            last = attempts[-1]
            attempts[-1] = replace(last, failures=last.failures + tuple(feedback))
            request = retry_request(last.request, attempts[-1], len(attempts))
        else:
            request = plan.request
        while len(attempts) < limit:
            attempt = self.attempt(lm, request, inputs, plan.format)
            attempts.append(attempt)
            if attempt.ok:
                break
            logger.info("%r attempt %d failed: %s", self, len(attempts), attempt.feedback)
            request = retry_request(request, attempt, len(attempts))
        return self.settle(tuple(attempts), inputs)

    def settle(self, attempts: tuple[Attempt, ...], inputs: Mapping[str, Any]) -> Prediction:
        """The result of a finished call: the attempt to keep, or the error when none can stand."""
        standing = [a for a in attempts if a.passed_hard]
        if not standing:
            last = attempts[-1]
            if all(a.outputs is None for a in attempts):
                raise ParseError(
                    f"no parseable reply after {len(attempts)} attempts; last: {last.feedback}",
                    text=last.response.text,
                    attempts=attempts,
                )
            hard = tuple(v for v in last.failures if v.hard)
            raise AssertionFailed(
                f"{self!r} still fails after {len(attempts)} attempts (max_backtracks={self.max_backtracks}): "
                f"{'; '.join(dict.fromkeys(v.message for v in hard))}",
                failures=hard,
                attempts=attempts,
            )
        scores = [rule.score for rule in self.assertions if isinstance(rule, Suggest) and rule.score is not None]
        chosen = standing[-1]
        if not chosen.ok and scores:
            chosen = max(
                reversed(standing),
                key=lambda a: sum(score(Prediction(a.outputs or {}, inputs=inputs)) for score in scores),
            )
        if chosen.failures:
            logger.info("%r carries on with failed suggestions: %s", self, chosen.feedback)
        return Prediction(chosen.outputs or {}, attempts, chosen.failures, inputs=inputs)

    def __call__(self, *, lm: LM | None = None, **inputs: Any) -> Prediction:
        return self.run(inputs, lm=resolve_lm(lm or self.lm))

    def __repr__(self) -> str:
        return f"Predict({self.signature!r})"
