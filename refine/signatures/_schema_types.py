"""JSON schema -> Python type, for the subset of types a signature field may have.

The inverse of ``pydantic.TypeAdapter(tp).json_schema()`` up to equality of schemas, which is
what makes a signature survive a JSON round trip.
"""

from __future__ import annotations

import enum
import typing
from typing import Annotated, Any, Literal, Union

import pydantic

from corpora import Passage
from refine.errors import SignatureError

__all__ = ["OpaqueType", "canonical_schema", "type_from_schema"]

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
    "minProperties": "min_length",
    "maxProperties": "max_length",
    "multipleOf": "multiple_of",
}
_FIELD_KEYS = ("title", "description", "default")
_PROTECTED = ("model_dump", "model_validate")  # pydantic's protected namespaces for field names
_FORWARD = "refine_ref_"  # forward references to models being built, clear of any name in scope
# Keys whose value is a map of names to schemas; under them a name like "required" is not a keyword.
_SCHEMA_MAPS = ("properties", "$defs", "patternProperties")
# Keys whose value is data, not schema: left exactly as written.
_DATA = ("default", "const", "enum", "examples")


class OpaqueType:
    """Stands for an input type that has no JSON schema; only its name survives serialisation."""

    def __init__(self, name: str) -> None:
        self.__name__ = name

    def __repr__(self) -> str:
        return self.__name__


def type_from_schema(schema: dict[str, Any]) -> Any:
    builder = _Builder(schema.get("$defs", {}))
    tp = builder.build(schema)
    builder.resolve()
    return tp


def canonical_schema(schema: Any) -> Any:
    """Key order and the order of ``required`` carry no meaning; fix both so equal schemas compare equal."""
    if isinstance(schema, list):
        return [canonical_schema(v) for v in schema]
    if not isinstance(schema, dict):
        return schema
    result: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            result[key] = {name: canonical_schema(sub) for name, sub in value.items()}
        elif key == "required" and isinstance(value, list):
            result[key] = sorted(value)
        elif key in _DATA:
            result[key] = value
        else:
            result[key] = canonical_schema(value)
    return result


def _is_definition(schema: dict[str, Any]) -> bool:
    """A model or an enum, as pydantic writes one in "$defs" (or at the top, for a bare one)."""
    return "properties" in schema or ("enum" in schema and "title" in schema)


def _is_passage(schema: dict[str, Any]) -> bool:
    """Passage is a dataclass of corpora, not a model to rebuild: know it by its title and fields."""
    return schema.get("title") == "Passage" and set(schema.get("properties", {})) == {"id", "title", "text", "metadata"}


class _Builder:
    def __init__(self, defs: dict[str, Any]) -> None:
        self.defs = defs
        self.built: dict[str, Any] = {}
        self.building: set[str] = set()

    def build(self, schema: dict[str, Any]) -> Any:
        base = self._base(schema)
        metadata = {_CONSTRAINTS[k]: v for k, v in schema.items() if k in _CONSTRAINTS}
        # A model's or an enum's description is its docstring; on any other node it came from
        # Annotated[..., Field(description=...)].
        if "description" in schema and not _is_definition(schema):
            metadata["description"] = schema["description"]
        return Annotated[base, pydantic.Field(**metadata)] if metadata else base

    def _base(self, schema: dict[str, Any]) -> Any:
        if "x-python-type" in schema:
            return OpaqueType(schema["x-python-type"])
        if _is_passage(schema):  # both a bare Passage field and list[Passage]'s "$defs" entry
            return Passage
        if "$ref" in schema:
            return self._ref(schema["$ref"].rsplit("/", 1)[-1])
        if "enum" in schema:
            values = tuple(schema["enum"])
            if "title" in schema:
                return _enum(schema, values)
            return Literal[values]
        if "const" in schema:
            return Literal[schema["const"]]
        if "anyOf" in schema:
            return _union(tuple(self.build(option) for option in schema["anyOf"]))
        kind = schema.get("type")
        if kind in _SCALARS:
            return _SCALARS[kind]
        if kind == "array":
            if "prefixItems" in schema:
                return tuple[tuple(self.build(item) for item in schema["prefixItems"])]  # type: ignore[misc]
            item = self.build(schema.get("items", {}))
            return set[item] if schema.get("uniqueItems") else list[item]  # type: ignore[valid-type]
        if kind == "object":
            if "properties" in schema:
                return self._model(schema.get("title", "Model"), schema)  # a bare model: no "$defs" key
            extra = schema.get("additionalProperties", True)
            return dict[str, self.build(extra) if isinstance(extra, dict) else Any]  # type: ignore[misc]
        if not schema:
            return Any
        raise SignatureError(f"cannot rebuild a type from JSON schema {schema!r}; it is outside what signatures use")

    def _ref(self, name: str) -> Any:
        if name in self.built:
            return self.built[name]
        if name in self.building:
            # A model that contains itself (a tree): name it now, resolve it once it is built.
            return typing.ForwardRef(_FORWARD + name)
        definition = self.defs.get(name)
        if definition is None:
            raise SignatureError(f"JSON schema refers to '#/$defs/{name}', which it does not define")
        self.building.add(name)
        if _is_passage(definition) or "properties" not in definition:
            built = self._base(definition)  # a Passage is corpora's dataclass, not a model to rebuild
        else:
            built = self._model(name, definition)
        self.building.discard(name)
        self.built[name] = built
        return built

    def resolve(self) -> None:
        """Complete the models that refer to themselves or to a model built after them."""
        namespace = {_FORWARD + name: tp for name, tp in self.built.items()}
        for tp in self.built.values():
            if isinstance(tp, type) and issubclass(tp, pydantic.BaseModel) and not tp.__pydantic_complete__:
                tp.model_rebuild(_types_namespace=namespace)

    def _model(self, name: str, schema: dict[str, Any]) -> Any:
        """A pydantic model named ``name`` (its "$defs" key) with the schema's title and fields."""
        required = set(schema.get("required", ()))
        fields: dict[str, Any] = {}
        for i, (key, prop) in enumerate(schema["properties"].items()):
            # title, description and default describe the model's field, not its type: a Literal
            # field's {"enum": [...], "title": "Mood"} is no Enum named Mood.
            tp = self.build({k: v for k, v in prop.items() if k not in _FIELD_KEYS})
            info: dict[str, Any] = {k: prop[k] for k in ("title", "description") if k in prop}
            if "default" in prop:
                info["default"] = prop["default"]
            elif key not in required:
                # Optional with no default shown: the original had a default_factory. A factory
                # keeps the schema as it was (a default of None would add "default": null).
                info["default_factory"] = _none
            attribute = key
            if key.startswith("_") or hasattr(pydantic.BaseModel, key) or key.startswith(_PROTECTED):
                # pydantic makes "_x" private and warns on "json" or "model_dump_x": alias them.
                attribute, info["alias"] = f"field_{i}", key
            fields[attribute] = (tp, pydantic.Field(**info))
        config = pydantic.ConfigDict()
        extra = schema.get("additionalProperties")
        if isinstance(extra, bool):
            config["extra"] = "allow" if extra else "forbid"
        # A class name cannot hold every title (a "\x00", a space): the title keeps it.
        class_name = name if name.isidentifier() else "Model"
        title = schema.get("title", name)
        if title != class_name:
            config["title"] = title
        return pydantic.create_model(class_name, __doc__=schema.get("description"), __config__=config, **fields)


def _union(options: tuple[Any, ...]) -> Any:
    """``Union[options]``, not taken from typing's cache.

    The cache finds an earlier union by equality, and ``Literal[True, False] == Literal[False, True]``:
    ``Union[Literal[True, False], None]`` could come back holding ``Literal[False, True]``, whose
    schema lists the values the other way round.
    """
    uncached = getattr(Union, "_getitem", None)  # a _SpecialForm's uncached getter (Python 3.11-3.13)
    return uncached(Union, options) if uncached is not None else Union[options]  # noqa: UP007


def _none() -> None:
    return None


def _enum(schema: dict[str, Any], values: tuple[Any, ...]) -> Any:
    """An Enum with ``values``, its members named after them when Python allows.

    Names do not reach the schema, so ``'mro'`` (reserved), ``'_x'`` (not a member) or ``'a b'``
    members are named ``value_0``, ``value_1``... instead.
    """
    mixin = str if schema.get("type") == "string" else None  # type=object fails: no MRO for (object, Enum)

    def make(names: list[str]) -> Any:
        made = enum.Enum(schema["title"], dict(zip(names, values, strict=True)), type=mixin)  # type: ignore[misc]
        made.__doc__ = schema.get("description")
        return made

    natural = [str(v) for v in values]
    numbered = [f"value_{i}" for i in range(len(values))]
    if any(not n.isidentifier() or n.startswith("_") for n in natural) or len(set(natural)) < len(natural):
        return make(numbered)
    try:
        return make(natural)
    except ValueError:  # a reserved name, like 'mro'
        return make(numbered)
