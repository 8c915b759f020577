"""Several tries of a whole program, kept by a reward: :class:`BestOfN` and :class:`Refine`.

For users coming from DSPy 2.6+: ``reward(inputs, prediction) -> float``; the first result that
reaches ``threshold`` is returned, else the best-scoring one. Unlike DSPy's, a result here still
carries every attempt of every try, and a hard assertion that fails in every try raises
:class:`AssertionFailed` instead of being silently dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from refine._context import resolve_lm
from refine._options import check_int, check_number
from refine.errors import AssertionFailed, UsageError
from refine.history import Prediction, Violation
from refine.lm import LM
from refine.module import Module, _Backtrack, _Run, execute

__all__ = ["BestOfN", "Refine", "Reward"]

logger = logging.getLogger(__name__)

Reward = Callable[[Mapping[str, Any], Prediction], float]


def _validated(module: Module, N: int, reward: Reward, threshold: float) -> None:
    if not isinstance(module, Module):
        raise UsageError(f"module={module!r} is not a refine.Module; wrap predictors in a Module subclass")
    check_int("N", N, minimum=1)
    if not callable(reward):
        raise UsageError(f"reward={reward!r} is not callable; pass a function (inputs, prediction) -> float")
    check_number("threshold", threshold, infinite=True)


def _merge(best: Prediction, tries: list[Prediction]) -> Prediction:
    attempts = tuple(a for t in tries for a in t.attempts)
    trace = tuple(s for t in tries for s in t.trace)
    return Prediction(best.outputs, attempts, best.failures, trace, inputs=best.inputs)


class BestOfN:
    """Run ``module`` up to ``N`` times, each a fresh sample (own seed, temperature >= 0.7 after the
    first); return the first result whose reward reaches ``threshold``, else the best."""

    def __init__(self, module: Module, N: int, reward: Reward, threshold: float) -> None:
        _validated(module, N, reward, threshold)
        self.module, self.N, self.reward, self.threshold = module, N, reward, threshold

    def __call__(self, *args: Any, lm: LM | None = None, **kwargs: Any) -> Prediction:
        backend = resolve_lm(lm)
        tries: list[Prediction] = []
        scored: list[tuple[float, Prediction]] = []
        error: AssertionFailed | None = None
        for rollout in range(self.N):
            try:
                result = execute(self.module, args, kwargs, _Run(backend, rollout))
            except AssertionFailed as exc:
                logger.info("BestOfN try %d failed: %s", rollout + 1, exc)
                error = exc
                continue
            tries.append(result)
            score = float(self.reward(kwargs, result))
            scored.append((score, result))
            if score >= self.threshold:
                break
        if not scored:
            assert error is not None
            raise error
        best = max(scored, key=lambda pair: pair[0])[1]
        return _merge(best, tries)


class Refine:
    """Run ``module``; while its reward is below ``threshold``, retry its last predictor call with
    the score as feedback appended to the prompt, up to ``N`` runs in all; return the first result
    that reaches ``threshold``, else the best."""

    def __init__(self, module: Module, N: int, reward: Reward, threshold: float) -> None:
        _validated(module, N, reward, threshold)
        self.module, self.N, self.reward, self.threshold = module, N, reward, threshold

    def __call__(self, *args: Any, lm: LM | None = None, **kwargs: Any) -> Prediction:
        scored: list[tuple[float, Prediction]] = []

        def judge(run: _Run, out: Prediction) -> _Backtrack | None:
            result = run.result(out, kwargs)
            score = float(self.reward(kwargs, result))
            scored.append((score, result))
            if score >= self.threshold or len(scored) >= self.N or not run.calls:
                return None
            message = (
                f"This reply scores {score:.2f} but needs at least {self.threshold:g}; "
                "write a better one that follows every instruction."
            )
            feedback = (Violation(None, None, message, "reward", hard=False),)
            return _Backtrack(len(run.calls) - 1, feedback, fresh_round=True)

        run = _Run(resolve_lm(lm))
        last = execute(self.module, args, kwargs, run, judge=judge)
        best = max(scored, key=lambda pair: pair[0])[1]
        # The last run's result carries every attempt of every round.
        return Prediction(best.outputs, last.attempts, best.failures, last.trace, inputs=best.inputs)
