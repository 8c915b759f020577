"""Signatures: the typed contract of one LM step, as an immutable value.

Two ways to write one::

    qa = Signature("question, passages -> answer", instructions="Answer from the passages.")

    class QA(Signature, instructions="Answer from the passages."):
        question: str = InputField()
        passages: list[Passage] = InputField(description="numbered sources")
        answer: str = OutputField(description="one or two sentences")

``QA()`` and ``qa`` are equal values. Signatures are hashable, compare by content and never
change: ``with_instructions``, ``append`` and ``remove`` return new ones.
"""

from __future__ import annotations

import ast
import inspect
import json
import typing
from collections.abc import Iterable
from dataclasses import replace
from typing import Any, ClassVar

from corpora import Passage
from refine.errors import SignatureError
from refine.signatures._fields import Citations, Declared, FieldKind, FieldSpec, InputField, OutputField, type_problem
from refine.signatures._schema_types import type_from_schema

__all__ = ["Citations", "FieldKind", "FieldSpec", "InputField", "OutputField", "Signature", "as_signature"]

FORMAT_VERSION = 1

# Names a type in an inline signature may use; anything else is refused by name.
_TYPE_NAMES: dict[str, Any] = {
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    "list": list,
    "dict": dict,
    "Passage": Passage,
}


class Signature:
    """The inputs, outputs and instructions of one LM step."""

    __slots__ = ("_hash", "_inputs", "_instructions", "_outputs")
    _instructions: str
    _inputs: tuple[FieldSpec, ...]
    _outputs: tuple[FieldSpec, ...]
    _hash: int
    _declared: ClassVar[tuple[FieldSpec, ...]] = ()
    _declared_instructions: ClassVar[str] = ""

    def __init__(
        self,
        spec: str | None = None,
        /,
        *,
        instructions: str | None = None,
        fields: Iterable[FieldSpec] | None = None,
    ) -> None:
        if spec is not None and fields is not None:
            raise SignatureError("pass either an inline spec string or fields=..., not both")
        if spec is not None:
            parsed = _parse_inline(spec)
        elif fields is not None:
            parsed = tuple(fields)
        else:
            parsed = type(self)._declared
        if instructions is None:
            instructions = type(self)._declared_instructions
        _check_fields(parsed, spec)
        object.__setattr__(self, "_instructions", instructions.strip())
        object.__setattr__(self, "_inputs", tuple(f for f in parsed if f.kind == "input"))
        object.__setattr__(self, "_outputs", tuple(f for f in parsed if f.kind == "output"))
        # Computed once: a signature keys the caches of prompts and constraints at every call.
        object.__setattr__(self, "_hash", hash(self._key()))

    def __init_subclass__(cls, *, instructions: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._declared = _fields_of_class(cls)
        cls._declared_instructions = instructions

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"Signature is immutable; use with_instructions/append/remove to derive one ({name})")

    # -- reading ---------------------------------------------------------------------------------
    @property
    def instructions(self) -> str:
        return self._instructions

    @property
    def inputs(self) -> tuple[FieldSpec, ...]:
        return self._inputs

    @property
    def outputs(self) -> tuple[FieldSpec, ...]:
        return self._outputs

    @property
    def fields(self) -> tuple[FieldSpec, ...]:
        return self._inputs + self._outputs

    def field(self, name: str) -> FieldSpec:
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise SignatureError(
            f"signature {self} has no field {name!r}; fields: {', '.join(f.name for f in self.fields)}"
        )

    # -- deriving --------------------------------------------------------------------------------
    def with_instructions(self, instructions: str) -> Signature:
        return Signature(instructions=instructions, fields=self.fields)

    def append(self, name: str, kind: FieldKind, type: Any = str, *, description: str = "") -> Signature:
        return Signature(
            instructions=self.instructions, fields=(*self.fields, FieldSpec(name, kind, type, description))
        )

    def remove(self, name: str) -> Signature:
        self.field(name)  # raises with the list of fields when absent
        return Signature(instructions=self.instructions, fields=tuple(f for f in self.fields if f.name != name))

    def with_field(self, name: str, **changes: Any) -> Signature:
        """A copy where field ``name`` has ``changes`` (e.g. ``description=...``) applied."""
        self.field(name)
        return Signature(
            instructions=self.instructions,
            fields=tuple(replace(f, **changes) if f.name == name else f for f in self.fields),
        )

    # -- JSON ------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "refine-signature",
            "version": FORMAT_VERSION,
            "instructions": self.instructions,
            "fields": [f.to_json() for f in self.fields],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, data: str | dict[str, Any]) -> Signature:
        """Inverse of :meth:`to_json`; nested models come back as new classes with equal schemas."""
        try:
            raw = json.loads(data) if isinstance(data, str) else data
            if raw.get("format") != "refine-signature" or raw.get("version") != FORMAT_VERSION:
                raise SignatureError(
                    f"not a refine signature (format={raw.get('format')!r}, version={raw.get('version')!r}); "
                    f"expected format='refine-signature', version={FORMAT_VERSION}"
                )
            fields = tuple(
                FieldSpec(
                    f["name"],
                    f["kind"],
                    type_from_schema(f["schema"]),
                    f.get("description", ""),
                    Citations(**f["citations"]) if f.get("citations") else None,
                    bool(f.get("extractive", False)),
                )
                for f in raw["fields"]
            )
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise SignatureError(f"cannot read a signature from {str(data)[:80]!r}: {exc!r}") from exc
        return Signature(instructions=raw.get("instructions", ""), fields=fields)

    # -- value semantics -------------------------------------------------------------------------
    def _key(self) -> tuple[Any, ...]:
        return (self._instructions, self._inputs, self._outputs)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Signature) and self._key() == other._key()

    def __hash__(self) -> int:
        return self._hash

    def __str__(self) -> str:
        return f"{', '.join(map(repr, self.inputs))} -> {', '.join(map(repr, self.outputs))}"

    def __repr__(self) -> str:
        text = f"Signature({str(self)!r}"
        return text + (f", instructions={self.instructions!r})" if self.instructions else ")")


def as_signature(value: str | Signature | type[Signature]) -> Signature:
    """Accept the three ways users write a signature."""
    if isinstance(value, Signature):
        return value
    if isinstance(value, str):
        return Signature(value)
    if isinstance(value, type) and issubclass(value, Signature):
        return value()
    raise SignatureError(
        f"{value!r} is not a signature; pass a string like 'question -> answer', "
        "a Signature, or a subclass of Signature"
    )


# -- building ------------------------------------------------------------------------------------
def _parse_inline(spec: str) -> tuple[FieldSpec, ...]:
    if not isinstance(spec, str) or spec.count("->") != 1:
        raise SignatureError(
            f"signature {spec!r} must have exactly one '->' between inputs and outputs, "
            "like 'question, passages -> answer'"
        )
    left, right = spec.split("->")
    inputs = _parse_side(left, "input", spec)
    outputs = _parse_side(right, "output", spec)
    if not outputs:
        raise SignatureError(f"signature {spec!r} has no output field; name one after '->'")
    return inputs + outputs


def _parse_side(text: str, kind: FieldKind, spec: str) -> tuple[FieldSpec, ...]:
    if not text.strip():
        return ()
    fields = []
    for part in _split_top_level(text):
        name, _, type_text = part.partition(":")
        name = name.strip()
        if not name:
            raise SignatureError(f"signature {spec!r} has an empty field name; remove the stray comma")
        field_type = _resolve_type(type_text.strip(), spec) if type_text.strip() else str
        fields.append(FieldSpec(name, kind, field_type))
    return tuple(fields)


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside brackets: ``a: dict[str, int], b``."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        depth += char == "["
        depth -= char == "]"
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _resolve_type(text: str, spec: str) -> Any:
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError as exc:
        raise SignatureError(f"type {text!r} in signature {spec!r} is not valid: {exc.msg}") from exc
    return _eval_type(tree, text, spec)


def _eval_type(node: ast.expr, text: str, spec: str) -> Any:
    if isinstance(node, ast.Name) and node.id in _TYPE_NAMES:
        return _TYPE_NAMES[node.id]
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id in ("list", "dict"):
        args = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        resolved = tuple(_eval_type(arg, text, spec) for arg in args)
        origin = _TYPE_NAMES[node.value.id]
        alias = origin[resolved[0]] if len(resolved) == 1 else origin[resolved]
        # list[int, str] is a valid alias at run time, read by pydantic as list[int]: refuse it here,
        # where the text the user wrote can be quoted, by the rule every field type obeys.
        problem = type_problem(alias)
        if problem:
            raise SignatureError(f"type {text!r} in signature {spec!r}: {problem}")
        return alias
    raise SignatureError(
        f"type {text!r} in signature {spec!r} is not supported inline; use one of "
        f"{', '.join(_TYPE_NAMES)} (and list[...], dict[...]), or the class form for other types"
    )


def _fields_of_class(cls: type) -> tuple[FieldSpec, ...]:
    hints = typing.get_type_hints(cls, localns={"Passage": Passage}, include_extras=True)
    fields = []
    for name in inspect.get_annotations(cls):
        declared = cls.__dict__.get(name)
        if not isinstance(declared, Declared):
            raise SignatureError(
                f"{cls.__name__}.{name} must be declared with InputField() or OutputField(), "
                f"like `{name}: str = OutputField()`"
            )
        fields.append(declared.spec(name, hints[name]))
        delattr(cls, name)
    parent: tuple[FieldSpec, ...] = next((b._declared for b in cls.__mro__[1:] if issubclass(b, Signature)), ())
    return parent + tuple(fields)


def _check_fields(fields: tuple[FieldSpec, ...], spec: str | None) -> None:
    seen: set[str] = set()
    for field_spec in fields:
        if field_spec.name in seen:
            where = f" in {spec!r}" if spec else ""
            raise SignatureError(f"field {field_spec.name!r} appears twice{where}; field names must be unique")
        seen.add(field_spec.name)
