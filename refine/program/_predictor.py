"""What the program layer needs of a predictor, as a Protocol: the bottom of ``refine.program``.

:class:`~refine.Predict` satisfies it. The run engine, program files and the :class:`Program`
base handle predictors through it, so none of them imports the class that sits above them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from refine.history import Attempt, Demo, Prediction, Violation
from refine.lm import LM
from refine.signatures import Signature

__all__ = ["Predictor"]


class Predictor(Protocol):
    """A predictor: what it learned (signature and demos), its settings, what stays with the
    program (its backend, its assertions), and a call that can continue earlier attempts."""

    @property
    def signature(self) -> Signature: ...
    @property
    def demos(self) -> tuple[Demo, ...]: ...
    @property
    def lm(self) -> LM | None: ...
    @property
    def assertions(self) -> Sequence[Any]: ...
    @property
    def max_backtracks(self) -> int: ...
    @property
    def max_tokens(self) -> int: ...

    def with_demos(self, demos: Sequence[Demo]) -> Predictor: ...

    def with_instructions(self, instructions: str) -> Predictor: ...

    def run(
        self,
        inputs: Mapping[str, Any],
        *,
        lm: LM,
        prior: Sequence[Attempt] = (),
        feedback: Sequence[Violation] = (),
        rollout: int = 0,
        limit: int | None = None,
    ) -> Prediction: ...
