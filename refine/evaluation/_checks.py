"""Checks of what :func:`refine.evaluate` is given, made before any call, and a program's name."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from refine.errors import UsageError
from refine.evaluation._datasets import Dataset
from refine.example import Example
from refine.lm import LM
from refine.metrics import Metric, metric_name
from refine.signatures import Signature

__all__ = ["check_examples", "check_inputs", "describe", "extra_metrics", "named"]

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_DEFAULT_REPR = re.compile(r"<([\w.]+) object at 0x[0-9a-fA-F]+>")


def describe(program: Any) -> str:
    """How a program is named in a run's header: its ``repr`` (its class, when that is all the
    default ``repr`` says), without memory addresses, so that a resumed run names it alike."""
    text = repr(program)
    default = _DEFAULT_REPR.fullmatch(text)
    return default.group(1) if default else _ADDRESS.sub("", text)


def named(metric: Any, what: str) -> str:
    if not callable(metric):
        raise UsageError(
            f"{what}={metric!r} is not callable; pass a function (example, prediction) -> float | bool, "
            "e.g. refine.metrics.f1"
        )
    return metric_name(metric)


def extra_metrics(metrics: Sequence[Metric] | Mapping[str, Metric], main: str) -> dict[str, Metric]:
    if isinstance(metrics, Mapping):
        pairs = [(str(name), metric) for name, metric in metrics.items()]
        for name, metric in pairs:
            named(metric, f"metrics[{name!r}]")
    elif isinstance(metrics, Sequence) and not isinstance(metrics, str):
        pairs = [(named(metric, f"metrics[{i}]"), metric) for i, metric in enumerate(metrics)]
    else:
        raise UsageError(f"metrics={metrics!r} must be a list of metrics or a dict of name -> metric")
    found: dict[str, Metric] = {}
    for name, metric in pairs:
        if name in found or name == main:
            raise UsageError(
                f"two metrics are named {name!r}; pass metrics as a dict to name them apart, "
                f"e.g. metrics={{'{name}2': ...}}"
            )
        found[name] = metric
    return found


def check_examples(examples: Iterable[Example] | Dataset) -> tuple[Example, ...]:
    if isinstance(examples, Dataset):
        examples = examples.examples
    if isinstance(examples, str | bytes | Mapping | Example) or not isinstance(examples, Iterable):
        raise UsageError(f"examples={_short(examples)} must be a list of refine.Example (or a refine.Dataset)")
    found = tuple(examples)
    if not found:
        raise UsageError("examples is empty; pass at least one refine.Example")
    first: dict[str, int] = {}
    for position, example in enumerate(found):
        if not isinstance(example, Example):
            fix = "Example(**row).with_inputs('question')" if isinstance(example, Mapping) else "refine.Example(...)"
            raise UsageError(f"examples[{position}]={_short(example)} is not a refine.Example; make it {fix}")
        if example.id is None:
            raise UsageError(
                f"examples[{position}] has no id (rows are named by id); give each example one, e.g. "
                f"Example(..., id='q{position}') or example.with_id('q{position}')"
            )
        if not example.input_keys:
            key = next(iter(example.keys()), "question")
            raise UsageError(
                f"examples[{position}] (id {example.id!r}) names no inputs; name them, "
                f"e.g. example.with_inputs({key!r})"
            )
        if example.id in first:
            raise UsageError(
                f"examples[{position}] has id {example.id!r}, as examples[{first[example.id]}] has; ids must be unique"
            )
        first[example.id] = position
    return found


def check_inputs(program: Any, examples: Sequence[Example], lm: LM | None) -> None:
    """Refuse, before any call, examples whose inputs the program cannot take."""
    signature = getattr(program, "signature", None)
    if isinstance(signature, Signature):
        needed = [f.name for f in signature.inputs]
        for position, example in enumerate(examples):
            missing = [name for name in needed if name not in example.inputs]
            if missing:
                raise UsageError(
                    f"examples[{position}] (id {example.id!r}) has inputs {', '.join(example.inputs) or 'none'}, but "
                    f"{describe(program)} needs {', '.join(needed)}; name them with example.with_inputs(...)"
                )
        return
    forward = getattr(program, "forward", None)
    target, extra = (forward, {}) if callable(forward) else (program, {} if lm is None else {"lm": lm})
    try:
        parameters = inspect.signature(target)
    except (TypeError, ValueError):  # a builtin or C callable has no signature to check
        return
    for position, example in enumerate(examples):
        try:
            parameters.bind(**extra, **example.inputs)
        except TypeError as exc:
            raise UsageError(
                f"examples[{position}] (id {example.id!r}) has inputs {', '.join(example.inputs)}, which "
                f"{describe(program)} cannot take ({exc}); name the right ones with example.with_inputs(...)"
            ) from None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."
