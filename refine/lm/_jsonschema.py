"""Whether a JSON value is one a JSON-schema grammar admits: what the scripted LM holds replies to.

A backend that enforces a :class:`~refine.constraints.JsonSchema` decodes under a grammar built
from it, so no reply it returns breaks the schema. :class:`refine.ScriptedLM` cannot steer
decoding, so it checks each scripted reply with :func:`schema_problem` instead, and a test
whose script breaks the schema fails there, as it could not happen on a real backend.

The keywords checked are those a grammar enforces and refine's schemas use: ``type``,
``enum``, ``const``, ``properties``, ``required``, ``additionalProperties``, ``items``,
``minItems``, ``maxItems``, ``minLength``, ``maxLength``, ``pattern``, ``minimum``,
``maximum``, ``anyOf``, ``allOf`` and local ``$ref``. Others (``format``, ``title``, ...)
are not checked, as grammar converters skip them too. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["schema_problem"]

_TYPES: Mapping[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


def _is_type(value: Any, name: str) -> bool:
    if name in ("integer", "number") and isinstance(value, bool):
        return False
    if name == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, _TYPES.get(name, (object,)))


def _same(value: Any, option: Any) -> bool:
    """JSON equality: 1 == 1.0, but true is not 1."""
    return bool(value == option) and isinstance(value, bool) == isinstance(option, bool)


def _resolve(ref: str, root: Mapping[str, Any]) -> Mapping[str, Any]:
    node: Any = root
    for part in ref.removeprefix("#/").split("/"):
        node = node.get(part, {}) if isinstance(node, Mapping) else {}
    return node if isinstance(node, Mapping) else {}


def schema_problem(schema: Mapping[str, Any], value: Any, *, root: Mapping[str, Any] | None = None) -> str | None:
    """What about ``value`` breaks ``schema`` (with the path to it), or None when it is admitted."""
    return _problem(schema, value, root if root is not None else schema, "$")


def _problem(schema: Mapping[str, Any], value: Any, root: Mapping[str, Any], at: str) -> str | None:
    if "$ref" in schema:
        found = _problem(_resolve(str(schema["$ref"]), root), value, root, at)
        if found:
            return found
    types = schema.get("type")
    if types is not None:
        names = [types] if isinstance(types, str) else list(types)
        if not any(_is_type(value, name) for name in names):
            return f"{at} is {value!r:.60}, not of type {types}"
    if "enum" in schema and not any(_same(value, option) for option in schema["enum"]):
        return f"{at} is {value!r:.60}, not one of {schema['enum']!r:.80}"
    if "const" in schema and value != schema["const"]:
        return f"{at} is {value!r:.60}, not {schema['const']!r}"
    for key in ("anyOf", "oneOf"):
        if key in schema and all(_problem(s, value, root, at) for s in schema[key]):
            return f"{at} is {value!r:.60}, which matches none of its {key} alternatives"
    for sub in schema.get("allOf", ()):
        if found := _problem(sub, value, root, at):
            return found
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0) or len(value) > schema.get("maxLength", len(value)):
            return f"{at} has {len(value)} characters, outside minLength/maxLength"
        if "pattern" in schema and re.search(schema["pattern"], value) is None:
            return f"{at} is {value!r:.60}, which does not match the pattern {schema['pattern']!r:.60}"
    low, high = schema.get("minimum"), schema.get("maximum")
    if _is_type(value, "number") and ((low is not None and value < low) or (high is not None and value > high)):
        return f"{at} is {value}, outside minimum={low}/maximum={high}"
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0) or len(value) > schema.get("maxItems", len(value)):
            return f"{at} has {len(value)} items, outside minItems/maxItems"
        items = schema.get("items")
        if isinstance(items, Mapping):
            for i, item in enumerate(value):
                if found := _problem(items, item, root, f"{at}[{i}]"):
                    return found
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        missing = [key for key in schema.get("required", ()) if key not in value]
        if missing:
            return f"{at} lacks the key {missing[0]!r}"
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in properties:
                sub = properties[key]
            elif extra is False:
                return f"{at} has the key {key!r}, which the schema does not allow"
            else:
                sub = extra if isinstance(extra, Mapping) else {}
            if found := _problem(sub, item, root, f"{at}.{key}"):
                return found
    return None
