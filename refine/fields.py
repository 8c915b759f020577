"""Fields of a signature: a name, a type (with its constraints), a description, citation rules.

A field's identity is its JSON schema, not the Python object of its type, so a signature rebuilt
from JSON equals the original even when its nested models are new classes.
"""

from __future__ import annotations

import json
import typing
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import pydantic

from refine.errors import SignatureError

__all__ = ["Citations", "FieldKind", "FieldSpec", "InputField", "OutputField", "type_name"]

FieldKind = Literal["input", "output"]


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
    if origin is not None:
        args = ", ".join(type_name(arg) for arg in typing.get_args(tp))
        return f"{getattr(origin, '__name__', str(origin))}[{args}]"
    return getattr(tp, "__name__", repr(tp))


def _schema_of(tp: Any, name: str, kind: FieldKind) -> str:
    try:
        schema = pydantic.TypeAdapter(tp).json_schema()
    except (pydantic.PydanticSchemaGenerationError, pydantic.PydanticUserError, TypeError) as exc:
        if kind == "input":
            # Inputs are only rendered, never parsed: any Python type will do.
            return json.dumps({"x-python-type": type_name(tp)})
        raise SignatureError(
            f"output field {name!r} has type {type_name(tp)}, which has no JSON schema: {exc}; "
            "use str, int, float, bool, Literal, an Enum, list[...] or a pydantic BaseModel"
        ) from exc
    return json.dumps(_canonical(schema), sort_keys=True)


def _canonical(schema: Any) -> Any:
    """Key order and the order of ``required`` carry no meaning; fix both so equal schemas compare equal."""
    if isinstance(schema, dict):
        return {k: sorted(v) if k == "required" else _canonical(v) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_canonical(v) for v in schema]
    return schema


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
