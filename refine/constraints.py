"""Output constraints as plain frozen data.

A backend either enforces a constraint while decoding or refuses it by name
(:class:`~refine.errors.UnsupportedConstraint`); nothing here knows about any backend. Each
constraint can also check a finished reply (``matches``), which is how unconstrained backends and
the scripted test backend are held to the same contract.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeAlias

from refine.errors import UsageError

__all__ = [
    "Choice",
    "Constraint",
    "JsonSchema",
    "OneOf",
    "Quote",
    "Regex",
    "Seq",
    "Substring",
    "cited_text_pattern",
    "constraint_kinds",
    "quote_chunks",
]


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, flags=re.DOTALL)


@dataclass(frozen=True, slots=True)
class Regex:
    """The reply must match ``pattern`` (a regular expression without lookarounds or anchors)."""

    pattern: str

    def __post_init__(self) -> None:
        try:
            _compiled(self.pattern)
        except re.error as exc:
            raise UsageError(f"Regex(pattern={self.pattern!r}) is not a valid regular expression: {exc}") from exc

    def matches(self, text: str) -> bool:
        return _compiled(self.pattern).fullmatch(text) is not None


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
        # Well-formedness only: the signature layer validates values against the schema.
        try:
            json.loads(text)
        except json.JSONDecodeError:
            return False
        return True


_CHUNK = re.compile(r"[^\w\s]*\w+[^\w\s]*\s*")


def quote_chunks(text: str) -> tuple[str, ...]:
    """Words with their punctuation and the whitespace after them: the units a quote is made of.

    Every chunk holds a word character, so a quote is never blank or bare punctuation, and it
    starts at a word; joined, the chunks give ``text`` back.
    """
    chunks: list[str] = []
    position = 0
    for match in _CHUNK.finditer(text):
        gap = text[position : match.start()]  # stray punctuation or whitespace between words
        if chunks:
            chunks[-1] += gap
            chunks.append(match.group())
        else:
            chunks.append(gap + match.group())
        position = match.end()
    if not chunks:
        return (text,)
    chunks[-1] += text[position:]
    return tuple(chunks)


@dataclass(frozen=True, slots=True)
class Substring:
    """The reply must be a verbatim quote of ``text``: a run of its consecutive :func:`quote_chunks`."""

    text: str

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise UsageError(f"Substring(text={self.text!r}) has nothing to quote from")

    @property
    def chunks(self) -> tuple[str, ...]:
        return quote_chunks(self.text)

    def matches(self, text: str) -> bool:
        chunks = self.chunks
        starts = {0}
        offset = 0
        for chunk in chunks:
            offset += len(chunk)
            starts.add(offset)
        for begin in sorted(starts):
            if self.text.startswith(text, begin) and begin + len(text) in starts and text:
                return True
        return False

    def __repr__(self) -> str:
        return f"Substring(text={self.text[:30]!r}{'...' if len(self.text) > 30 else ''})"


@dataclass(frozen=True, slots=True)
class Quote:
    """A verbatim quote of one of ``sources`` followed by that source's marker: ``quote [i]``.

    The quote is a run of :func:`quote_chunks` of ``sources[i - 1]``; the space before the marker
    is optional, since a quote that stops mid-sentence already ends with one. ``max_chars`` bounds
    the quote's length (small models otherwise quote whole sentences).
    """

    sources: tuple[str, ...]
    max_chars: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "sources", tuple(self.sources))
        if not any(source.strip() for source in self.sources):
            raise UsageError("Quote(sources=...) needs at least one non-blank source to quote from")
        if self.max_chars is not None and self.max_chars < 1:
            raise UsageError(f"Quote(max_chars={self.max_chars}) must be >= 1")

    def matches(self, text: str) -> bool:
        match = re.fullmatch(r"(?s)(.*)\[([0-9]+)\]", text)
        if match is None or not 1 <= int(match.group(2)) <= len(self.sources):
            return False
        source, quote = self.sources[int(match.group(2)) - 1], match.group(1)
        if not source.strip() or (self.max_chars is not None and len(quote.rstrip(" ")) > self.max_chars):
            return False
        target = Substring(source)
        return target.matches(quote) or (quote.endswith(" ") and target.matches(quote[:-1]))

    def __repr__(self) -> str:
        return f"Quote(sources=<{len(self.sources)} texts>)"


@dataclass(frozen=True, slots=True)
class Seq:
    """The reply is the concatenation of ``parts``: literal strings and constraints."""

    parts: tuple[str | Constraint, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "parts", tuple(self.parts))
        if not self.parts:
            raise UsageError("Seq(parts=()) needs at least one part")

    def matches(self, text: str) -> bool:
        return len(text) in _ends(self, text, 0)


@dataclass(frozen=True, slots=True)
class OneOf:
    """The reply matches one of ``alternatives``."""

    alternatives: tuple[str | Constraint, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "alternatives", tuple(self.alternatives))
        if not self.alternatives:
            raise UsageError("OneOf(alternatives=()) needs at least one alternative")

    def matches(self, text: str) -> bool:
        return len(text) in _ends(self, text, 0)


Constraint: TypeAlias = Regex | Choice | JsonSchema | Substring | Quote | Seq | OneOf


def constraint_kinds(constraint: str | Constraint) -> set[type]:
    """Every constraint type used inside ``constraint``, so a backend can say what it cannot enforce."""
    if isinstance(constraint, str):
        return set()
    kinds: set[type] = {type(constraint)}
    children = constraint.parts if isinstance(constraint, Seq) else getattr(constraint, "alternatives", ())
    for child in children:
        kinds |= constraint_kinds(child)
    return kinds


def _ends(part: str | Constraint, text: str, start: int) -> set[int]:
    """Every end position such that ``text[start:end]`` matches ``part`` (for checking replies)."""
    if isinstance(part, str):
        return {start + len(part)} if text.startswith(part, start) else set()
    if isinstance(part, Seq):
        positions = {start}
        for child in part.parts:
            positions = {end for pos in positions for end in _ends(child, text, pos)}
            if not positions:
                break
        return positions
    if isinstance(part, OneOf):
        return {end for child in part.alternatives for end in _ends(child, text, start)}
    return {end for end in range(start, len(text) + 1) if part.matches(text[start:end])}


def _iter_numbers(n: int) -> Iterator[str]:
    return (str(i) for i in range(n, 0, -1))  # longest first, so [10] is not read as [1]


def citation_marker_pattern(n_passages: int) -> str:
    """``[i]`` for 1 <= i <= n_passages."""
    return rf"\[(?:{'|'.join(_iter_numbers(n_passages))})\]"


def cited_text_pattern(
    n_passages: int,
    *,
    max_sentences: int = 3,
    max_sentence_chars: int = 120,
    per: str = "sentence",
    min_citations: int = 1,
) -> str:
    """A regex for prose whose citations can only name passages 1..n_passages.

    ``per="sentence"``: every sentence ends with a citation; ``per="answer"``: only the last one
    must. The length bounds keep the longest admissible reply (about 360 characters by default)
    within the default 512-token budget (a token is at least one character), so a reply is never
    cut off before its last citation.
    """
    if n_passages < 1:
        raise UsageError(f"n_passages={n_passages} must be >= 1: there is nothing to cite")
    if max_sentences < 1:
        raise UsageError(f"max_sentences={max_sentences} must be >= 1")
    if max_sentence_chars < 8:
        raise UsageError(f"max_sentence_chars={max_sentence_chars} must be >= 8")
    marker = citation_marker_pattern(n_passages)
    # A sentence has no '.', '!' or '?' of its own, so the only way for the model to end one is a
    # citation and a period. (Allowing decimals made the embedded model loop on "55.55.55...".)
    char = r"[^\[\]\n.!?]"
    # The last character before the marker is not a space, so exactly one space precedes it.
    if min_citations < 1:
        raise UsageError(f"min_citations={min_citations} must be >= 1")
    markers = rf"(?:{marker}){{{min_citations},{min_citations + 1}}}"
    cited = rf"{char}{{7,{max_sentence_chars - 1}}}[^\s\[\].!?] {markers}\."
    if per == "answer":
        plain = rf"{char}{{7,{max_sentence_chars - 1}}}[^\s\[\].!?]\."
        return rf"(?:{plain} ){{0,{max_sentences - 1}}}{cited}"
    return rf"{cited}(?: {cited}){{0,{max_sentences - 1}}}"
