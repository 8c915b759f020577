"""Sentence segmentation for answers: abbreviations, decimals, quotes, lists, code and markers.

Rules, in order (all pure functions of the text):

* fenced code blocks and inline code are protected: nothing inside them ends a sentence or cites;
* a sentence ends after ``.``, ``!``, ``?`` or ``…`` (plus closing quotes or brackets and any
  citation markers that follow) when whitespace follows and the next word does not start in
  lower case;
* a ``.`` after a title (``Dr.``), a fixed abbreviation (``e.g.``), a list number at the start of
  a line, or an initial or dotted acronym (``J.``, ``U.S.``) does not end a sentence, except that
  initials, acronyms and words such as ``etc.`` do when a common sentence opener (``The``,
  ``It``...) follows;
* a full stop inside a quotation does not end the sentence around it;
* blank lines, list items, headings and code fences always separate sentences.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

__all__ = ["Span", "code_spans", "fence_spans", "opens_block", "quote_spans", "sentence_spans", "splits_between"]

Span = tuple[int, int]

_FENCE_LINE = re.compile(r"^[ \t]*(`{3,}|~{3,})[^\n]*$", re.MULTILINE)
_INLINE_CODE = re.compile(r"(`+)(?!`)([^\n]+?)(?<!`)\1(?!`)")
# A quotation may wrap across lines but not across a blank line. A straight quotation mark opens
# before a non-space and closes after one, so an unmatched mark (`the song " [2]`) does not pair
# with the next quotation's opening mark.
_QUOTE = re.compile(
    r"\"(?=[^\s\"])(?:[^\"\n]|\n(?![ \t]*\n))+(?<=\S)\"|\u201c(?:[^\u201d\n]|\n(?![ \t]*\n))+\u201d"
)
_TERMINAL = re.compile(r"(?:[.!?\u2026]+)[\"'\u201d\u2019\u00bb)]*")
_MARKER_AHEAD = re.compile(r"[ \t]*\[[^\[\]\n]{1,120}\]")
_WORD_BEFORE = re.compile(r"[\w.\-']*$")
# The next word, past whitespace and any citation markers (which do not count as words).
_NEXT_WORD = re.compile(r"(?:\s*\[[^\[\]\n]{1,120}\])*\s*([^\s]*)")
_BULLET_LINE = re.compile(r"[ \t]*(?:[-*+\u2022]|\d{1,3}[.)]|#{1,6}|>)(?:[ \t]|$)")
_HEADING_LINE = re.compile(r"[ \t]*#{1,6}(?:[ \t]|$)")
_TRAILING_MARKERS = re.compile(r"(?:\s*\[[^\[\]\n]{1,120}\])+\s*$")
_WORD_EDGES = re.compile(r"^\W+|\W+$")
_DOTTED = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]|[A-Za-z]")

# Abbreviations after which a sentence never ends: titles before names and Latin-style connectives.
_NEVER_FINAL = frozenset(
    (
        "dr", "mr", "mrs", "ms", "mx", "prof", "st", "mt", "gen", "col", "lt", "capt", "sgt", "rev", "gov",
        "sen", "rep", "hon", "pres", "messrs", "fr", "fig", "figs", "no", "nos", "vol", "vols", "eq", "eqs",
        "pp", "cf", "vs", "e.g", "i.e", "viz", "approx", "ca", "al",
    )
)
# Abbreviations that may end a sentence: only when a common sentence opener follows.
_MAYBE_FINAL = frozenset(
    (
        "etc", "inc", "ltd", "co", "corp", "jr", "sr", "bros", "jan", "feb", "mar", "apr", "jun", "jul",
        "aug", "sep", "sept", "oct", "nov", "dec", "est", "dept", "univ", "ave", "blvd", "rd", "a.m", "p.m",
        "ph.d",
    )
)
_OPENERS = frozenset(
    (
        "The", "This", "That", "These", "Those", "It", "Its", "He", "She", "They", "We", "I", "You", "In",
        "On", "At", "A", "An", "There", "However", "But", "And", "So", "As", "After", "Before", "His", "Her",
        "Their", "Our", "When", "While", "Although", "If", "For", "From", "To", "By", "With", "Since",
        "Also", "Both", "Each", "Many", "Most", "Some", "One", "Today", "Then", "Thus", "Therefore",
        "Moreover", "Furthermore", "Meanwhile", "Yes", "No", "Other", "Another", "Despite", "During",
        "Unlike", "Like", "Here", "What", "Which", "Who", "Why", "How",
    )
)


def fence_spans(text: str) -> list[Span]:
    """Fenced code blocks (``` or ~~~), each from its opening line to its closing line."""
    spans: list[Span] = []
    opening: re.Match[str] | None = None
    for line in _FENCE_LINE.finditer(text):
        if opening is None:
            opening = line
        elif line[1][0] == opening[1][0] and len(line[1]) >= len(opening[1]) and line[0].strip() == line[1]:
            spans.append((opening.start(), line.end()))
            opening = None
    if opening is not None:
        spans.append((opening.start(), len(text)))
    return spans


def opens_block(text: str) -> bool:
    """Whether a line starting with ``text`` opens a heading or a code fence rather than a sentence."""
    return bool(_HEADING_LINE.match(text) or _FENCE_LINE.match(text))


def code_spans(text: str) -> list[Span]:
    """Fenced blocks and inline code spans, sorted; markers and sentence ends inside are ignored."""
    fences = fence_spans(text)
    inline = [m.span() for m in _INLINE_CODE.finditer(text) if not _inside(m.start(), fences)]
    return sorted(fences + inline)


def quote_spans(text: str, protected: Sequence[Span] = ()) -> list[Span]:
    """Double-quoted spans (straight or curly) within a paragraph, quotes included, outside ``protected``."""
    return [m.span() for m in _QUOTE.finditer(text) if not _inside(m.start(), protected)]


def _inside(position: int, spans: Sequence[Span]) -> bool:
    return any(low <= position < high for low, high in spans)


def _after_markers(text: str, position: int) -> int:
    """The position after any citation markers (and the spaces between them) at ``position``."""
    while match := _MARKER_AHEAD.match(text, position):
        position = match.end()
    return position


def _line_start(text: str, position: int) -> int:
    return text.rfind("\n", 0, position) + 1


def _full_stop_ends(text: str, dot: int, next_word: str) -> bool:
    """Whether the single ``.`` at ``dot`` ends a sentence, judged by the word before it."""
    word = _WORD_BEFORE.search(text, max(0, dot - 40), dot)
    token = word[0].lstrip(".-'") if word else ""
    if not token:
        return True
    lower = token.lower()
    if lower in _NEVER_FINAL:
        return False
    if token.isdigit():
        # "1. First item" at the start of a line or of a sentence is a list number.
        before = _TRAILING_MARKERS.sub("", text[_line_start(text, dot) : dot - len(token)]).rstrip()
        return bool(before) and before[-1] not in ".!?:;"
    if lower in _MAYBE_FINAL or _DOTTED.fullmatch(token):
        return _WORD_EDGES.sub("", next_word) in _OPENERS
    return True


def _candidate_ends(text: str, protected: Sequence[Span], quotes: Sequence[Span]) -> list[int]:
    ends: list[int] = []
    for match in _TERMINAL.finditer(text):
        if _inside(match.start(), protected):
            continue
        end = _after_markers(text, match.end())
        if end < len(text) and not text[end].isspace():
            continue  # "3.14", "example.com", "e.g.x"
        following = _NEXT_WORD.match(text, end)
        next_word = following[1] if following else ""
        if next_word[:1].islower():
            continue
        if any(low < match.start() and match.end() < high for low, high in quotes):
            continue  # a full stop inside a quotation: 'He said "Stop. Now." and left.'
        if match[0] == "." and next_word and not _full_stop_ends(text, match.start(), next_word):
            continue
        ends.append(end)
    return ends


def _line_breaks(text: str, fences: Sequence[Span]) -> list[int]:
    """Line breaks that always separate sentences: blank lines, list items, headings."""
    breaks: list[int] = []
    for match in re.finditer(r"\n", text):
        position = match.start()
        if _inside(position, fences):
            continue
        line = text[_line_start(text, position) : position]
        next_line = text[match.end() : text.find("\n", match.end()) % (len(text) + 1)]
        if (
            not line.strip()
            or not next_line.strip()
            or _BULLET_LINE.match(next_line)
            or _HEADING_LINE.match(line)
        ):
            breaks.append(position)
    return breaks


def sentence_spans(text: str) -> list[Span]:
    """Spans that partition ``text`` into sentences (with surrounding whitespace, not yet trimmed)."""
    protected = code_spans(text)
    fences = fence_spans(text)
    quotes = quote_spans(text, protected)
    cuts = set(_candidate_ends(text, protected, quotes))
    cuts.update(_line_breaks(text, fences))
    for low, high in fences:
        cuts.update((low, high))
    cuts.discard(0)
    cuts.discard(len(text))
    bounds = [0, *sorted(cuts), len(text)]
    return [(low, high) for low, high in itertools.pairwise(bounds) if low < high]


def splits_between(left: str, right: str) -> bool:
    """Whether ``left + " " + right`` is segmented with a sentence boundary right after ``left``."""
    if not left.strip() or not right.strip():
        return True
    window = left[-200:]
    spans = sentence_spans(f"{window} {right[:80]}")
    return any(high == len(window) for _, high in spans)
