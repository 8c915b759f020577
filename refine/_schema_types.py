"""JSON schema -> Python type, for the subset of types a signature field may have.

The inverse of ``pydantic.TypeAdapter(tp).json_schema()`` up to equality of schemas, which is
what makes a signature survive a JSON round trip.
"""

from __future__ import annotations

import enum
from typing import Annotated, Any, Literal, Optional, Union

import pydantic

from corpora import Passage
from refine.errors import SignatureError

__all__ = ["OpaqueType", "type_from_schema"]

_SCALARS: dict[str, Any] = {"string": str, "integer": int, "number": float, "boolean": bool, "null": type(None)}
_CONSTRAINTS = {
    "minLength": "min_length",
    "maxLength": "max_length",
    "pattern": "pattern",
    "minimum": "ge",
    "maximum": "le",
    "exclusiveMinimum": "gt",
    "exclusiveMaximum": "lt",
    "minItems": "min_length",
    "maxItems": "max_length",
}


class OpaqueType:
    """Stands for an input type that has no JSON schema; only its name survives serialisation."""

    def __init__(self, name: str) -> None:
        self.__name__ = name

    def __repr__(self) -> str:
        return self.__name__


def type_from_schema(schema: dict[str, Any]) -> Any:
    return _Builder(schema.get("$defs", {})).build(schema)


class _Builder:
    def __init__(self, defs: dict[str, Any]) -> None:
        self.defs = defs
        self.built: dict[str, Any] = {}

    def build(self, schema: dict[str, Any]) -> Any:
        base = self._base(schema)
        constraints = {_CONSTRAINTS[k]: v for k, v in schema.items() if k in _CONSTRAINTS}
        return Annotated[base, pydantic.Field(**constraints)] if constraints else base

    def _base(self, schema: dict[str, Any]) -> Any:
        if "x-python-type" in schema:
            return OpaqueType(schema["x-python-type"])
        if "$ref" in schema:
            return self._ref(schema["$ref"].rsplit("/", 1)[-1])
        if "enum" in schema:
            values = tuple(schema["enum"])
            if "title" in schema:
                mixin = str if schema.get("type") == "string" else object
                return enum.Enum(schema["title"], {str(v): v for v in values}, type=mixin)  # type: ignore[misc]
            return Literal[values]
        if "const" in schema:
            return Literal[schema["const"]]
        if "anyOf" in schema:
            options = tuple(self.build(option) for option in schema["anyOf"])
            return Union[options]  # noqa: UP007 - built from a tuple at run time
        kind = schema.get("type")
        if kind in _SCALARS:
            return _SCALARS[kind]
        if kind == "array":
            return list[self.build(schema.get("items", {}))]  # type: ignore[misc]
        if kind == "object":
            if "properties" in schema:
                return self._model(schema.get("title", "Model"), schema)
            extra = schema.get("additionalProperties", True)
            return dict[str, self.build(extra) if isinstance(extra, dict) else Any]  # type: ignore[misc]
        if not schema:
            return Any
        raise SignatureError(f"cannot rebuild a type from JSON schema {schema!r}; it is outside what signatures use")

    def _ref(self, name: str) -> Any:
        if name not in self.built:
            definition = self.defs.get(name)
            if definition is None:
                raise SignatureError(f"JSON schema refers to '#/$defs/{name}', which it does not define")
            if name == "Passage" and set(definition.get("properties", {})) == {"id", "title", "text", "metadata"}:
                self.built[name] = Passage
            else:
                self.built[name] = self._base(definition)
        return self.built[name]

    def _model(self, title: str, schema: dict[str, Any]) -> Any:
        required = set(schema.get("required", ()))
        fields: dict[str, Any] = {}
        for name, prop in schema["properties"].items():
            tp = self.build(prop)
            info: dict[str, Any] = {}
            if "description" in prop:
                info["description"] = prop["description"]
            if name not in required:
                info["default"] = prop.get("default")
                if "default" not in prop:
                    tp = Optional[tp]  # noqa: UP045
            fields[name] = (tp, pydantic.Field(**info))
        model = pydantic.create_model(title, __doc__=schema.get("description"), **fields)
        return model
