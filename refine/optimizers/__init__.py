"""Optimizers: functions from a program and training examples to a new program.

Every optimizer is an :class:`Optimizer`: ``optimizer.compile(program, trainset, *, lm=None,
seed=0) -> program`` leaves ``program`` as it was and returns a new one;
``optimizer.optimize(...)`` returns it with a :class:`CompileReport` that says, per training
example, whether its trace was kept and why not. The same inputs and seed give the same program;
nothing is stored on the optimizer or anywhere else.

- :class:`LabeledFewShot`: demos straight from labelled examples.
- :class:`BootstrapFewShot`: demos from the teacher's traces that kept every constraint and
  passed the metric; with ``repair_demos``, :class:`~refine.RepairDemo` s of a failed reply, its
  feedback and the fix.
- :class:`RandomSearch`: candidate demo sets scored with :func:`refine.evaluate`.

Demos are trimmed to fit the context window (a :class:`DemoTrimWarning` says so).
"""

from refine.optimizers._base import Optimizer
from refine.optimizers._fewshot import BootstrapFewShot, LabeledFewShot
from refine.optimizers._report import Candidate, Compiled, CompileReport, ExampleOutcome
from refine.optimizers._search import RandomSearch
from refine.program import DemoTrimWarning

__all__ = [
    "BootstrapFewShot",
    "Candidate",
    "CompileReport",
    "Compiled",
    "DemoTrimWarning",
    "ExampleOutcome",
    "LabeledFewShot",
    "Optimizer",
    "RandomSearch",
]
