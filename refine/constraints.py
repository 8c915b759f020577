"""Output constraints as plain frozen data.

A backend either enforces a constraint while decoding or refuses it by name
(:class:`~refine.errors.UnsupportedConstraint`); nothing here knows about any backend. Each
constraint can also check a finished reply (``matches``), which is how unconstrained backends and
the scripted test backend are held to the same contract.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeAlias

from citations import WORD_CHAR, marker_spans
from refine.errors import UsageError

__all__ = [
    "FREE_TEXT_PATTERN",
    "Bounds",
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
    "quote_length_pattern",
    "quote_runs",
    "quote_words_pattern",
    "short_cited_pattern",
    "words_pattern",
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


# A word with the punctuation around it and the whitespace after it. Leading punctuation starts
# only where a run of it does, and '++'/'*+' never backtrack, so a run of 20,000 '!' or '_' costs
# linear time, not seconds.
_CHUNK = re.compile(rf"(?:(?<![^\w\s])[^\w\s]++)?_*+{WORD_CHAR}\w*[^\w\s]*\s*")
# Whitespace around a quote, which its length does not count; spelled out so that Python and a
# grammar backend agree on it (their ``\s`` differ on a few control characters).
_SPACE = r"[ \t\n\r\f\v]"


def _chunk_starts(text: str, start: int, end: int) -> list[int]:
    # On a slice: the lookbehind must not see the marker before ``start``.
    return [start + match.start() for match in _CHUNK.finditer(text[start:end])]


def _pieces(text: str, starts: list[int], end: int) -> tuple[str, ...]:
    return tuple(text[low:high] for low, high in zip(starts, [*starts[1:], end], strict=True))


@lru_cache(maxsize=256)
def quote_runs(text: str) -> tuple[tuple[str, ...], ...]:
    """The chunks of ``text`` that a quote is made of, in runs that no citation marker interrupts.

    A chunk is a word with its punctuation and the whitespace after it; each holds a letter or
    digit, so a quote is never blank or bare punctuation, and it starts at a word.

    A quote is a run of consecutive chunks of one run, so it never holds a bracket that would
    cite once copied into an answer (``[7]``, ``[1-3]``, ``[p1]``: whatever
    :func:`citations.parse` reads as a marker), and ``"cite [7]. [1]"`` cannot cite passage 7.
    """
    runs: list[tuple[str, ...]] = []
    position = 0
    for low, high in [*marker_spans(text), (len(text), len(text))]:
        starts = _chunk_starts(text, position, low)
        if starts:
            runs.append(_pieces(text, starts, low))
        position = high
    return tuple(runs)


@lru_cache(maxsize=256)
def _run_bounds(text: str) -> tuple[tuple[str, frozenset[int]], ...]:
    """Each run of ``text`` joined, with the offsets in it where a quote may start or end."""
    bounds = []
    for run in quote_runs(text):
        offsets = [0]
        for chunk in run:
            offsets.append(offsets[-1] + len(chunk))
        bounds.append(("".join(run), frozenset(offsets)))
    return tuple(bounds)


def _is_run_of_chunks(text: str, quote: str) -> bool:
    if not quote:
        return False
    for joined, offsets in _run_bounds(text):
        for begin in offsets:
            if begin + len(quote) in offsets and joined.startswith(quote, begin):
                return True
    return False


#: Free text (no constraint) as a reply must be to parse: more than whitespace, as ``str.strip``
#: sees it (the ``\s`` of a grammar backend's Rust regexes lacks U+001C..U+001F).
FREE_TEXT_PATTERN = r"(?s:[\s\x1c-\x1f]*[^\s\x1c-\x1f].*)"


# A word is a run of \w, as refine.checks.max_words counts them. Spelt with WORD_CHAR so that a
# grammar backend's Rust regex admits only what Python's \w holds (see rust_regex).
_W = rf"(?:{WORD_CHAR}|_)"


def quote_words_pattern(max_words: int | None) -> str:
    """A quote with at most ``max_words`` words (runs of ``\\w``); any quote when ``None``."""
    if max_words is None:
        return r"(?s:.+)"
    return rf"(?s:\W*(?:{_W}+\W+){{0,{max_words - 1}}}{_W}*\W*)"


def words_pattern(max_words: int, *, max_chars: int | None = None) -> str:
    """One line of one to ``max_words`` words; with ``max_chars``, words short enough to fit it."""
    longest = min(40, max_chars) if max_chars else 40
    word = rf"{WORD_CHAR}{_W}{{0,{longest - 1}}}"
    return rf"[^\w\n]{{0,3}}{word}(?:[^\w\n]{{1,3}}{word}){{0,{max_words - 1}}}[^\w\n]{{0,3}}"


def quote_length_pattern(max_chars: int | None) -> str:
    """A non-empty quote of at most ``max_chars`` characters, not counting whitespace around it.

    One pattern for :meth:`Quote.matches` and for the grammar a backend decodes a quote under.
    """
    if max_chars is None:
        return r"(?s:.+)"
    return rf"(?s:{_SPACE}*.{{1,{max_chars}}}{_SPACE}*)"


@dataclass(frozen=True, slots=True)
class Substring:
    """The reply must be a verbatim quote of ``text``: a run of consecutive chunks of one of its
    :func:`quote_runs` (so it holds no citation marker)."""

    text: str

    def __post_init__(self) -> None:
        if not quote_runs(self.text):
            raise UsageError(f"Substring(text={self.text[:60]!r}) has no letter or digit outside markers to quote")

    @property
    def runs(self) -> tuple[tuple[str, ...], ...]:
        return quote_runs(self.text)

    def matches(self, text: str) -> bool:
        return _is_run_of_chunks(self.text, text)

    def __repr__(self) -> str:
        return f"Substring(text={self.text[:30]!r}{'...' if len(self.text) > 30 else ''})"


_CITED_QUOTE = re.compile(r"(?s)(.*)\[([1-9][0-9]*)\]")


@dataclass(frozen=True, slots=True)
class Quote:
    """A verbatim quote of one of ``sources`` followed by that source's marker: ``quote [i]``.

    The quote is a run of chunks of one of the :func:`quote_runs` of ``sources[i - 1]``; the space
    before the marker is optional, since a quote that stops mid-sentence already ends with one.
    ``max_chars`` bounds the quote's length, whitespace around it aside (small models otherwise
    quote whole sentences).
    """

    sources: tuple[str, ...]
    max_chars: int | None = None
    max_words: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "sources", tuple(self.sources))
        if self.max_words is not None and self.max_words < 1:
            raise UsageError(f"Quote(max_words={self.max_words}) must be >= 1")
        if not any(quote_runs(source) for source in self.sources):
            raise UsageError(
                "Quote(sources=...) needs a source with a letter or digit outside citation markers to quote from"
            )
        if self.max_chars is not None and self.max_chars < 1:
            raise UsageError(f"Quote(max_chars={self.max_chars}) must be >= 1")

    @property
    def length_pattern(self) -> str:
        return quote_length_pattern(self.max_chars)

    def matches(self, text: str) -> bool:
        match = _CITED_QUOTE.fullmatch(text)
        if match is None or int(match[2]) > len(self.sources):
            return False
        source, quote = self.sources[int(match[2]) - 1], match[1]
        length, words = _compiled(self.length_pattern), _compiled(quote_words_pattern(self.max_words))
        candidates = (quote, quote[:-1]) if quote.endswith(" ") else (quote,)  # the space may be the marker's
        return any(
            _is_run_of_chunks(source, q) and length.fullmatch(q) is not None and words.fullmatch(q) is not None
            for q in candidates
        )

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
        return bool(_ends(self, text, 0, (len(text),)))


@dataclass(frozen=True, slots=True)
class OneOf:
    """The reply matches one of ``alternatives``."""

    alternatives: tuple[str | Constraint, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "alternatives", tuple(self.alternatives))
        if not self.alternatives:
            raise UsageError("OneOf(alternatives=()) needs at least one alternative")

    def matches(self, text: str) -> bool:
        return bool(_ends(self, text, 0, (len(text),)))


Constraint: TypeAlias = Regex | Choice | JsonSchema | Substring | Quote | Seq | OneOf


def _limit(name: str, value: int | None) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise UsageError(f"Bounds({name}={value!r}) must be a whole number >= 1")


def _tighter(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


@dataclass(frozen=True, slots=True)
class Bounds:
    """Limits on one output field that a ready check states and a grammar can enforce.

    A check such as :func:`refine.checks.max_words` carries its bounds, and a predictor folds the
    bounds of its rules into the field's decoding constraint on a grammar backend, so the rule
    holds on the first attempt; elsewhere it stays a checked rule. ``a & b`` is the tighter of both.
    """

    max_words: int | None = None
    max_chars: int | None = None
    max_sentences: int | None = None
    choices: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        for name in ("max_words", "max_chars", "max_sentences"):
            _limit(name, getattr(self, name))
        if self.choices is not None:
            object.__setattr__(self, "choices", tuple(self.choices))
            if not self.choices:
                raise UsageError("Bounds(choices=()) admits nothing; give at least one choice")

    def __and__(self, other: Bounds) -> Bounds:
        choices = self.choices if other.choices is None else other.choices
        if self.choices is not None and other.choices is not None:
            theirs = {c.strip().casefold() for c in other.choices}
            choices = tuple(c for c in self.choices if c.strip().casefold() in theirs)
            if not choices:
                raise UsageError(f"choices {self.choices!r} and {other.choices!r} have no value in common")
        return Bounds(
            _tighter(self.max_words, other.max_words),
            _tighter(self.max_chars, other.max_chars),
            _tighter(self.max_sentences, other.max_sentences),
            choices,
        )


@lru_cache(maxsize=1024)  # a backend asks at every call, mostly of a grammar it was asked before
def constraint_kinds(constraint: str | Constraint) -> frozenset[type]:
    """Every constraint type used inside ``constraint``, so a backend can say what it cannot enforce."""
    if isinstance(constraint, str):
        return frozenset()
    kinds: set[type] = {type(constraint)}
    children = constraint.parts if isinstance(constraint, Seq) else getattr(constraint, "alternatives", ())
    for child in children:
        kinds |= constraint_kinds(child)
    return frozenset(kinds)


def _ends(part: str | Constraint, text: str, start: int, stops: Collection[int] | None = None) -> set[int]:
    """Every end position such that ``text[start:end]`` matches ``part`` (for checking replies),
    among ``stops`` when given (the only ends that could lead to a match of the whole)."""
    if isinstance(part, str):
        end = start + len(part)
        return {end} if text.startswith(part, start) and (stops is None or end in stops) else set()
    if isinstance(part, Seq):
        positions = {start}
        last = len(part.parts) - 1
        for i, child in enumerate(part.parts):
            after = stops if i == last else _starts(part.parts[i + 1], text)
            positions = {end for pos in positions for end in _ends(child, text, pos, after)}
            if not positions:
                break
        return positions
    if isinstance(part, OneOf):
        return {end for child in part.alternatives for end in _ends(child, text, start, stops)}
    ends = range(start, len(text) + 1) if stops is None else sorted(end for end in stops if end >= start)
    return {end for end in ends if part.matches(text[start:end])}


def _starts(part: str | Constraint, text: str) -> list[int] | None:
    """Where in ``text`` a literal ``part`` occurs; ``None`` (anywhere) for any other part.

    A part before a literal can only end where the literal starts: trying just those ends spares
    matching the part against every prefix of the rest of the reply.
    """
    if not isinstance(part, str) or not part:
        return None
    found = []
    at = text.find(part)
    while at != -1:
        found.append(at)
        at = text.find(part, at + 1)
    return found


def _iter_numbers(n: int, low: int = 1) -> Iterator[str]:
    return (str(i) for i in range(n, low - 1, -1))  # longest first, so [10] is not read as [1]


def citation_marker_pattern(n_passages: int) -> str:
    """``[i]`` for 1 <= i <= n_passages."""
    return rf"\[(?:{'|'.join(_iter_numbers(n_passages))})\]"


def _markers_pattern(n_passages: int, count: int) -> str:
    """``count`` or ``count + 1`` markers; from two on, of passages in increasing order.

    A repeated passage (``[1][1]``) counts once, so with ``count >= 2`` only distinct passages
    can make the count. The pattern grows like ``n_passages ** count``; ``count`` is small.
    """
    if count == 1:
        return rf"(?:{citation_marker_pattern(n_passages)}){{1,2}}"

    def after(low: int, need: int) -> str:
        # Markers of passages >= low: ``need`` of them, then one more at most.
        if need == 0:
            return rf"(?:\[(?:{'|'.join(_iter_numbers(n_passages, low))})\])?" if low <= n_passages else ""
        options = [rf"\[{i}\]{after(i + 1, need - 1)}" for i in range(low, n_passages - need + 2)]
        return f"(?:{'|'.join(options)})"

    return after(1, count)


@lru_cache(maxsize=256)  # pure, and asked for at every call of a predictor
def short_cited_pattern(n_passages: int, max_words: int, *, min_citations: int = 1) -> str:
    """A short answer of one to ``max_words`` words, then its citation: ``Paris [1]`` or ``1887 [2].``

    Words are counted as :func:`refine.checks.max_words` counts them; the markers can only name
    passages 1..n_passages. ``citations`` reads the reply as one cited sentence.
    """
    if n_passages < 1:
        raise UsageError(f"n_passages={n_passages} must be >= 1: there is nothing to cite")
    if max_words < 1:
        raise UsageError(f"max_words={max_words} must be >= 1")
    if not 1 <= min_citations <= n_passages:
        raise UsageError(f"min_citations={min_citations} must be between 1 and n_passages={n_passages}")
    word = rf"{WORD_CHAR}{_W}{{0,39}}"  # from a letter or digit: citations reads "_ [1]" as no sentence
    # No '!?…' inside (they end a sentence) and '.' only between letters ("3.5", "U.S"): one sentence.
    sep = r"(?:[^\w\[\]\n.!?\u2026#]{1,3}|\.)"
    lead = r'(?:[$\u00a3\u20ac(\u201c"])?'
    trail = r"(?:[%)]|\.)?"
    return rf"{lead}{word}(?:{sep}{word}){{0,{max_words - 1}}}{trail} {_markers_pattern(n_passages, min_citations)}\.?"


@lru_cache(maxsize=256)  # pure, and asked for at every call of a predictor
def cited_text_pattern(
    n_passages: int,
    *,
    max_sentences: int = 3,
    max_sentence_chars: int = 200,
    per: str = "sentence",
    min_citations: int = 1,
) -> str:
    """A regex for prose whose citations can only name passages 1..n_passages.

    ``per="sentence"``: every sentence ends with a citation; ``per="answer"``: only the last one
    must. A sentence may be as long as the model's own sentences are (at 120 characters, a third
    of them were cut short on HotpotQA). The longest admissible reply is about 620 characters by
    default, within :class:`~refine.CitedRAG`'s 768-token budget (a token is at least one
    character), so a reply is never cut off before its last citation. Whatever the pattern
    admits, :func:`citations.check` reads as sentences with words, each citing what it must.
    """
    if n_passages < 1:
        raise UsageError(f"n_passages={n_passages} must be >= 1: there is nothing to cite")
    if max_sentences < 1:
        raise UsageError(f"max_sentences={max_sentences} must be >= 1")
    if max_sentence_chars < 8:
        raise UsageError(f"max_sentence_chars={max_sentence_chars} must be >= 8")
    if min_citations < 1:
        raise UsageError(f"min_citations={min_citations} must be >= 1")
    if min_citations > n_passages:
        raise UsageError(
            f"min_citations={min_citations} cannot be met with n_passages={n_passages}: "
            f"give at least {min_citations} passages or cite fewer"
        )
    # A sentence has no '.', '!', '?' or '…' inside it: it ends where the model writes its period,
    # before its citation ("... [1].") or after it ("... . [1]"), which citations reads alike. The
    # model may stop a sentence whenever it likes (held to ' [n].', it rambled to the length cap
    # and was cut mid-word). Allowing decimals made the embedded model loop on "55.55.55...".
    char = r"[^\[\]\n.!?\u2026]"
    # A letter or digit among the first three characters, so the sentence has a word (citations
    # reads "-------- [1]." as no sentence at all), and no '#' before it ("# x" is a heading).
    # Three alternatives keep the length within [8, max_sentence_chars] exactly.
    lead = r"[^\[\]\n.!?\u2026#]"
    longest = max_sentence_chars - 3
    start = "|".join(f"{lead * i}{WORD_CHAR}{char}{{{5 - i},{longest - i}}}" for i in range(3))
    # The last character is no space (exactly one precedes the marker) and no closing quotation
    # mark; and ',;:' may end the sentence, but not right after one: citations reads a quotation
    # just before a citation as a quote the passage must hold.
    ends = r'[^\s\[\].!?\u2026"\u201d]'
    last = rf'(?:[^\[\]\n.!?\u2026"\u201d]{ends}|["\u201d][^\s\[\].!?\u2026,;:"\u201d])'
    body = f"(?:{start}){last}"
    markers = _markers_pattern(n_passages, min_citations)
    cited = rf"{body}(?: {markers}\.|\. {markers})"
    if per == "answer":
        return rf"(?:{body}\. ){{0,{max_sentences - 1}}}{cited}"
    return rf"{cited}(?: {cited}){{0,{max_sentences - 1}}}"
