"""Predict: one signature, one LM step, its checks retried with feedback, its history returned."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from refine._options import check_bool, check_int, check_number
from refine.constraints import Constraint, JsonSchema
from refine.errors import AssertionFailed, ParseError, UsageError
from refine.history import Attempt, Demo, Prediction, Violation, best_attempt
from refine.lm import LM, LMRequest, Message
from refine.program._assertions import Rule, Suggest, field_bounds, violations_of
from refine.program._base import Copied, Leaf
from refine.program._context import resolve_lm
from refine.program._files import Loader, predictor_from_json
from refine.program._module import Module
from refine.program._runs import BoundPredict, Run
from refine.program._window import counter_of, fit_demos, window_of
from refine.signatures import (
    RETRY_INSTRUCTION,
    ReplyFormat,
    Signature,
    as_signature,
    fields_constraint,
    json_schema,
    parse_reply,
    render_messages,
    retry_turn,
    validate,
)

__all__ = ["Plan", "Predict", "feedback_turns", "retry_request"]

logger = logging.getLogger(__name__)

RETRY_TEMPERATURE = 0.7
# Bounds of a predictor's settings, whether they come from code or from a program file: beyond
# them a setting is a mistake (a retry loop that never ends, a reply no context holds).
MAX_BACKTRACKS = 100
MAX_TOKENS = 1 << 20
MAX_TEMPERATURE = 10.0
# What a backend is asked to learn whether it enforces JSON schemas at all.
_ANY_JSON = JsonSchema('{"type": "object"}')
# Seeds of rollout n start here, clear of the seeds its retries use (seed + retry number).
ROLLOUT_SEED_STRIDE = 1000


def feedback_turns(reply: str, feedback: str) -> tuple[Message, Message]:
    """Turns appended after a rejected reply: the reply itself, then what was wrong with it.

    Appending (never editing earlier turns) keeps the prompt a prefix of the retry's prompt, so a
    backend with a prefix cache only evaluates the new tokens.
    """
    return (Message("assistant", reply, generated=True), retry_turn(feedback))


def retry_request(request: LMRequest, attempt: Attempt, number: int) -> LMRequest:
    """The request for retry ``number`` (1-based): feedback appended, sampling changed."""
    retry = request.with_messages(*feedback_turns(attempt.response.text, attempt.feedback))
    return retry.with_sampling(temperature=max(request.temperature, RETRY_TEMPERATURE), seed=request.seed + number)


_CLAUSE = re.compile(r"[^.;:!?\n]+")
_MIN_COPIED_WORDS = 4


def copied_feedback(reply: str, feedback: str) -> str | None:
    """The clause of ``feedback`` (four words or more) that ``reply`` repeats, if any.

    A small model told "use at most 10 words" may answer with that sentence; such a reply is no
    answer, whatever else it passes.
    """
    said = " ".join(reply.casefold().split())
    for clause in _CLAUSE.findall(f"{feedback}\n{RETRY_INSTRUCTION}"):
        words = clause.casefold().split()
        if len(words) >= _MIN_COPIED_WORDS and " ".join(words) in said:
            return clause.strip()
    return None


def _unless_copied(attempt: Attempt, previous: Attempt) -> Attempt:
    copied = copied_feedback(attempt.response.text, previous.feedback)
    if copied is None:
        return attempt
    problem = Violation(
        None,
        attempt.response.text,
        f"The reply repeats the feedback ({copied!r}); answer the question.",
        "copied_feedback",
    )
    return replace(attempt, failures=(*attempt.failures, problem))


@dataclass(frozen=True, slots=True)
class Plan:
    """How one call is made: the first request and the reply format it asks for."""

    request: LMRequest
    format: ReplyFormat


class Predict(Module):
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
    hard, since without outputs there is nothing to continue with. On a backend that enforces
    only JSON schemas, the signature is lowered to one (citations included: see :meth:`plan`);
    what has no exact JSON-schema form (a verbatim quote, a ``pattern``) is refused by name, or,
    with ``strict=False``, validated after decoding and retried with feedback.

    A predictor is a value: what it learns (``demos``, the signature's instructions) changes by
    :meth:`with_demos` and :meth:`with_instructions`, which return new predictors.
    """

    __slots__ = (
        "assertions",
        "constrained",
        "demos",
        "lm",
        "max_backtracks",
        "max_tokens",
        "signature",
        "strict",
        "temperature",
    )
    signature: Signature
    lm: LM | None
    demos: tuple[Demo, ...]
    assertions: tuple[Rule, ...]
    max_backtracks: int
    strict: bool
    max_tokens: int
    temperature: float
    constrained: bool

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
        max_backtracks = check_int("max_backtracks", max_backtracks, minimum=0, maximum=MAX_BACKTRACKS)
        max_tokens = check_int("max_tokens", max_tokens, minimum=1, maximum=MAX_TOKENS)
        temperature = check_number("temperature", temperature, minimum=0.0, maximum=MAX_TEMPERATURE)
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
        field_bounds(assertions)  # choices that exclude each other fail here, not at the first call
        values = {
            "signature": as_signature(signature),
            "lm": lm,
            "demos": _demos(demos),
            "assertions": tuple(assertions),
            "max_backtracks": max_backtracks,
            "strict": strict,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "constrained": constrained,
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(
            f"Predict is immutable: cannot set {name!r}; use with_demos(...) or with_instructions(...), "
            "which return a new predictor"
        )

    def __copy__(self) -> Predict:
        return self  # immutable: a copy would be indistinguishable

    def __deepcopy__(self, memo: dict[int, Any]) -> Predict:
        return self

    def _with(self, **changes: Any) -> Predict:
        new = object.__new__(type(self))
        for name in Predict.__slots__:
            object.__setattr__(new, name, changes.get(name, getattr(self, name)))
        return new

    def with_demos(self, demos: Sequence[Demo]) -> Predict:
        """This predictor with ``demos`` (worked examples shown before the inputs) instead of its own."""
        return self._with(demos=_demos(demos))

    def with_instructions(self, instructions: str) -> Predict:
        """This predictor with its signature's instructions replaced."""
        if not isinstance(instructions, str):
            raise UsageError(f"instructions={instructions!r} must be a string")
        return self._with(signature=self.signature.with_instructions(instructions))

    def _walk(self, name: str, leaf: Leaf, copied: Copied | None) -> Any:
        # The leaf of every program: a one-step program's only predictor is itself, named "self".
        return leaf(name or "self", self)

    # Predict.load(path) builds a predictor from the file; predictor.load(path) fills a copy of one.
    load = Loader(predictor_from_json)

    def plan(self, lm: LM, inputs: Mapping[str, Any], *, rollout: int = 0) -> Plan:
        """The first request for ``inputs`` on ``lm`` (pure: no LM is called).

        Grammar backends get the field-marker format under a grammar; backends that only take a
        JSON schema get a JSON reply under the signature's schema, lowered to the inputs (citing
        fields cite 1..k by an integer ``enum``; see :func:`refine.signatures.json_schema`), which
        raises :class:`~refine.errors.UnsupportedConstraint` for what cannot be lowered exactly
        unless ``strict=False``; others get free text. Rollout
        ``n > 0`` (a fresh sample of the same call) samples with its own seed.
        """
        fmt: ReplyFormat = "fields"
        constraint: Constraint | None = None
        if self.constrained:
            # The limits ready checks state are decoded, not retried; a backend that cannot
            # decode them gets what it would without them, and they stay checks.
            bounds = field_bounds(self.assertions, inputs)
            grammar = fields_constraint(self.signature, inputs, bounds, max_chars=self.max_tokens)
            if bounds and grammar is not None and not lm.supports(grammar):
                grammar = fields_constraint(self.signature, inputs, max_chars=self.max_tokens)
            if grammar is None or lm.supports(grammar):
                constraint = grammar
            elif lm.supports(_ANY_JSON):
                # Lowered: as exact as the grammar, or refused by name (strict=False: validated after).
                schema = json_schema(self.signature, inputs, backend=lm.name, strict=self.strict)
                # Not JsonSchema.of, which sorts keys: a grammar writes properties in schema order,
                # and a sentence must come before the citations that close it.
                fmt, constraint = "json", JsonSchema(json.dumps(schema, ensure_ascii=False))
        messages = self._fitting_messages(lm, inputs, fmt)
        request = LMRequest(messages, constraint=constraint, temperature=self.temperature, max_tokens=self.max_tokens)
        if rollout:
            request = request.with_sampling(
                temperature=max(self.temperature, RETRY_TEMPERATURE), seed=rollout * ROLLOUT_SEED_STRIDE
            )
        return Plan(request, fmt)

    def _fitting_messages(self, lm: LM, inputs: Mapping[str, Any], fmt: ReplyFormat) -> tuple[Message, ...]:
        """The prompt with the demos that fit ``lm``'s context window beside these inputs, the reply
        and every retry: all of them, unless the backend tells its window and tokenizer and they do
        not fit (then the last ones are dropped, with a DemoTrimWarning), so demos never overflow a call."""
        window, count = window_of(lm), counter_of(lm)
        demos = self.demos
        if demos and window is not None and count is not None:
            fit = fit_demos(
                repr(self),
                self.signature,
                demos,
                [inputs],
                max_tokens=self.max_tokens,
                max_backtracks=self.max_backtracks,
                window=window,
                count=count,
                format=fmt,
                stacklevel=4,
            )
            demos = fit.demos
        return render_messages(self.signature, inputs, demos, format=fmt)

    def check(self, outputs: Mapping[str, Any], inputs: Mapping[str, Any]) -> tuple[Violation, ...]:
        """Every check ``outputs`` fail: the signature's declared rules, then the assertions."""
        declared = validate(self.signature, outputs, inputs)
        if not self.strict:
            declared = tuple(replace(v, hard=False) for v in declared)
        prediction = Prediction(outputs, inputs=inputs)
        return declared + tuple(v for rule in self.assertions for v in violations_of(rule, prediction))

    def attempt(self, lm: LM, request: LMRequest, inputs: Mapping[str, Any], format: ReplyFormat = "fields") -> Attempt:
        """One call: the reply parsed and checked."""
        response = lm.complete(request)
        try:
            outputs = parse_reply(self.signature, response.text, format=format, constraint=request.constraint)
        except ParseError as exc:
            rule = "type" if exc.field else "parse"
            message = f"{exc}."
            if response.finish_reason == "length":
                message = (
                    f"the reply stopped at max_tokens={request.max_tokens} before it was complete ({exc}); "
                    "write every field shorter and repeat nothing"
                )
            return Attempt(request, response, None, (Violation(exc.field, response.text, message, rule),))
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
            if attempts:
                attempt = _unless_copied(attempt, attempts[-1])
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
            chosen = attempts[best_attempt(attempts, scores, inputs)]
        if chosen.failures:
            logger.info("%r carries on with failed suggestions: %s", self, chosen.feedback)
        return Prediction(chosen.outputs or {}, attempts, chosen.failures, inputs=inputs)

    def __call__(self, *args: Any, lm: LM | None = None, **inputs: Any) -> Prediction:
        _keywords_only(self, args)
        return self.run(inputs, lm=resolve_lm(lm or self.lm))

    def _pass(self, run: Run, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Prediction:
        """One step as a whole program run (a rollout, an optimizer's fresh sample)."""
        _keywords_only(self, args)
        return BoundPredict(self, run, "self")(**kwargs)

    def __repr__(self) -> str:
        return f"Predict({self.signature!r})"


def _keywords_only(predict: Predict, args: tuple[Any, ...]) -> None:
    if args:
        names = ", ".join(f"{f.name}=..." for f in predict.signature.inputs)
        raise UsageError(f"{predict!r} takes its inputs by name ({names}), got {len(args)} positional")


def _demos(demos: Sequence[Demo]) -> tuple[Demo, ...]:
    if isinstance(demos, str | Demo) or not isinstance(demos, Sequence):
        raise UsageError(f"demos={demos!r} must be a list of refine.Demo")
    for demo in demos:
        if not isinstance(demo, Demo):
            raise UsageError(f"demos=[..., {demo!r}, ...] holds a non-Demo; wrap its values in refine.Demo({{...}})")
    return tuple(demos)
