"""The run engine behind every program: run state, backtracking, and where a failure goes back to.

A program call is a *run*. The program's predictors are bound to the run for its duration, so the
run's state (the calls made, their attempts, pending feedback) lives in the call and nowhere
else: the same program can run from many threads at once.

When a check fails, the run *backtracks*: it unwinds the pass and runs it again. Calls before the
failing one replay their recorded predictions (no LM call); the failing call is retried with the
failed output and the feedback appended to its prompt; later calls run afresh. Each call has its
predictor's ``max_backtracks`` retries; when they are spent a hard failure raises
:class:`AssertionFailed` with every attempt, and a soft one is recorded on the result.

The internal API, used by :mod:`refine.program._module` and :mod:`refine.program._rollouts`: :class:`Run`,
:class:`BoundPredict`, :class:`Backtrack`, :func:`check_rules` and :func:`execute`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from refine.errors import AssertionFailed, ParseError, RuntimeFailure, UsageError
from refine.history import Attempt, Prediction, Step, Violation, best_attempt
from refine.lm import LM
from refine.program._assertions import Rule, Suggest, violations_of
from refine.program._predictor import Predictor

__all__ = ["MAX_PASSES", "Backtrack", "BoundPredict", "Judge", "Run", "check_rules", "execute"]

logger = logging.getLogger(__name__)

# A program that keeps asking for different calls after each backtrack is not deterministic
# given its predictions; stop it rather than loop.
MAX_PASSES = 100



@dataclass(slots=True)
class _Call:
    """A predictor call in a run; mutable while the run goes on, frozen into a :class:`Step` at the end."""

    name: str
    predict: Predictor
    inputs: dict[str, Any]
    prediction: Prediction
    failed: bool = False  # its own checks gave up: the attempts are kept, there are no outputs
    settled: bool = False  # a scored suggestion already picked its best attempt

    @property
    def attempts(self) -> tuple[Attempt, ...]:
        return self.prediction.attempts

    def step(self) -> Step:
        return Step(self.name, self.inputs, self.attempts, None if self.failed else self.prediction.outputs)


class Backtrack(BaseException):
    """Unwinds a pass to retry call ``index``. A BaseException, so ``except Exception`` in user
    code cannot swallow it. ``fresh_round`` grants the call a new round of retries; ``select``
    makes no new attempt but goes on with the call's attempt of that number."""

    def __init__(
        self, index: int, feedback: tuple[Violation, ...], *, fresh_round: bool = False, select: int | None = None
    ) -> None:
        super().__init__(index)
        self.index = index
        self.feedback = feedback
        self.fresh_round = fresh_round
        self.select = select


@dataclass(slots=True)
class Run:
    """The state of one program call: every predictor call, every attempt, pending feedback."""

    lm: LM
    rollout: int = 0
    calls: list[_Call] = field(default_factory=list)  # this pass, in order
    previous: list[_Call] = field(default_factory=list)  # the pass before, for replay
    pending: Backtrack | None = None
    made: list[_Call] = field(default_factory=list)  # every call made, replayed or not
    log: list[Attempt] = field(default_factory=list)  # every attempt, in time order
    failures: dict[str, Violation] = field(default_factory=dict)  # soft failures kept at run level

    def start_pass(self) -> None:
        self.previous, self.calls = self.calls, []

    def call(self, name: str, predict: Predictor, inputs: dict[str, Any], lm: LM | None) -> Prediction:
        index = len(self.calls)
        old = self.previous[index] if index < len(self.previous) else None
        pending = self.pending
        if old is not None and old.predict is predict and old.inputs == inputs:
            if pending is not None and pending.index == index and pending.select is not None:
                self.pending = None
                chosen = old.attempts[pending.select]
                kept = Prediction(chosen.outputs or {}, old.attempts, chosen.failures, inputs=old.inputs)
                old.prediction = self._tag(kept, index)
            elif pending is not None and pending.index == index:
                self.pending = None
                limit = len(old.attempts) + 1 + predict.max_backtracks if pending.fresh_round else None
                self._predict(old, index, lm, feedback=pending.feedback, limit=limit)
            self.calls.append(old)
            return old.prediction
        made = _Call(name, predict, inputs, Prediction({}, inputs=inputs))
        self.made.append(made)
        self._predict(made, index, lm)
        self.calls.append(made)
        return made.prediction

    def _predict(self, call: _Call, index: int, lm: LM | None, **retry: Any) -> None:
        """Run (or continue) ``call``, logging its new attempts even when its own checks give up."""
        prior = call.attempts
        try:
            prediction = call.predict.run(
                call.inputs, lm=lm or call.predict.lm or self.lm, prior=prior, rollout=self.rollout, **retry
            )
        except (AssertionFailed, ParseError) as exc:
            call.prediction, call.failed = Prediction({}, tuple(exc.attempts), inputs=call.inputs), True
            self.log.extend(exc.attempts[len(prior) :])
            raise
        self.log.extend(prediction.attempts[len(prior) :])
        call.prediction = self._tag(prediction, index)

    def _tag(self, prediction: Prediction, index: int) -> Prediction:
        return replace(prediction, origin=(self, index))

    def trace(self) -> tuple[Step, ...]:
        return tuple(call.step() for call in self.made)

    def record(self, failures: Sequence[Violation]) -> None:
        for v in failures:
            self.failures.setdefault(v.message, v)

    def result(self, out: Prediction, inputs: Mapping[str, Any]) -> Prediction:
        """``out`` (of whatever Prediction type the program returns) with the run's whole history."""
        left: dict[str, Violation] = {}
        for call in self.calls:
            for v in call.prediction.failures:
                left.setdefault(v.message, v)
        for v in (*out.failures, *self.failures.values()):
            left.setdefault(v.message, v)
        return replace(
            out, attempts=tuple(self.log), failures=tuple(left.values()), trace=self.trace(), inputs=inputs, origin=None
        )

    def fail(self, message: str, failures: tuple[Violation, ...]) -> AssertionFailed:
        return AssertionFailed(message, failures=failures, attempts=tuple(self.log), trace=self.trace())


class BoundPredict:
    """A program's predictor during one run: its calls go through the run."""

    __slots__ = ("name", "predict", "run")

    def __init__(self, predict: Predictor, run: Run, name: str) -> None:
        self.predict, self.run, self.name = predict, run, name

    def __call__(self, *, lm: LM | None = None, **inputs: Any) -> Prediction:
        return self.run.call(self.name, self.predict, inputs, lm)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.predict, name)

    def __repr__(self) -> str:
        return f"{self.predict!r} (bound to a run)"


def _origin(prediction: Prediction) -> tuple[Run | None, int | None]:
    origin = prediction.origin
    return origin if isinstance(origin, tuple) else (None, None)


def _target(run: Run, rule: Rule, prediction: Prediction) -> int | None:
    """The call a failure of ``rule`` on ``prediction`` backtracks to."""
    wanted = rule.target
    if isinstance(wanted, Prediction):
        owner, index = _origin(wanted)
        return index if owner is run else None
    if isinstance(wanted, BoundPredict):
        wanted = wanted.predict
    if wanted is not None:
        matches = [i for i, c in enumerate(run.calls) if c.predict is wanted or c.name == wanted]
        if not matches:
            raise UsageError(f"{rule!r}: target={wanted!r} made no call in this run; name a predictor that ran")
        return matches[-1]
    owner, index = _origin(prediction)
    reads = rule.reads
    if owner is run and index is not None and (reads is None or set(reads) & set(run.calls[index].prediction.outputs)):
        return index
    fields = set(reads or prediction.outputs)
    writers = [i for i, c in enumerate(run.calls) if fields & set(c.prediction.outputs)]
    return writers[-1] if writers else None


def check_rules(prediction: Prediction, rules: Sequence[Rule]) -> Prediction:
    """What :func:`refine.check` does: see its docstring."""
    failed = [(rule, violations_of(rule, prediction)) for rule in rules]
    failed = [(rule, found) for rule, found in failed if found]
    if not failed:
        return prediction
    run, _ = _origin(prediction)
    hard = tuple(v for _, found in failed for v in found if v.hard)
    if run is not None:
        targets = [_target(run, rule, prediction) for rule, _ in failed]
        # Hard failures go first; the feedback is every failure that points at the same call.
        order = sorted(range(len(failed)), key=lambda i: not failed[i][0].hard)
        for i in order:
            index = targets[i]
            if index is None:
                continue
            call = run.calls[index]
            if len(call.attempts) <= call.predict.max_backtracks:
                feedback = tuple(v for j, (_, found) in enumerate(failed) if targets[j] == index for v in found)
                raise Backtrack(index, feedback)
    soft = tuple(v for _, found in failed for v in found if not v.hard)
    if run is not None and not hard:
        _keep_best(run, [rule for rule, _ in failed], prediction)
    if hard:
        message = "; ".join(dict.fromkeys(v.message for v in hard))
        if run is None:
            raise AssertionFailed(
                f"assertion failed (outside a module run, so not retried): {message}",
                failures=hard,
                attempts=prediction.attempts,
            )
        spent = [run.calls[t] for t, (rule, _) in zip(targets, failed, strict=True) if rule.hard and t is not None]
        where = ", ".join(dict.fromkeys(f"{c.name!r} after {len(c.attempts)} attempts" for c in spent))
        raise run.fail(f"assertion failed on {where or 'no predictor that ran'}: {message}", hard)
    logger.info("suggestion failed; carrying on: %s", "; ".join(v.message for v in soft))
    if run is not None:
        run.record(soft)
    return replace(prediction, failures=prediction.failures + soft)


def _keep_best(run: Run, rules: Sequence[Rule], prediction: Prediction) -> None:
    """When a scored suggestion gives up on the call that produced ``prediction``, go on with
    that call's best-scoring attempt rather than its last (by backtracking to it, at no LM cost)."""
    owner, index = _origin(prediction)
    scores = [r.score for r in rules if isinstance(r, Suggest) and r.score is not None and r.target is None]
    if owner is not run or index is None or not scores or run.calls[index].settled:
        return
    call = run.calls[index]
    call.settled = True
    best = best_attempt(call.attempts, scores, call.inputs)
    if call.attempts[best].outputs != call.prediction.outputs:
        raise Backtrack(index, (), select=best)


# Looks at a finished pass and may ask for one more (how Refine retries on a low reward).
Judge = Callable[[Run, Prediction], Backtrack | None]


def execute(
    one_pass: Callable[[Run], Prediction],
    run: Run,
    inputs: Mapping[str, Any],
    *,
    name: str,
    judge: Judge | None = None,
) -> Prediction:
    """Run passes of a program on ``run`` until every check passes or gives up.

    ``one_pass(run)`` runs the program once with its predictors bound to ``run``; ``name`` says
    which program in errors.
    """
    for _ in range(MAX_PASSES):
        run.start_pass()
        try:
            out = one_pass(run)
            again = judge(run, out) if judge is not None else None
            if again is None:
                return run.result(out, inputs)
            raise again
        except Backtrack as signal:
            run.pending = signal
        except AssertionFailed as exc:
            if exc.trace:
                raise
            # A predictor's own checks gave up: report it with the whole run's history.
            raise run.fail(str(exc), exc.failures) from exc
        except ParseError as exc:
            # No reply of a call parsed: the error carries every attempt of the run, not the call's only.
            raise ParseError(
                str(exc), text=exc.text, field=exc.field, attempts=tuple(run.log), trace=run.trace()
            ) from exc
    raise RuntimeFailure(
        f"{name} did not settle after {MAX_PASSES} passes: its forward makes different "
        "calls each time it is re-run; make it depend only on its inputs and its predictors' outputs"
    )
