"""The one program type: :class:`Program`, under :class:`~refine.Module` and :class:`~refine.Predict`.

A program holds predictors (as attributes, in lists, tuples, dicts and sub-programs), lists them
by attribute path, rebuilds itself with each replaced, and saves and loads what they learned. A
predictor is the leaf: a one-step program whose only predictor is itself, named ``"self"``.
Calling a program runs it in a :class:`~refine.program._runs.Run` (see :mod:`refine.program._module`).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from refine.errors import UsageError
from refine.history import Prediction
from refine.lm import LM
from refine.program._assertions import Rule
from refine.program._context import resolve_lm
from refine.program._files import Loader, built_from_json, read_program, write_program
from refine.program._predictor import Predictor
from refine.program._runs import Judge, Run, execute

__all__ = ["Program", "check_program", "load_program", "save_program"]

# leaf(name, predictor) -> what stands in its place; module(copy) is told of each program copied.
Leaf = Callable[[str, Predictor], Any]
Copied = Callable[["Program"], None]


class Program:
    """What every program is: called with keyword inputs, it runs in a run of its own and returns a
    :class:`~refine.Prediction` with its history; it lists its predictors by attribute path; and
    what they learned is saved as JSON.

    Subclasses say what one pass of the program is (:meth:`_pass`): :class:`~refine.Module` runs
    a ``forward`` that calls predictors; :class:`~refine.Predict` is one step, the leaf.
    ``assertions`` are checked on what a pass returns; ``lm`` is the backend unless a call names one.
    """

    assertions: Sequence[Rule] = ()
    lm: LM | None = None

    def __call__(self, *args: Any, lm: LM | None = None, **kwargs: Any) -> Prediction:
        return self._start(args, kwargs, resolve_lm(lm or self.lm))

    def _start(self, args: tuple[Any, ...], kwargs: Mapping[str, Any], lm: LM) -> Prediction:
        """A top-level call: a new run, passed through until it settles."""
        return self._execute(Run(lm), args, kwargs)

    def _execute(
        self, run: Run, args: tuple[Any, ...], kwargs: Mapping[str, Any], judge: Judge | None = None
    ) -> Prediction:
        return execute(lambda r: self._pass(r, args, kwargs), run, kwargs, name=type(self).__name__, judge=judge)

    def _pass(self, run: Run, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Prediction:
        """One pass of the program with its predictors bound to ``run``."""
        raise NotImplementedError(f"{type(self).__name__} is a Program that does not say how it runs; subclass Module")

    def _walk(self, name: str, leaf: Leaf, copied: Copied | None) -> Any:
        """This program with ``leaf(path, predictor)`` in place of each predictor in its attributes.

        Copied only when something in it changed; with ``copied``, always copied and handed to it.
        """
        changed: dict[str, Any] = {}
        for attr, item in vars(self).items():
            new = walk(item, f"{name}.{attr}" if name else attr, leaf, copied)
            if new is not item:
                changed[attr] = new
        if not changed and copied is None:
            return self
        clone = copy.copy(self)
        for attr, new in changed.items():
            object.__setattr__(clone, attr, new)
        if copied is not None:
            copied(clone)
        return clone

    def named_predictors(self) -> list[tuple[str, Predictor]]:
        """Every predictor of this program, by attribute path (``"retrieve.query"``, ``"hops[1]"``)."""
        found: list[tuple[str, Predictor]] = []

        def collect(name: str, predict: Predictor) -> Predictor:
            found.append((name, predict))
            return predict

        self._walk("", collect, None)
        return found

    def map_predictors(self, replace: Callable[[str, Any], Predictor]) -> Any:
        """A copy of this program with ``replace(name, predictor)`` in place of each predictor
        (containers and sub-programs copied only where something changed)."""
        return self._walk("", replace, None)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write every named predictor's signature, demos and settings to ``path`` as versioned JSON."""
        return write_program(self, path)

    # MyModule.load(path) builds one without arguments and loads the file; program.load(path)
    # returns a copy of program with the file's demos, instructions and settings.
    load = Loader(built_from_json)


def walk(value: Any, name: str, leaf: Leaf, copied: Copied | None) -> Any:
    """``value`` with ``leaf(name, predictor)`` in place of each predictor found in it: through
    programs, lists, tuples and dicts; a container is copied only when something in it changed."""
    if isinstance(value, Program):
        return value._walk(name, leaf, copied)
    if isinstance(value, list | tuple):
        items = [walk(item, f"{name}[{i}]", leaf, copied) for i, item in enumerate(value)]
        if any(a is not b for a, b in zip(items, value, strict=True)):
            return type(value)(items) if isinstance(value, list) else tuple(items)
    if isinstance(value, dict):
        mapped = {k: walk(v, f"{name}[{k!r}]", leaf, copied) for k, v in value.items()}
        if any(mapped[k] is not v for k, v in value.items()):
            return mapped
    return value


def check_program(value: Any, name: str = "program") -> Program:
    """``value`` when it is a program; else the one error that says what a program is."""
    if isinstance(value, Program):
        return value
    if isinstance(value, type) and issubclass(value, Program):
        raise UsageError(f"{name}={value.__name__} is a program class, not a program; build one: {value.__name__}(...)")
    raise UsageError(
        f"{name}={value!r:.80} is not a refine program; pass a refine.Predict, or a refine.Module (a class with "
        "predictors as attributes and a forward(...) that calls them)"
    )


def save_program(program: Program, path: str | os.PathLike[str]) -> Path:
    """``program.save(path)``: every named predictor's signature, demos and settings, as versioned JSON."""
    return check_program(program).save(path)


def load_program(target: Program | type[Program], path: str | os.PathLike[str]) -> Any:
    """A new program: ``target`` (a program, or a program class: ``Predict``, or a Module class built
    without arguments) with what the file at ``path`` holds. ``target`` itself is left as it was."""
    if isinstance(target, type) and issubclass(target, Program):
        return target.load(path)
    if not isinstance(target, Program):
        raise UsageError(
            f"cannot load a program into {target!r}; pass a refine.Module or Predict (class or instance)"
        )
    return read_program(target, path)
