"""Programs of several steps: :class:`Module`, and :func:`check` for assertions inside ``forward``.

A module call is a *run*. Each run works on its own shallow copy of the module whose predictors
are bound to the run, so the run's state (the calls made, their attempts, pending feedback) lives
in the call and nowhere else: the same module can run from many threads at once.

When a check fails, the run *backtracks*: it unwinds ``forward``, and runs it again. Calls before
the failing one replay their recorded predictions (no LM call); the failing call is retried with
the failed output and the feedback appended to its prompt; later calls run afresh. Each call has
its predictor's ``max_backtracks`` retries; when they are spent a hard failure raises
:class:`AssertionFailed` with every attempt, and a soft one is recorded on the result.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from refine._context import resolve_lm
from refine.assertions import Rule, Suggest, evaluate
from refine.errors import AssertionFailed, ParseError, RuntimeFailure, UsageError
from refine.history import Attempt, Prediction, Step, Violation
from refine.lm import LM
from refine.predict import Predict

__all__ = ["Module", "check"]

logger = logging.getLogger(__name__)

# A forward that keeps asking for different calls after each backtrack is not deterministic
# given its predictions; stop it rather than loop.
MAX_PASSES = 100


@dataclass(slots=True)
class _Call:
    """A predictor call in a run; mutable while the run goes on, frozen into a :class:`Step` at the end."""

    name: str
    predict: Predict
    inputs: dict[str, Any]
    prediction: Prediction
    failed: bool = False  # its own checks gave up: the attempts are kept, there are no outputs
    settled: bool = False  # a scored suggestion already picked its best attempt

    @property
    def attempts(self) -> tuple[Attempt, ...]:
        return self.prediction.attempts

    def step(self) -> Step:
        return Step(self.name, self.inputs, self.attempts, None if self.failed else self.prediction.outputs)


class _Backtrack(BaseException):
    """Unwinds ``forward`` to retry call ``index``. A BaseException, so ``except Exception`` in
    user code cannot swallow it. ``fresh_round`` grants the call a new round of retries;
    ``select`` makes no new attempt but goes on with the call's attempt of that number."""

    def __init__(
        self, index: int, feedback: tuple[Violation, ...], *, fresh_round: bool = False, select: int | None = None
    ) -> None:
        super().__init__(index)
        self.index = index
        self.feedback = feedback
        self.fresh_round = fresh_round
        self.select = select


@dataclass(slots=True)
class _Run:
    lm: LM
    rollout: int = 0
    calls: list[_Call] = field(default_factory=list)  # this pass, in order
    previous: list[_Call] = field(default_factory=list)  # the pass before, for replay
    pending: _Backtrack | None = None
    made: list[_Call] = field(default_factory=list)  # every call made, replayed or not
    log: list[Attempt] = field(default_factory=list)  # every attempt, in time order
    failures: dict[str, Violation] = field(default_factory=dict)  # soft failures kept at run level

    def start_pass(self) -> None:
        self.previous, self.calls = self.calls, []

    def call(self, name: str, predict: Predict, inputs: dict[str, Any], lm: LM | None) -> Prediction:
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
            prediction = call.predict.run(call.inputs, lm=lm or self.lm, prior=prior, rollout=self.rollout, **retry)
        except (AssertionFailed, ParseError) as exc:
            call.prediction, call.failed = Prediction({}, tuple(exc.attempts), inputs=call.inputs), True
            self.log.extend(exc.attempts[len(prior) :])
            raise
        self.log.extend(prediction.attempts[len(prior) :])
        call.prediction = self._tag(prediction, index)

    def _tag(self, prediction: Prediction, index: int) -> Prediction:
        return Prediction(
            prediction.outputs, prediction.attempts, prediction.failures, inputs=prediction.inputs, origin=(self, index)
        )

    def trace(self) -> tuple[Step, ...]:
        return tuple(call.step() for call in self.made)

    def record(self, failures: Sequence[Violation]) -> None:
        for v in failures:
            self.failures.setdefault(v.message, v)

    def result(self, out: Prediction, inputs: Mapping[str, Any]) -> Prediction:
        left: dict[str, Violation] = {}
        for call in self.calls:
            for v in call.prediction.failures:
                left.setdefault(v.message, v)
        for v in (*out.failures, *self.failures.values()):
            left.setdefault(v.message, v)
        return Prediction(out.outputs, tuple(self.log), tuple(left.values()), self.trace(), inputs=inputs)

    def fail(self, message: str, failures: tuple[Violation, ...]) -> AssertionFailed:
        return AssertionFailed(message, failures=failures, attempts=tuple(self.log), trace=self.trace())


class _BoundPredict:
    """A module's predictor during one run: its calls go through the run."""

    __slots__ = ("_name", "_predict", "_run")

    def __init__(self, predict: Predict, run: _Run, name: str) -> None:
        self._predict, self._run, self._name = predict, run, name

    def __call__(self, *, lm: LM | None = None, **inputs: Any) -> Prediction:
        return self._run.call(self._name, self._predict, inputs, lm)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._predict, name)

    def __repr__(self) -> str:
        return f"{self._predict!r} (bound to a run)"


def _bind(value: Any, run: _Run, name: str) -> Any:
    if isinstance(value, Predict):
        return _BoundPredict(value, run, name)
    if isinstance(value, Module):
        clone = copy.copy(value)
        object.__setattr__(clone, "_refine_run", run)
        for attr, item in vars(value).items():
            bound = _bind(item, run, f"{name}.{attr}" if name else attr)
            if bound is not item:
                object.__setattr__(clone, attr, bound)
        return clone
    if isinstance(value, list | tuple):
        items = [_bind(item, run, f"{name}[{i}]") for i, item in enumerate(value)]
        if any(a is not b for a, b in zip(items, value, strict=True)):
            return type(value)(items) if isinstance(value, list) else tuple(items)
    if isinstance(value, dict):
        bound_items = {k: _bind(v, run, f"{name}[{k!r}]") for k, v in value.items()}
        if any(bound_items[k] is not v for k, v in value.items()):
            return bound_items
    return value


def _origin(prediction: Prediction) -> tuple[_Run | None, int | None]:
    origin = prediction.origin
    return origin if isinstance(origin, tuple) else (None, None)


def _target(run: _Run, rule: Rule, prediction: Prediction) -> int | None:
    """The call a failure of ``rule`` on ``prediction`` backtracks to."""
    wanted = rule.target
    if isinstance(wanted, Prediction):
        owner, index = _origin(wanted)
        return index if owner is run else None
    if isinstance(wanted, _BoundPredict):
        wanted = wanted._predict
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


def check(prediction: Prediction, *rules: Rule) -> Prediction:
    """Check ``rules`` on ``prediction`` inside a module's ``forward``; backtrack when one fails.

    A failure backtracks to the predictor named by the rule's ``target``, else to the one that
    produced ``prediction``, else to the latest one that wrote a field the rule reads. Once that
    predictor's retries are spent, a failed :class:`Assert` raises :class:`AssertionFailed` and a
    failed :class:`Suggest` is recorded on the run's result. Returns ``prediction`` (with any
    recorded failures) so calls can be chained. Outside a module run nothing can be retried:
    failures are final at once.
    """
    failed = [(rule, evaluate(rule, prediction)) for rule in rules]
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
                raise _Backtrack(index, feedback)
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
    return Prediction(
        prediction.outputs,
        prediction.attempts,
        prediction.failures + soft,
        prediction.trace,
        inputs=prediction.inputs,
        origin=prediction.origin,
    )


def _keep_best(run: _Run, rules: Sequence[Rule], prediction: Prediction) -> None:
    """When a scored suggestion gives up on the call that produced ``prediction``, go on with
    that call's best-scoring attempt rather than its last (by backtracking to it, at no LM cost)."""
    owner, index = _origin(prediction)
    scores = [r.score for r in rules if isinstance(r, Suggest) and r.score is not None and r.target is None]
    if owner is not run or index is None or not scores or run.calls[index].settled:
        return
    call = run.calls[index]
    call.settled = True
    standing = [i for i, a in enumerate(call.attempts) if a.passed_hard]
    best = max(
        reversed(standing),
        key=lambda i: sum(score(Prediction(call.attempts[i].outputs or {}, inputs=call.inputs)) for score in scores),
    )
    if call.attempts[best].outputs != call.prediction.outputs:
        raise _Backtrack(index, (), select=best)


class Module:
    """A program: predictors (and sub-modules) as attributes, and a ``forward`` that uses them.

    ``assertions`` are checked on what ``forward`` returns; :func:`check` checks rules anywhere
    inside it. Calling the module runs ``forward`` (backtracking as needed) and returns a
    :class:`Prediction` with every attempt of every call (``attempts``), the calls themselves
    (``trace``) and the suggestions still failed (``failures``).

        class Answer(refine.Module):
            assertions = (refine.Assert(checks.non_empty("answer")),)

            def __init__(self, retriever):
                self.retriever = retriever
                self.answer = refine.Predict(refine.CitedQA)

            def forward(self, question):
                passages = [hit.passage for hit in self.retriever.search(question, k=3)]
                return self.answer(passages=passages, question=question)
    """

    assertions: Sequence[Rule] = ()

    def forward(self, *args: Any, **kwargs: Any) -> Prediction | Mapping[str, Any]:
        raise NotImplementedError(f"{type(self).__name__} needs a forward(...) method that calls its predictors")

    def __call__(self, *args: Any, lm: LM | None = None, **kwargs: Any) -> Prediction:
        run = getattr(self, "_refine_run", None)
        if isinstance(run, _Run):  # a sub-module inside a running program: part of the same run
            return self._finish(run, self.forward(*args, **kwargs))
        return execute(self, args, kwargs, _Run(resolve_lm(lm)))

    def _finish(self, run: _Run, out: Any) -> Prediction:
        if isinstance(out, Mapping) and not isinstance(out, Prediction):
            out = Prediction(out, origin=(run, None))  # no single call wrote it: checks find the writers
        if not isinstance(out, Prediction):
            raise UsageError(
                f"{type(self).__name__}.forward returned {type(out).__name__}; "
                "return a refine.Prediction (what a predictor returns) or a dict of outputs"
            )
        return check(out, *self.assertions) if self.assertions else out

    def named_predictors(self) -> list[tuple[str, Predict]]:
        """Every predictor in this module and its sub-modules, by attribute path."""
        found: list[tuple[str, Predict]] = []

        def walk(value: Any, name: str) -> None:
            if isinstance(value, Predict):
                found.append((name, value))
            elif isinstance(value, Module):
                for attr, item in vars(value).items():
                    walk(item, f"{name}.{attr}" if name else attr)
            elif isinstance(value, list | tuple):
                for i, item in enumerate(value):
                    walk(item, f"{name}[{i}]")
            elif isinstance(value, dict):
                for key, item in value.items():
                    walk(item, f"{name}[{key!r}]")

        walk(self, "")
        return found


def execute(
    module: Module,
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
    run: _Run,
    judge: Callable[[_Run, Prediction], _Backtrack | None] | None = None,
) -> Prediction:
    """Run ``module`` to completion on ``run``, backtracking until every check passes or gives up.

    ``judge`` (used by :class:`~refine.Refine`) looks at each finished pass and may ask for one more.
    """
    for _ in range(MAX_PASSES):
        run.start_pass()
        bound = _bind(module, run, "")
        try:
            out = bound._finish(run, bound.forward(*args, **kwargs))
            again = judge(run, out) if judge is not None else None
            if again is None:
                return run.result(out, kwargs)
            raise again
        except _Backtrack as signal:
            run.pending = signal
        except AssertionFailed as exc:
            if exc.trace:
                raise
            # A predictor's own checks gave up: report it with the whole run's history.
            raise run.fail(str(exc), exc.failures) from exc
    raise RuntimeFailure(
        f"{type(module).__name__} did not settle after {MAX_PASSES} passes: its forward makes different "
        "calls each time it is re-run; make it depend only on its inputs and its predictors' outputs"
    )
