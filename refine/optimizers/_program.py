"""What every optimizer does to a program: read its predictors, give them demos, keep them in the window."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

import pydantic

from refine.errors import UsageError
from refine.evaluation import Dataset
from refine.evaluation._checks import check_examples
from refine.example import Example
from refine.history import Demo
from refine.lm import LM
from refine.metrics import gold_answers
from refine.program import Predict, Program
from refine.program._window import context_window, fit_demos, token_counter

__all__ = ["apply_demos", "labeled_demo", "predictors", "training_set", "trimmed"]


def predictors(program: Program) -> dict[str, Predict]:
    # Every leaf of a program is a Predict: it is the only program that walks as one.
    found = {name: cast(Predict, p) for name, p in program.named_predictors()}
    if not found:
        raise UsageError(f"{program!r} has no predictors (refine.Predict attributes); there is nothing to compile")
    return found


def training_set(examples: Iterable[Example] | Dataset, name: str = "trainset") -> tuple[Example, ...]:
    try:
        return check_examples(examples)
    except UsageError as exc:
        raise UsageError(f"{name}: {exc}") from None


def apply_demos(program: Program, demos: Mapping[str, Sequence[Demo]]) -> Program:
    """A new program whose predictors have ``demos[name]`` (the input program is untouched)."""
    return program.map_predictors(lambda name, p: p.with_demos(list(demos.get(name, ()))))  # type: ignore[no-any-return]


def labeled_demo(name: str, predict: Predict, example: Example) -> Demo | str:
    """A demo of ``predict``'s fields taken from ``example``, or why it cannot be made.

    Each field is the example's value of that name, checked against the field's type; an output
    ``answer`` the example lacks is its first gold answer (``answers``), as the metrics read it.
    """
    values: dict[str, Any] = {}
    for spec in predict.signature.fields:
        if spec.name in example:
            raw = example[spec.name]
        elif spec.name == "answer" and "answers" in example:
            golds = gold_answers(example)
            if not golds:
                return "it has no gold answer"
            raw = golds[0]
        else:
            return f"it lacks {spec.name!r}, which predictor {name!r} needs"
        try:
            values[spec.name] = pydantic.TypeAdapter(spec.type).validate_python(raw)
        except pydantic.ValidationError as exc:
            return f"its {spec.name!r} is not {spec.type_name}: {exc.errors()[0]['msg']}"
    return Demo(values)


def trimmed(
    program: Program,
    demos: Mapping[str, Sequence[Demo]],
    inputs: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    lm: LM | None,
    window: int | None,
) -> tuple[dict[str, tuple[Demo, ...]], dict[str, int]]:
    """``demos`` cut, per predictor, to what fits the context window; and how many each lost."""
    kept: dict[str, tuple[Demo, ...]] = {}
    dropped: dict[str, int] = {}
    for name, predict in predictors(program).items():
        backend = predict.lm or lm or getattr(program, "lm", None)
        given = demos.get(name, ())
        fit = fit_demos(
            f"predictor {name!r}",
            predict.signature,
            given,
            [*inputs.get(name, ()), *(d.values for d in given)],
            max_tokens=predict.max_tokens,
            max_backtracks=predict.max_backtracks,
            window=context_window(backend, window),
            count=token_counter(backend),
            stacklevel=3,
        )
        kept[name] = fit.demos
        if fit.dropped:
            dropped[name] = fit.dropped
    return kept, dropped
