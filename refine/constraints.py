"""Output constraints as plain frozen data.

A backend either enforces a constraint while decoding or refuses it by name
(:class:`~refine.errors.UnsupportedConstraint`); nothing here knows about any backend.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, TypeAlias

from refine.errors import UsageError

__all__ = ["Choice", "Constraint", "JsonSchema", "Regex", "cited_text_pattern"]


@dataclass(frozen=True, slots=True)
class Regex:
    """The whole reply must match ``pattern`` (a regular expression without lookarounds)."""

    pattern: str

    def __post_init__(self) -> None:
        try:
            re.compile(self.pattern)
        except re.error as exc:
            raise UsageError(f"Regex(pattern={self.pattern!r}) is not a valid regular expression: {exc}") from exc

    def matches(self, text: str) -> bool:
        return re.fullmatch(self.pattern, text, flags=re.DOTALL) is not None


@dataclass(frozen=True, slots=True)
class Choice:
    """The reply must be exactly one of ``options``."""

    options: tuple[str, ...]

    def __post_init__(self) -> None:
        if isinstance(self.options, str) or not self.options:
            raise UsageError(f"Choice(options={self.options!r}) needs a non-empty tuple of strings")
        object.__setattr__(self, "options", tuple(self.options))

    def matches(self, text: str) -> bool:
        return text in self.options


@dataclass(frozen=True, slots=True)
class JsonSchema:
    """The reply must be JSON valid under ``schema`` (kept as canonical JSON text so it is hashable)."""

    schema: str

    @classmethod
    def of(cls, schema: dict[str, Any]) -> JsonSchema:
        return cls(json.dumps(schema, sort_keys=True))

    def __post_init__(self) -> None:
        try:
            parsed = json.loads(self.schema)
        except json.JSONDecodeError as exc:
            raise UsageError(f"JsonSchema(schema={self.schema[:60]!r}) is not JSON: {exc}") from exc
        if not isinstance(parsed, dict):
            raise UsageError(f"JsonSchema(schema={self.schema[:60]!r}) must be a JSON object")

    @property
    def as_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.schema)
        return result

    def matches(self, text: str) -> bool:
        # Full schema validation belongs to the signature layer; here only well-formedness.
        try:
            json.loads(text)
        except json.JSONDecodeError:
            return False
        return True


Constraint: TypeAlias = Regex | Choice | JsonSchema


def cited_text_pattern(n_passages: int, *, max_sentences: int = 3, max_sentence_chars: int = 200) -> str:
    """A regex for prose in which every sentence ends with a citation ``[i]``, 1 <= i <= n_passages.

    Under constrained decoding the model cannot cite a passage it was not given. The length bounds
    keep the longest admissible reply (about 600 characters by default) within a 256-token budget,
    so a reply is never cut off before its last citation.
    """
    if n_passages < 1:
        raise UsageError(f"n_passages={n_passages} must be >= 1: there is nothing to cite")
    if max_sentences < 1:
        raise UsageError(f"max_sentences={max_sentences} must be >= 1")
    if max_sentence_chars < 8:
        raise UsageError(f"max_sentence_chars={max_sentence_chars} must be >= 8")
    numbers = "|".join(str(i) for i in range(n_passages, 0, -1))  # longest first: 10 before 1
    marker = rf"\[(?:{numbers})\]"
    # A sentence has no '.', '!' or '?' of its own (but decimals like 3.14), so the only way for the
    # model to end a sentence is a citation followed by a period.
    char = r"(?:[^\[\]\n.!?]|[0-9]\.[0-9])"
    # The last character before the marker is not a space, so exactly one space precedes it.
    sentence = rf"{char}{{7,{max_sentence_chars - 1}}}[^\s\[\].!?] {marker}(?:{marker})?\."
    return rf"{sentence}(?: {sentence}){{0,{max_sentences - 1}}}"
