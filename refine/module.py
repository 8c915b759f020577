"""Programs of several steps: :class:`Module`, and :func:`check` for assertions inside ``forward``.

Every program is a :class:`Module` (a :class:`~refine.Predict` is the one-step program it is
built from): called with keyword inputs, it returns a :class:`~refine.Prediction` carrying every
attempt, the trace of predictor calls, the usage and the suggestions still failed; and it lists
its predictors by name. How a call runs and backtracks is :mod:`refine._runs`.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from refine._context import resolve_lm
from refine._runs import BoundPredict, Judge, Run, check_rules, execute
from refine.assertions import Rule
from refine.errors import UsageError
from refine.history import Prediction
from refine.lm import LM
from refine.predict import Predict
from refine.program_file import Loader, built_from_json, save_program

__all__ = ["Module", "Program", "as_module", "check"]


def check(prediction: Prediction, *rules: Rule) -> Prediction:
    """Check ``rules`` on ``prediction`` inside a module's ``forward``; backtrack when one fails.

    A failure backtracks to the predictor named by the rule's ``target``, else to the one that
    produced ``prediction``, else to the latest one that wrote a field the rule reads. Once that
    predictor's retries are spent, a failed :class:`Assert` raises :class:`AssertionFailed` and a
    failed :class:`Suggest` is recorded on the run's result. Returns ``prediction`` (with any
    recorded failures) so calls can be chained. Outside a module run nothing can be retried:
    failures are final at once.
    """
    return check_rules(prediction, rules)


def _walk(value: Any, name: str, leaf: Callable[[str, Predict], Any], module: Callable[[Module], None] | None) -> Any:
    """``value`` with ``leaf(name, predictor)`` in place of each predictor found in it.

    Looks through a module's attributes, lists, tuples and dicts, naming each predictor by its
    attribute path (``"retrieve.query"``, ``"hops[1]"``). A container is copied only when
    something in it changed; with ``module``, every module is copied and handed to it.
    """
    if isinstance(value, Predict):
        return leaf(name, value)
    if isinstance(value, Module):
        changed: dict[str, Any] = {}
        for attr, item in vars(value).items():
            new = _walk(item, f"{name}.{attr}" if name else attr, leaf, module)
            if new is not item:
                changed[attr] = new
        if not changed and module is None:
            return value
        clone = copy.copy(value)
        for attr, new in changed.items():
            object.__setattr__(clone, attr, new)
        if module is not None:
            module(clone)
        return clone
    if isinstance(value, list | tuple):
        items = [_walk(item, f"{name}[{i}]", leaf, module) for i, item in enumerate(value)]
        if any(a is not b for a, b in zip(items, value, strict=True)):
            return type(value)(items) if isinstance(value, list) else tuple(items)
    if isinstance(value, dict):
        mapped = {k: _walk(v, f"{name}[{k!r}]", leaf, module) for k, v in value.items()}
        if any(mapped[k] is not v for k, v in value.items()):
            return mapped
    return value


class Module:
    """A program: predictors (and sub-modules) as attributes, and a ``forward`` that uses them.

    ``assertions`` are checked on what ``forward`` returns; :func:`check` checks rules anywhere
    inside it. Calling the module runs ``forward`` (backtracking as needed) and returns a
    :class:`Prediction` with every attempt of every call (``attempts``), the calls themselves
    (``trace``) and the suggestions still failed (``failures``). ``lm`` (an attribute, or the
    call's ``lm=``) is the backend its predictors use unless they name their own.

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
    lm: LM | None = None

    def forward(self, *args: Any, **kwargs: Any) -> Prediction | Mapping[str, Any]:
        raise NotImplementedError(f"{type(self).__name__} needs a forward(...) method that calls its predictors")

    def __call__(self, *args: Any, lm: LM | None = None, **kwargs: Any) -> Prediction:
        run = getattr(self, "_refine_run", None)
        if isinstance(run, Run):  # a sub-module inside a running program: part of the same run
            return self._finish(run, self.forward(*args, **kwargs))
        return self._start(args, kwargs, resolve_lm(lm or self.lm))

    def _start(self, args: tuple[Any, ...], kwargs: Mapping[str, Any], lm: LM) -> Prediction:
        """A top-level call: a new run, passed through until it settles."""
        return self._execute(Run(lm), args, kwargs)

    def _execute(
        self, run: Run, args: tuple[Any, ...], kwargs: Mapping[str, Any], judge: Judge | None = None
    ) -> Prediction:
        return execute(lambda r: self._pass(r, args, kwargs), run, kwargs, name=type(self).__name__, judge=judge)

    def _pass(self, run: Run, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Prediction:
        """One pass of ``forward`` with every predictor bound to ``run``."""

        def attach(clone: Module) -> None:
            object.__setattr__(clone, "_refine_run", run)

        bound = _walk(self, "", lambda name, p: BoundPredict(p, run, name), attach)
        return bound._finish(run, bound.forward(*args, **kwargs))

    def _finish(self, run: Run, out: Any) -> Prediction:
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

        def collect(name: str, predict: Predict) -> Predict:
            found.append((name, predict))
            return predict

        _walk(self, "", collect, None)
        return found

    def map_predictors(self, replace: Callable[[str, Predict], Predict]) -> Any:
        """A copy of this module with ``replace(name, predictor)`` in place of each predictor
        (containers and sub-modules copied only where something changed)."""
        return _walk(self, "", replace, None)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write every named predictor's signature, demos and settings to ``path`` as versioned JSON."""
        return save_program(self, path)

    # MyModule.load(path) builds one without arguments and loads the file; program.load(path)
    # returns a copy of program with the file's demos, instructions and settings.
    load = Loader(built_from_json)


class _OneStep(Module):
    """A predictor as a module, for the places that take a whole program."""

    def __init__(self, predict: Predict) -> None:
        self.predict = predict

    def forward(self, **inputs: Any) -> Prediction:
        return self.predict(**inputs)

    def __repr__(self) -> str:
        return repr(self.predict)


# What evaluation and optimizers take: a module, or a predictor as a one-step program.
Program = Module | Predict


def as_module(program: Program, name: str = "program") -> Module:
    """``program`` as a :class:`Module`: itself, or a predictor wrapped as a one-step module."""
    if isinstance(program, Module):
        return program
    if isinstance(program, Predict):
        return _OneStep(program)
    raise UsageError(f"{name}={program!r} is not a refine.Module or refine.Predict; wrap its steps in a Module")
