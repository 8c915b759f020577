"""The unit of retrieval and citation."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from corpora._text import encoding_problem
from corpora.errors import CorpusError

__all__ = ["Passage", "stable_id"]


def stable_id(title: str, text: str, *, prefix: str = "p") -> str:
    """A short id that depends only on the content, so it survives reloading and reordering."""
    # surrogatepass: text that is not UTF-8 still gets an id, and Passage then says what is wrong with it.
    digest = hashlib.blake2b(f"{title}\x1f{text}".encode("utf-8", "surrogatepass"), digest_size=6).hexdigest()
    return f"{prefix}{digest}"


def _freeze(metadata: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if metadata is None:
        return MappingProxyType({})
    try:
        # A JSON round trip both checks that the metadata can be saved and detaches it from the caller.
        copy = json.loads(json.dumps(dict(metadata)))
    except (TypeError, ValueError) as exc:
        raise CorpusError(
            f"passage metadata must be JSON-serialisable, got {metadata!r}: {exc}; "
            "convert values to str, int, float, bool, list or dict"
        ) from exc
    return MappingProxyType(copy)


@dataclass(frozen=True, slots=True)
class Passage:
    """A piece of text that can be retrieved and cited.

    ``id`` is stable across runs (see :func:`stable_id`); ``metadata`` is read-only and JSON-serialisable.
    Equality and hashing use ``id``, ``title`` and ``text``.
    """

    id: str
    title: str
    text: str
    metadata: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("id", "title", "text"):
            value = getattr(self, name)
            if not isinstance(value, str):
                raise CorpusError(f"Passage {name}={value!r} must be a str")
            if problem := encoding_problem(value):
                raise CorpusError(f"Passage {name}={value[:60]!r} holds {problem}; pass text decoded from UTF-8")
        if not self.id:
            raise CorpusError("Passage id='' must be non-empty; use corpora.stable_id(title, text)")
        object.__setattr__(self, "metadata", _freeze(self.metadata))

    @classmethod
    def create(
        cls, title: str, text: str, *, id: str | None = None, metadata: Mapping[str, Any] | None = None
    ) -> Passage:
        """A passage whose id, when not given, is derived from its content."""
        return cls(id=id or stable_id(title, text), title=title, text=text, metadata=metadata or {})

    def with_text(self, text: str) -> Passage:
        return replace(self, text=text)

    def with_metadata(self, **updates: Any) -> Passage:
        return replace(self, metadata={**self.metadata, **updates})

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "text": self.text, "metadata": dict(self.metadata)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Passage:
        """Inverse of :meth:`to_dict`; ``id`` and ``metadata`` are optional."""
        if not isinstance(data, Mapping) or "text" not in data:
            raise CorpusError(f"a passage needs at least a 'text' key, got {data!r}")
        title = str(data.get("title", ""))
        text = str(data["text"])
        return cls.create(title, text, id=data.get("id") and str(data["id"]), metadata=data.get("metadata") or {})

    def __repr__(self) -> str:
        snippet = self.text if len(self.text) <= 40 else self.text[:37] + "..."
        return f"Passage(id={self.id!r}, title={self.title!r}, text={snippet!r})"
