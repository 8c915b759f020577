"""The one optimizer type: ``optimize(program, trainset, ...) -> Compiled``, ``compile`` its program."""

from __future__ import annotations

import abc
from collections.abc import Iterable
from typing import Any

from refine.evaluation import Dataset
from refine.example import Example
from refine.lm import LM
from refine.optimizers._report import Compiled
from refine.program import Program

__all__ = ["Optimizer"]


class Optimizer(abc.ABC):
    """A function of its inputs: the same program, training set, options and seed give the same
    program, the input program is left as it was, and nothing is kept on the optimizer, so one
    optimizer compiles from many threads. Each optimizer writes :meth:`optimize`; options it takes
    beyond these (``valset=``) are passed on by :meth:`compile`."""

    __slots__ = ()

    @abc.abstractmethod
    def optimize(
        self, program: Program, trainset: Iterable[Example] | Dataset, *, lm: LM | None = None, seed: int = 0
    ) -> Compiled:
        """A new program, with a report of what was kept from each training example and why."""

    def compile(
        self,
        program: Program,
        trainset: Iterable[Example] | Dataset,
        *,
        lm: LM | None = None,
        seed: int = 0,
        **options: Any,
    ) -> Program:
        """:meth:`optimize`'s program alone; ``program`` is left as it was."""
        return self.optimize(program, trainset, lm=lm, seed=seed, **options).program
