"""Strategies of what a constraint admits: ``replies(constraint)`` and ``json_values(schema)``.

What a grammar backend could produce under the constraint, so a property over these replies is a
property over every reply a constrained model can give.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from hypothesis import strategies as st

from refine.constraints import (
    FREE_TEXT_PATTERN,
    Choice,
    Constraint,
    JsonSchema,
    OneOf,
    Quote,
    Regex,
    Seq,
    Substring,
    quote_runs,
)

__all__ = ["json_values", "replies"]


def replies(constraint: str | Constraint | None) -> st.SearchStrategy[str]:
    """Strings that satisfy ``constraint`` (any text that is not blank when it is ``None``)."""
    return _replies(constraint)


# Constraints are frozen values: a strategy built once serves every request under an equal one
# (building a strategy from a citation grammar costs far more than drawing from it).
@lru_cache(maxsize=512)
def _replies(constraint: str | Constraint | None) -> st.SearchStrategy[str]:
    if constraint is None:
        return st.from_regex(FREE_TEXT_PATTERN, fullmatch=True)
    if isinstance(constraint, str):
        return st.just(constraint)
    if isinstance(constraint, Regex):
        return st.from_regex(constraint.pattern, fullmatch=True)
    if isinstance(constraint, Choice):
        return st.sampled_from(constraint.options)
    if isinstance(constraint, Substring):
        return _runs_of_chunks(constraint.runs)
    if isinstance(constraint, Quote):
        numbered = [(i, quote_runs(source)) for i, source in enumerate(constraint.sources, 1) if quote_runs(source)]
        return (
            st.sampled_from(numbered)
            .flatmap(
                lambda pair: st.tuples(_runs_of_chunks(pair[1], constraint.max_words), st.sampled_from([" ", ""])).map(
                    lambda parts: f"{parts[0]}{parts[1]}[{pair[0]}]"
                )
            )
            .filter(constraint.matches)  # max_chars
        )
    if isinstance(constraint, Seq):
        return st.tuples(*(replies(part) for part in constraint.parts)).map("".join)
    if isinstance(constraint, OneOf):
        return st.one_of(*(replies(alt) for alt in constraint.alternatives))
    if isinstance(constraint, JsonSchema):
        schema = constraint.as_dict
        return json_values(schema, schema.get("$defs", {})).map(lambda v: json.dumps(v, ensure_ascii=False))
    raise TypeError(f"no strategy for constraint {constraint!r}")


def _runs_of_chunks(runs: tuple[tuple[str, ...], ...], most: int | None = None) -> st.SearchStrategy[str]:
    """Consecutive chunks of one of ``runs``: a quote; of at most ``most`` chunks when given
    (a chunk holds a word or more, so a word limit is not filtered for in vain)."""
    return st.sampled_from(runs).flatmap(
        lambda chunks: st.integers(0, len(chunks) - 1).flatmap(
            lambda start: st.integers(start + 1, min(len(chunks), start + (most or len(chunks)))).map(
                lambda end: "".join(chunks[start:end])
            )
        )
    )


def json_values(schema: dict[str, Any], defs: dict[str, Any] | None = None) -> st.SearchStrategy[Any]:
    """Python values valid under ``schema`` (the subset of JSON schema signatures produce)."""
    defs = defs or {}
    if "$ref" in schema:
        return st.deferred(lambda: json_values(defs[schema["$ref"].rsplit("/", 1)[-1]], defs))
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "const" in schema:
        return st.just(schema["const"])
    if "anyOf" in schema:
        return st.one_of(*(json_values(option, defs) for option in schema["anyOf"]))
    kind = schema.get("type")
    if kind == "string":
        if "pattern" in schema:
            return st.from_regex(schema["pattern"])
        return st.text(min_size=schema.get("minLength", 0), max_size=schema.get("maxLength", 40))
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "number":
        return st.floats(schema.get("minimum"), schema.get("maximum"), allow_nan=False, allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "array":
        items = json_values(schema.get("items", {}), defs)
        return st.lists(items, min_size=schema.get("minItems", 0), max_size=schema.get("maxItems", 5))
    if kind == "object":
        properties = schema.get("properties", {})
        required = set(schema.get("required", properties))
        fixed = {name: json_values(prop, defs) for name, prop in properties.items() if name in required}
        optional = {name: json_values(prop, defs) for name, prop in properties.items() if name not in required}
        if not properties:
            return st.dictionaries(st.text(max_size=8), st.integers(), max_size=3)
        return st.fixed_dictionaries(fixed, optional=optional)
    return st.one_of(st.integers(), st.text(max_size=10), st.booleans())
