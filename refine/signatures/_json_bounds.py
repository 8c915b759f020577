"""JSON schemas held to a length, so that a JSON value decoded under one fits a token budget.

A reply of several fields is decoded under one grammar with ``max_tokens``; a JSON field whose
strings or lists have no bound can run past the budget (seen: a 900-character keyword at
temperature 1), and a cut reply does not parse. :func:`fit_schema` gives such strings a
``maxLength`` and such lists a ``maxItems``, as large as the budget allows.

Lengths count characters, which bound tokens (a token is at least one character). A string
counts twice its ``maxLength`` plus its quotes, so that every two-character escape (``\\"``,
``\\n``) is paid for; a ``\\uXXXX`` escape costs more, which a model seldom writes.
"""

from __future__ import annotations

import copy
import json
from typing import Any

__all__ = ["fit_schema", "longest_json"]

# Integers and numbers as a grammar backend's JSON admits them, at the lengths models write.
_SCALARS = {"integer": 20, "number": 30, "boolean": 5, "null": 4}
# The bounds a schema starts from, halved until it fits: generous for keywords and names.
_STRING, _ITEMS, _FLOOR = 80, 8, 8


def longest_json(schema: dict[str, Any], defs: dict[str, Any] | None = None) -> int | None:
    """The most characters compact JSON under ``schema`` can take; ``None`` when unbounded."""
    return _longest(schema, defs if defs is not None else schema.get("$defs", {}), frozenset())


def _longest(schema: dict[str, Any], defs: dict[str, Any], seen: frozenset[str]) -> int | None:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen or name not in defs:
            return None  # recursive, or nowhere to look
        return _longest(defs[name], defs, seen | {name})
    if "enum" in schema or "const" in schema:
        options = schema.get("enum", [schema.get("const")])
        return max(len(json.dumps(option)) for option in options)
    if "anyOf" in schema or "oneOf" in schema:
        lengths = [_longest(option, defs, seen) for option in schema.get("anyOf", schema.get("oneOf", []))]
        return None if not lengths or None in lengths else max(length for length in lengths if length is not None)
    kind = schema.get("type")
    if kind == "string":
        return 2 * schema["maxLength"] + 2 if "maxLength" in schema else None
    if kind in _SCALARS:
        return _SCALARS[kind]
    if kind == "array":
        item = _longest(schema.get("items", {}), defs, seen)
        if item is None or "maxItems" not in schema:
            return None
        return 2 + schema["maxItems"] * (item + 2)
    if kind == "object":
        properties = schema.get("properties")
        if not properties or schema.get("additionalProperties", False) is not False:
            return None
        values = [_longest(value, defs, seen) for value in properties.values()]
        if None in values:
            return None
        return 2 + sum(len(key) + 6 + (value or 0) for key, value in zip(properties, values, strict=True))
    return None


def fit_schema(schema: dict[str, Any], budget: int) -> dict[str, Any]:
    """``schema`` with its unbounded strings and lists bounded, to fit ``budget`` characters if it can.

    Bounds start at 80 characters per string and 8 items per list and halve until the longest
    value fits (or reach 8 and 1); bounds the schema states are only ever tightened. Objects
    admit no properties besides their own, as the grammar backends decode them anyway.
    """
    string, items = _STRING, _ITEMS
    while True:
        bounded = _bounded(schema, string, items)
        longest = longest_json(bounded)
        if longest is None or longest <= budget or (string <= _FLOOR and items <= 1):
            return bounded
        if string > _FLOOR:
            string = max(_FLOOR, string // 2)
        else:
            items = max(1, items // 2)


def _bounded(schema: dict[str, Any], string: int, items: int) -> dict[str, Any]:
    result = copy.deepcopy(schema)
    _bound(result, string, items)
    for definition in result.get("$defs", {}).values():
        _bound(definition, string, items)
    return result


def _bound(node: Any, string: int, items: int) -> None:
    if isinstance(node, list):
        for child in node:
            _bound(child, string, items)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    if kind == "string" and not {"enum", "const", "pattern", "format"} & node.keys():
        cap = max(string, node.get("minLength", 0))
        node["maxLength"] = min(node.get("maxLength", cap), cap)
    if kind == "array":
        cap = max(items, node.get("minItems", 0))
        node["maxItems"] = min(node.get("maxItems", cap), cap)
    if kind == "object" and node.get("properties") and "additionalProperties" not in node:
        node["additionalProperties"] = False
    for key in ("items", "anyOf", "oneOf", "prefixItems"):
        if key in node:
            _bound(node[key], string, items)
    for value in node.get("properties", {}).values():
        _bound(value, string, items)
