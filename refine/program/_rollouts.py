"""Several tries of a whole program, kept by a reward: :class:`BestOfN` and :class:`Refine`.

For users coming from DSPy 2.6+: ``reward(inputs, prediction) -> float``; the first result that
reaches ``threshold`` is returned, else the best-scoring one. Unlike DSPy's, a result here still
carries every attempt of every try, and a hard assertion that fails in every try raises
:class:`AssertionFailed` instead of being silently dropped.

Both are modules wrapping a program; they run it whole, so they are the outermost program of a
call, never a step of another one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from refine._options import check_int, check_number
from refine.errors import AssertionFailed, UsageError
from refine.history import Prediction, Violation
from refine.lm import LM
from refine.program._base import Program, check_program
from refine.program._module import Module
from refine.program._runs import Backtrack, Run

__all__ = ["BestOfN", "Refine", "Reward"]

logger = logging.getLogger(__name__)

Reward = Callable[[Mapping[str, Any], Prediction], float]


class _Rollouts(Module):
    def __init__(self, module: Program, N: int, reward: Reward, threshold: float) -> None:
        self.module = check_program(module, "module")
        self.N = check_int("N", N, minimum=1)
        if not callable(reward):
            raise UsageError(f"reward={reward!r} is not callable; pass a function (inputs, prediction) -> float")
        self.reward = reward
        self.threshold = check_number("threshold", threshold, infinite=True)

    def forward(self, *args: Any, **kwargs: Any) -> Prediction:
        raise UsageError(
            f"{type(self).__name__} runs a whole program several times, so it cannot be a step of another "
            "program; call it on its own, with the other program inside it"
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.module!r}, N={self.N}, threshold={self.threshold:g})"


class BestOfN(_Rollouts):
    """Run ``module`` up to ``N`` times, each a fresh sample (own seed, temperature >= 0.7 after the
    first); return the first result whose reward reaches ``threshold``, else the best."""

    def _start(self, args: tuple[Any, ...], kwargs: Mapping[str, Any], lm: LM) -> Prediction:
        tries: list[Prediction] = []
        scored: list[tuple[float, Prediction]] = []
        error: AssertionFailed | None = None
        for rollout in range(self.N):
            try:
                result = self.module._execute(Run(lm, rollout), args, kwargs)
            except AssertionFailed as exc:
                logger.info("BestOfN try %d failed: %s", rollout + 1, exc)
                error = exc
                continue
            tries.append(result)
            score = float(self.reward(kwargs, result))
            scored.append((score, result))
            if score >= self.threshold:
                break
        if error is not None and not scored:
            raise error
        best = max(scored, key=lambda pair: pair[0])[1]
        attempts = tuple(a for t in tries for a in t.attempts)
        trace = tuple(s for t in tries for s in t.trace)
        return replace(best, attempts=attempts, trace=trace)


class Refine(_Rollouts):
    """Run ``module``; while its reward is below ``threshold``, retry its last predictor call with
    the score as feedback appended to the prompt, up to ``N`` runs in all; return the first result
    that reaches ``threshold``, else the best."""

    def _start(self, args: tuple[Any, ...], kwargs: Mapping[str, Any], lm: LM) -> Prediction:
        scored: list[tuple[float, Prediction]] = []

        def judge(run: Run, out: Prediction) -> Backtrack | None:
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
            return Backtrack(len(run.calls) - 1, feedback, fresh_round=True)

        last = self.module._execute(Run(lm), args, kwargs, judge)
        best = max(scored, key=lambda pair: pair[0])[1]
        # The last run's result carries every attempt of every round.
        return replace(best, attempts=last.attempts, trace=last.trace)
