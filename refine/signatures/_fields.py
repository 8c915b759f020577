"""Fields of a signature: a name, a type (with its constraints), a description, citation rules.

A field's identity is its JSON schema, not the Python object of its type, so a signature rebuilt
from JSON equals the original even when its nested models are new classes.
"""

from __future__ import annotations

import functools
import json
import re
import types
import typing
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import annotated_types
import pydantic
import pydantic_core

from refine.errors import SignatureError
from refine.signatures._schema_types import canonical_schema

__all__ = ["Citations", "FieldKind", "FieldSpec", "InputField", "OutputField", "adapter_for", "type_name"]

FieldKind = Literal["input", "output"]


@functools.lru_cache(maxsize=1024)
def _cached_adapter(tp: Any) -> pydantic.TypeAdapter[Any]:
    return pydantic.TypeAdapter(tp)


def adapter_for(tp: Any) -> pydantic.TypeAdapter[Any]:
    """pydantic's TypeAdapter of ``tp``, built once per type: building one costs more than
    validating a value with it, and every reply is validated with the same few."""
    try:
        return _cached_adapter(tp)
    except TypeError:  # an unhashable annotation (a Field with a list default): built each time
        return pydantic.TypeAdapter(tp)


@dataclass(frozen=True, slots=True)
class Citations:
    """An output field must cite the passages of input field ``source``.

    ``per="sentence"``: every sentence carries at least ``min`` citations; ``per="answer"``: the
    field as a whole does. A citation is ``[n]``, the n-th passage of ``source``.
    """

    per: Literal["answer", "sentence"] = "sentence"
    min: int = 1
    source: str = "passages"

    def __post_init__(self) -> None:
        if self.per not in ("answer", "sentence"):
            raise SignatureError(f"Citations(per={self.per!r}) must be 'answer' or 'sentence'")
        if self.min < 1:
            raise SignatureError(f"Citations(min={self.min}) must be >= 1; omit citations=... to not require any")

    def to_json(self) -> dict[str, Any]:
        return {"per": self.per, "min": self.min, "source": self.source}


def type_name(tp: Any) -> str:
    if typing.get_origin(tp) is Annotated:
        return type_name(typing.get_args(tp)[0])
    if typing.get_origin(tp) is Literal:
        return "Literal[" + ", ".join(repr(a) for a in typing.get_args(tp)) + "]"
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(type_name(arg) for arg in typing.get_args(tp))
    if origin is not None:
        args = ", ".join(type_name(arg) for arg in typing.get_args(tp))
        return f"{getattr(origin, '__name__', str(origin))}[{args}]"
    return getattr(tp, "__name__", repr(tp))


def _schema_of(tp: Any, name: str, kind: FieldKind) -> str:
    where = f"{kind} field {name!r} has type {type_name(tp)}"
    problem = type_problem(tp)
    if problem:
        raise SignatureError(f"{where}: {problem}")
    try:
        schema = pydantic.TypeAdapter(tp).json_schema()
    except (pydantic.PydanticSchemaGenerationError, pydantic.PydanticUserError, TypeError) as exc:
        if kind == "input":
            # Inputs are only rendered, never parsed: any Python type will do.
            return json.dumps({"x-python-type": type_name(tp)})
        raise SignatureError(
            f"{where}, which has no JSON schema: {exc}; "
            "use str, int, float, bool, Literal, an Enum, list[...] or a pydantic BaseModel"
        ) from exc
    except (pydantic_core.SchemaError, AssertionError) as exc:
        # What type_problem cannot see: a regex only pydantic's engine refuses (a lookaround), or
        # a broken type inside a dataclass, on which pydantic may assert (Literal[()]).
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        detail = " ".join(lines[1:] if len(lines) > 1 else lines) or type(exc).__name__
        raise SignatureError(
            f"{where}, which pydantic cannot build a schema for: {detail}; fix the type or its constraints"
        ) from exc
    return json.dumps(canonical_schema(schema), sort_keys=True)


# -- what makes a type unusable, whatever form it was written in ---------------------------------
_LENGTHS = ("min_length", "max_length")
_BOUNDS = ("ge", "gt", "le", "lt", "multiple_of")
# Constraints pydantic does not refuse on the wrong type, but drops (a pattern on a list) or
# turns into a schema no backend reads (ge on a str becomes {"ge": ...}).
_APPLIES: dict[Any, tuple[str, ...]] = {
    str: ("pattern", *_LENGTHS),
    int: _BOUNDS,
    float: _BOUNDS,
    list: _LENGTHS,
    tuple: _LENGTHS,
    set: _LENGTHS,
    frozenset: _LENGTHS,
    dict: _LENGTHS,
    bool: (),
}
_KEYS = ("pattern", *_LENGTHS, *_BOUNDS)
_TARGETS = {"pattern": "a str", "min_length": "a str or a collection", "max_length": "a str or a collection"}


def type_problem(tp: Any) -> str | None:
    """Why ``tp`` cannot be a field type, or None. Names the fix; the caller says which field."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is Annotated:
        return _constraint_problem(args[0], _constraints(args[1:])) or type_problem(args[0])
    if origin is Literal:
        return None if args else "Literal[] has no values; list the choices, like Literal['yes', 'no']"
    if origin is list and len(args) != 1:
        return "list takes one type, like list[int]"
    if origin is dict and len(args) != 2:
        return "dict takes a key type and a value type, like dict[str, int]"
    if origin is dict and args[0] is not str:
        return f"dict keys must be str, not {type_name(args[0])}: JSON object keys are strings; use dict[str, ...]"
    return next((p for p in map(type_problem, args) if p), None)


def _constraints(metadata: tuple[Any, ...]) -> dict[str, Any]:
    """The constraints in ``Annotated`` metadata; later ones win, as in pydantic."""
    found: dict[str, Any] = {}
    for item in metadata:
        for part in item.metadata if isinstance(item, pydantic.fields.FieldInfo) else [item]:
            for single in part if isinstance(part, annotated_types.GroupedMetadata) else [part]:
                if isinstance(single, annotated_types.BaseMetadata):
                    found.update((k, v) for k in _KEYS if (v := getattr(single, k, None)) is not None)
    return found


def _constraint_problem(base: Any, found: dict[str, Any]) -> str | None:
    problem = next((p for p in (_value_problem(k, v) for k, v in found.items()) if p), None)
    if problem:
        return problem
    applies = _APPLIES.get(typing.get_origin(base) or base)
    for key in found:
        if applies is not None and key not in applies:
            target = _TARGETS.get(key, "an int or float")
            return f"{key}={found[key]!r} does not apply to {type_name(base)}; it constrains {target}, so remove it"
    for low, high in (("min_length", "max_length"), ("ge", "le"), ("gt", "lt"), ("ge", "lt"), ("gt", "le")):
        lo, hi = found.get(low), found.get(high)
        strict = low == "gt" or high == "lt"  # the bound itself is excluded
        if lo is not None and hi is not None and (lo >= hi if strict else lo > hi):
            op, fix = (">=", "<") if strict else (">", "<=")
            return f"{low}={lo!r} {op} {high}={hi!r}: no value fits; make {low} {fix} {high}"
    return None


def _value_problem(key: str, value: Any) -> str | None:
    if key == "pattern":
        return _pattern_problem(value)
    if key in _LENGTHS:
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        return None if ok else f"{key}={value!r} must be an int >= 0, like {key}=1"
    number = isinstance(value, int | float) and not isinstance(value, bool) and value == value  # not NaN
    if key == "multiple_of":
        return None if number and value > 0 else f"{key}={value!r} must be a number > 0, like {key}=1"
    return None if number else f"{key}={value!r} must be a number, like {key}=0"


def _pattern_problem(pattern: Any) -> str | None:
    """A pattern must compile under Python's ``re``, which the constraint checkers use."""
    text = pattern.pattern if isinstance(pattern, re.Pattern) else pattern
    if not isinstance(text, str):
        return f"pattern={pattern!r} must be a str regular expression, like pattern=r'^[A-Z]{{3}}$'"
    try:
        re.compile(text)
    except re.error as exc:
        return f"pattern={text!r} is not a valid regular expression ({exc}); fix it, like pattern=r'^[A-Z]{{3}}$'"
    return None


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One named input or output of a signature."""

    name: str
    kind: FieldKind
    type: Any = field(default=str, compare=False, hash=False)
    description: str = ""
    citations: Citations | None = None
    extractive: bool = False
    schema: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.name.isidentifier() or self.name.startswith("_"):
            raise SignatureError(f"field name {self.name!r} must be a Python identifier not starting with '_'")
        if self.kind not in ("input", "output"):
            raise SignatureError(f"field kind={self.kind!r} must be 'input' or 'output'")
        if (self.citations or self.extractive) and self.kind != "output":
            raise SignatureError(f"input field {self.name!r} cannot require citations; only outputs cite")
        if (self.citations or self.extractive) and self.base_type is not str:
            raise SignatureError(
                f"field {self.name!r} requires citations but has type {self.type_name}; citations need a str field"
            )
        if self.extractive and self.citations is not None and self.citations.min > 1:
            raise SignatureError(
                f"field {self.name!r} is extractive with Citations(min={self.citations.min}), but a verbatim quote "
                "comes from one passage and cites it once; drop min, or make it a cited field (extractive=False)"
            )
        object.__setattr__(self, "schema", _schema_of(self.type, self.name, self.kind))

    @property
    def label(self) -> str:
        """How the field is named in prompts: ``passages`` -> ``Passages``."""
        return self.name.replace("_", " ").capitalize()

    @property
    def type_name(self) -> str:
        return type_name(self.type)

    @property
    def base_type(self) -> Any:
        """The type without its ``Annotated`` constraints."""
        return typing.get_args(self.type)[0] if typing.get_origin(self.type) is Annotated else self.type

    @property
    def json_schema(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.schema)
        return result

    @property
    def cites(self) -> Citations | None:
        """The citation rule, with extractive fields citing one passage per answer."""
        if self.citations is None and self.extractive:
            return Citations(per="answer")
        return self.citations

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "description": self.description,
            "schema": self.json_schema,
            "citations": self.citations.to_json() if self.citations else None,
            "extractive": self.extractive,
        }

    def __repr__(self) -> str:
        return f"{self.name}: {self.type_name}"


@dataclass(frozen=True, slots=True)
class Declared:
    """What ``InputField()`` / ``OutputField()`` leave in a class body until the class is built."""

    kind: FieldKind
    description: str
    citations: Citations | None = None
    extractive: bool = False
    constraints: tuple[tuple[str, Any], ...] = ()

    def spec(self, name: str, annotation: Any) -> FieldSpec:
        tp = annotation
        if self.constraints:
            tp = Annotated[annotation, pydantic.Field(**dict(self.constraints))]
        return FieldSpec(name, self.kind, tp, self.description, self.citations, self.extractive)


def InputField(*, description: str = "") -> Any:
    """Declare an input field in a class-form signature."""
    return Declared("input", description)


def OutputField(
    *,
    description: str = "",
    citations: Citations | None = None,
    extractive: bool = False,
    min_length: int | None = None,
    max_length: int | None = None,
    pattern: str | None = None,
    ge: float | None = None,
    le: float | None = None,
) -> Any:
    """Declare an output field in a class-form signature.

    ``citations`` requires citations to an input's passages; ``extractive=True`` makes the field a
    verbatim quote of the passage it cites. The other keywords constrain the value as pydantic's
    ``Field`` does (``Annotated[str, Field(...)]`` in the annotation works too).
    """
    given = {"min_length": min_length, "max_length": max_length, "pattern": pattern, "ge": ge, "le": le}
    constraints = tuple((k, v) for k, v in given.items() if v is not None)
    return Declared("output", description, citations, extractive, constraints)
