"""Examples: the rows a program is evaluated (and later optimised) on.

An :class:`Example` holds values by name, says which of them are the program's *inputs* (the
rest are *labels*: gold answers, gold passage ids) and carries an ``id`` that names it in an
evaluation's rows::

    >>> example = Example(question="Capital of France?", answers=["Paris"], id="q1").with_inputs("question")
    >>> example.question, example["answers"], dict(example.inputs)
    ('Capital of France?', ('Paris',), {'question': 'Capital of France?'})
    >>> example
    Example(id='q1', question='Capital of France?', answers=('Paris',)).with_inputs('question')

Values are frozen as they come in (lists become tuples, dicts read-only mappings, sets
frozensets, recursively), so an example cannot change under a running evaluation, and its hash
agrees with its equality (``1`` and ``1.0`` hash alike, as they compare alike).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

from refine.errors import UsageError
from refine.history import frozen_key

__all__ = ["Example", "freeze"]

_REPR_WIDTH = 80


def freeze(value: Any) -> Any:
    """``value`` made immutable: lists and tuples become tuples, dicts read-only mappings and sets
    frozensets, recursively; anything else is kept as it is."""
    if isinstance(value, Mapping):
        return MappingProxyType({key: freeze(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(item) for item in value)
    if isinstance(value, set | frozenset):
        return frozenset(freeze(item) for item in value)
    return value


def _thaw(value: Any) -> Any:
    """The inverse of :func:`freeze` for read-only mappings, which cannot be pickled."""
    if isinstance(value, Mapping):
        return {key: _thaw(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return tuple(_thaw(item) for item in value)
    return value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _REPR_WIDTH else f"{text[: _REPR_WIDTH - 3]}..."


class Example:
    """Named values, of which ``with_inputs(...)`` names the inputs; the rest are labels.

    ``id`` names the example in evaluation rows and resumed runs; loaders always give one.
    :func:`refine.evaluate` refuses an example without an id (it invents none, since an id made
    up from a row's position would silently pair the wrong rows when a file is resumed).
    """

    __slots__ = ("_id", "_inputs", "_values")
    # Names that attribute access already answers; a value of that name would be unreachable as one.
    RESERVED = frozenset(
        {"id", "inputs", "input_keys", "labels", "keys", "get", "from_dict", "to_dict", "with_inputs", "with_id"}
        | {"with_values", "RESERVED"}
    )

    _id: str | None
    _inputs: tuple[str, ...]
    _values: Mapping[str, Any]

    def __init__(self, *, id: str | None = None, **values: Any) -> None:
        if id is not None and (not isinstance(id, str) or not id.strip()):
            raise UsageError(f"Example id={id!r} must be a non-empty str, e.g. id='q1' (or leave it out)")
        for key in values:
            if key in self.RESERVED or key.startswith("_"):
                raise UsageError(
                    f"Example value {key!r} clashes with Example.{key}; rename it (e.g. {key.strip('_')}_value=...)"
                )
        object.__setattr__(self, "_id", id)
        object.__setattr__(self, "_inputs", ())
        object.__setattr__(self, "_values", MappingProxyType({key: freeze(item) for key, item in values.items()}))

    @classmethod
    def from_dict(cls, values: Mapping[str, Any], *, id: str | None = None, inputs: tuple[str, ...] = ()) -> Example:
        """An example from a mapping (whose keys need not be identifiers), with ``inputs`` named."""
        if "id" in values:
            raise UsageError(
                f"Example value 'id'={values['id']!r} clashes with Example.id; pass it as the id (id=...) or rename it"
            )
        example = cls(id=id, **dict(values))
        return example.with_inputs(*inputs) if inputs else example

    def _replace(self, *, id: str | None, inputs: tuple[str, ...], values: Mapping[str, Any]) -> Example:
        new = Example.__new__(Example)
        object.__setattr__(new, "_id", id)
        object.__setattr__(new, "_inputs", inputs)
        object.__setattr__(new, "_values", values)
        return new

    @property
    def id(self) -> str | None:
        return self._id

    @property
    def inputs(self) -> Mapping[str, Any]:
        """The values the program is called with, in the order :meth:`with_inputs` named them."""
        return MappingProxyType({key: self._values[key] for key in self._inputs})

    @property
    def labels(self) -> Mapping[str, Any]:
        """Every value that is not an input: gold answers, gold passage ids, anything else."""
        return MappingProxyType({k: v for k, v in self._values.items() if k not in self._inputs})

    @property
    def input_keys(self) -> tuple[str, ...]:
        return self._inputs

    def with_inputs(self, *keys: str) -> Example:
        """The same example with ``keys`` (and only those) as its inputs."""
        missing = [key for key in keys if key not in self._values]
        if missing:
            raise UsageError(
                f"with_inputs({', '.join(map(repr, keys))}): {', '.join(map(repr, missing))} not among the "
                f"example's values ({', '.join(map(repr, self._values)) or 'none'}); name keys it has"
            )
        if len(set(keys)) != len(keys):
            raise UsageError(f"with_inputs({', '.join(map(repr, keys))}) names a key twice; name each once")
        return self._replace(id=self._id, inputs=tuple(keys), values=self._values)

    def with_id(self, id: str) -> Example:
        if not isinstance(id, str) or not id.strip():
            raise UsageError(f"with_id({id!r}): an id must be a non-empty str, e.g. with_id('q1')")
        return self._replace(id=id, inputs=self._inputs, values=self._values)

    def with_values(self, **values: Any) -> Example:
        """The same example with ``values`` added or replaced; its inputs stay the same keys."""
        merged = Example(id=self._id, **{**self._values, **values})
        return self._replace(id=self._id, inputs=self._inputs, values=merged._values)

    def keys(self) -> tuple[str, ...]:
        return tuple(self._values)

    def get(self, key: str, default: Any = None) -> Any:
        return self._values.get(key, default)

    def to_dict(self) -> dict[str, Any]:
        """The values as a plain dict (frozen containers stay as they are)."""
        return dict(self._values)

    def __getitem__(self, key: str) -> Any:
        try:
            return self._values[key]
        except KeyError:
            raise KeyError(f"example {self._id!r} has no value {key!r}; it has {', '.join(self._values)}") from None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # copy and pickle probe for these before __init__ ran
            raise AttributeError(name)
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(
                f"example {self._id!r} has no value {name!r}; it has {', '.join(self._values) or 'none'}"
            ) from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"Example is immutable; use example.with_values({name}=...) for a changed copy")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Example is immutable")

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Example):
            return NotImplemented
        return (
            self._id == other._id
            and set(self._inputs) == set(other._inputs)
            and dict(self._values) == dict(other._values)
        )

    def __hash__(self) -> int:
        return hash((self._id, frozenset(self._inputs), frozen_key(self._values)))

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self._id, self._inputs, _thaw(self._values)))

    def __repr__(self) -> str:
        parts = ([f"id={self._id!r}"] if self._id is not None else []) + [
            f"{key}={_short(value)}" if key.isidentifier() else f"**{{{key!r}: {_short(value)}}}"
            for key, value in self._values.items()
        ]
        inputs = f".with_inputs({', '.join(map(repr, self._inputs))})" if self._inputs else ""
        return f"Example({', '.join(parts)}){inputs}"


def _rebuild(id: str | None, inputs: tuple[str, ...], values: dict[str, Any]) -> Example:
    return Example.from_dict(values, id=id, inputs=inputs)
