"""Citation markers: ``[1]``, ``[1, 2]``, ``[1-3]``, ``[1][2]`` and passage ids such as ``[p12]``.

A numeric reference ``n`` means the n-th passage (1-based) given with the answer; any other
reference is a passage id. These functions are pure and know nothing about sentences.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

__all__ = ["MAX_RANGE", "Marker", "Ref", "find_markers", "format_group", "format_ref", "marker_spans", "parse_group"]

Ref = int | str

#: A range such as ``[1-3]`` expands to at most this many references; longer ones are not markers.
MAX_RANGE = 50

_GROUP = r"\[([^\[\]\n]{1,120})\]"
_BRACKET = re.compile(_GROUP + r"(?!\()")
_ANY_BRACKET = re.compile(_GROUP)
_NUMBER = re.compile(r"\d{1,4}")
_RANGE = re.compile(r"(\d{1,4})\s*[-\u2013\u2014]\s*(\d{1,4})")
_ID = re.compile(r"[A-Za-z_][\w.:#/@+\-]*[\w#/]|[A-Za-z_]")
_SEPARATOR = re.compile(r"\s*[,;]\s*")
# Bracketed words that are editorial marks or checkboxes, not citations.
_NOT_REFS = frozenset({"sic", "x", "X"})


@dataclass(frozen=True, slots=True)
class Marker:
    """One cited reference, where it appears in the answer.

    ``raw`` is the whole bracket as written (``"[1-3]"`` for each of the three references it
    expands to); ``start`` and ``end`` are its character offsets in the answer.
    """

    raw: str
    ref: Ref
    start: int
    end: int

    def __repr__(self) -> str:
        return f"Marker({self.raw!r}, ref={self.ref!r}, start={self.start}, end={self.end})"


def parse_group(content: str) -> tuple[Ref, ...] | None:
    """The references inside one bracket (without the brackets), or None when it is not a citation.

    >>> parse_group("1, 3-4")
    (1, 3, 4)
    >>> parse_group("p12")
    ('p12',)
    >>> parse_group("see above") is None
    True
    """
    content = content.strip()
    if not content or content in _NOT_REFS:
        return None
    refs: list[Ref] = []
    for part in _SEPARATOR.split(content):
        if _NUMBER.fullmatch(part):
            refs.append(int(part))
        elif match := _RANGE.fullmatch(part):
            low, high = int(match[1]), int(match[2])
            if high < low or high - low + 1 > MAX_RANGE:
                return None
            refs.extend(range(low, high + 1))
        elif _ID.fullmatch(part) and part not in _NOT_REFS:
            refs.append(part)
        else:
            return None
    return tuple(refs)


def find_markers(text: str, protected: Sequence[tuple[int, int]] = ()) -> Iterator[Marker]:
    """Every marker in ``text``, in order, skipping those that start inside a ``protected`` span.

    A bracket group yields one :class:`Marker` per reference, all sharing its ``raw``, ``start``
    and ``end``. Markdown links (``[text](url)``) and reference definitions are not markers.
    """
    for match in _BRACKET.finditer(text):
        start = match.start()
        if any(low <= start < high for low, high in protected):
            continue
        line_start = text.rfind("\n", 0, start) + 1
        if text.startswith(":", match.end()) and not text[line_start:start].strip():
            continue  # a Markdown reference definition: "[1]: https://..."
        refs = parse_group(match[1])
        if refs is None:
            continue
        for ref in refs:
            yield Marker(raw=match[0], ref=ref, start=start, end=match.end())


def marker_spans(text: str) -> list[tuple[int, int]]:
    """Every bracket in ``text`` that reads as a citation marker in some context, as (start, end).

    More than :func:`find_markers` finds in ``text`` itself: a bracket that a following ``(``, a
    line start (``[1]: url``) or a code span keeps from citing here cites once copied elsewhere,
    as a quote is. Text without these spans can be quoted without citing anything.
    """
    return [match.span() for match in _ANY_BRACKET.finditer(text) if parse_group(match[1]) is not None]


def format_ref(ref: Ref) -> str:
    """The canonical marker for one reference: ``[3]`` or ``[p12]``."""
    return f"[{ref}]"


def format_group(markers: Sequence[Marker]) -> str:
    """Markers as text: each bracket group as written when its ``raw`` still means the same refs.

    Consecutive markers that share ``raw``, ``start`` and ``end`` form one group; a group whose
    ``raw`` does not parse back to its references is written canonically, one bracket per ref.
    """
    pieces: list[str] = []
    index = 0
    while index < len(markers):
        first = markers[index]
        stop = index + 1
        while stop < len(markers) and (markers[stop].raw, markers[stop].start, markers[stop].end) == (
            first.raw,
            first.start,
            first.end,
        ):
            stop += 1
        group = markers[index:stop]
        refs = tuple(marker.ref for marker in group)
        raw = first.raw
        if raw.startswith("[") and raw.endswith("]") and parse_group(raw[1:-1]) == refs:
            pieces.append(raw)
        else:
            pieces.extend(format_ref(ref) for ref in refs)
        index = stop
    return "".join(pieces)
