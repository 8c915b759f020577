"""Claims: the sentences of an answer, with their citation markers and quoted spans.

:func:`parse` turns an answer into claims; :func:`render` writes claims back as an answer, each
claim's markers placed canonically (before its final punctuation, or right after its quotation).
For claims that came from :func:`parse`, ``parse(render(claims))`` gives the same texts and
markers again when each claim's text reads as one sentence on its own (``parse(claim.text)``
gives back that one text), and the same quotes when each quote is also a quotation of its
claim's text. A text may not read so: what markers or line breaks kept apart in the answer can
read differently once they are gone (``"Dr.[1]' 9"`` gives the text ``"Dr.' 9"``, two sentences;
``"[1]1. [1]1. ."`` gives ``"1.1. ."``), and such a claim may come back split, merged or dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from citations._markers import Marker, Ref, find_markers, format_group, format_ref, parse_group
from citations._segment import (
    Span,
    code_spans,
    fence_spans,
    opens_block,
    quote_spans,
    sentence_spans,
    splits_between,
)
from citations.errors import CitationError

__all__ = ["WORD_CHAR", "Claim", "parse", "render", "strip_markers"]

#: A letter or digit (``\w`` but ``_``, so ``str.isalnum``): a sentence without one is not a claim.
#: In Python's ``re``; Rust's ``\w`` also holds combining marks, so grammar backends get it as
#: ``[\p{L}\p{N}]`` (:func:`refine.lm._guidance.rust_regex`).
WORD_CHAR = r"[^\W_]"

_BULLET = re.compile(r"(?:[-*+\u2022]|\d{1,3}[.)]|>)[ \t]+")
_HEADING = re.compile(r"#{1,6}(?:[ \t]|$)")
_RULE = re.compile(r"(?:([-*_])[ \t]*){3,}")
_SPACE = re.compile(r"\s+")
_AFTER_QUOTE = re.compile(r"[,.;:!?]*[ \t]*")
_FINAL = re.compile(r"[.!?\u2026\"'\u201d\u2019\u00bb)]+$")
_CLOSING_QUOTES = frozenset("\"\u201d")
_CLOSED_QUOTE = re.compile(rf"[{''.join(sorted(_CLOSING_QUOTES))}]{_AFTER_QUOTE.pattern}$")
_WORD = re.compile(WORD_CHAR)


@dataclass(frozen=True, slots=True)
class Claim:
    """One sentence of an answer.

    ``text`` is the sentence with its markers and list bullet removed and whitespace collapsed:
    the statement the cited passages must support. ``start``/``end`` are the sentence's offsets in
    the answer (markers included). ``quote`` is a quoted span that is directly followed by a
    citation, which the cited passage must contain verbatim.
    """

    text: str
    start: int = 0
    end: int = 0
    markers: tuple[Marker, ...] = field(default=())
    quote: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.text, str):
            raise CitationError(f"Claim text={self.text!r} must be a str")
        if not (isinstance(self.start, int) and isinstance(self.end, int) and 0 <= self.start <= self.end):
            raise CitationError(f"Claim start={self.start!r}, end={self.end!r} must be ints with 0 <= start <= end")
        markers = tuple(self.markers)
        for marker in markers:
            if not isinstance(marker, Marker):
                raise CitationError(f"Claim markers must be Marker values, got {marker!r}; use Claim.of(text, refs)")
        object.__setattr__(self, "markers", markers)

    @classmethod
    def of(cls, text: str, refs: Iterable[Ref] = (), *, quote: str | None = None) -> Claim:
        """A claim not (yet) placed in an answer, citing ``refs`` (passage numbers or ids)."""
        return cls(text=text, markers=tuple(_marker(ref) for ref in refs), quote=quote)

    @property
    def refs(self) -> tuple[Ref, ...]:
        """The cited references, in order of first appearance, without repeats."""
        return tuple(dict.fromkeys(marker.ref for marker in self.markers))

    def with_refs(self, *refs: Ref) -> Claim:
        """The same claim citing ``refs`` instead."""
        return replace(self, markers=tuple(_marker(ref) for ref in refs))

    def __repr__(self) -> str:
        parts = [repr(self.text), f"refs={self.refs!r}", f"start={self.start}", f"end={self.end}"]
        if self.quote is not None:
            parts.append(f"quote={self.quote!r}")
        return f"Claim({', '.join(parts)})"


def _marker(ref: Ref) -> Marker:
    valid = (
        (isinstance(ref, int) and not isinstance(ref, bool) and ref >= 0)
        or (isinstance(ref, str) and parse_group(ref) == (ref,))
    )
    if not valid:
        raise CitationError(
            f"ref={ref!r} is neither a passage number nor a passage id; "
            "use an int >= 1 (the n-th passage) or an id such as 'p12' (letters, digits, - _ . : # /)"
        )
    return Marker(raw=format_ref(ref), ref=ref, start=0, end=0)


def _statement(answer: str, start: int, end: int, markers: Sequence[Marker]) -> str:
    """The sentence without its markers (and the spaces before them), whitespace collapsed."""
    pieces: list[str] = []
    position = start
    for low, high in dict.fromkeys((marker.start, marker.end) for marker in markers):
        pieces.append(answer[position:low].rstrip(" \t"))
        position = high
    pieces.append(answer[position:end])
    text = pieces[0]
    for piece in pieces[1:]:
        # "Paris[1]is" reads "Paris is", not "Parisis".
        text += " " + piece if text[-1:].isalnum() and piece[:1].isalnum() else piece
    return _SPACE.sub(" ", text).strip()


def _quote(answer: str, quotes: Sequence[Span], markers: Sequence[Marker], start: int, end: int) -> str | None:
    starts = {marker.start for marker in markers}
    for low, high in quotes:
        if start <= low and high <= end:
            after = _AFTER_QUOTE.match(answer, high)
            inside = [marker for marker in markers if low < marker.start < high]
            inner = _statement(answer, low + 1, high - 1, inside)
            if after and after.end() in starts and _has_words(inner):
                return inner
    return None


def _has_words(text: str) -> bool:
    return _WORD.search(text) is not None


def parse(answer: str) -> tuple[Claim, ...]:
    """The claims of ``answer``, in order; never raises on any ``str``.

    Headings, horizontal rules and fenced code blocks are not claims. Markers that stand alone
    (``"Paris is in France.\\n\\n[1]"``) belong to the sentence before them.
    """
    if not isinstance(answer, str):
        raise CitationError(f"answer={answer!r} must be a str")
    protected = code_spans(answer)
    markers = list(find_markers(answer, protected))
    quotes = quote_spans(answer, protected)
    return tuple(
        Claim(
            text=_text(answer, text_span, own),
            start=start,
            end=end,
            markers=tuple(own),
            quote=_quote(answer, quotes, own, start, end),
        )
        for start, end, own, text_span in _segments(answer, markers, fence_spans(answer))
    )


def _segments(
    answer: str, markers: Sequence[Marker], fences: Sequence[Span]
) -> list[tuple[int, int, list[Marker], Span]]:
    """(start, end, markers, text span) of each sentence; markers that stand alone widen a sentence, not its text."""
    segments: list[tuple[int, int, list[Marker], Span]] = []
    pending: tuple[int, list[Marker]] | None = None  # markers before the first sentence
    for low, high in sentence_spans(answer):
        if any(f_low <= low and high <= f_high for f_low, f_high in fences):
            continue
        piece = answer[low:high]
        start = low + len(piece) - len(piece.lstrip())
        end = high - len(piece) + len(piece.rstrip())
        if start >= end or _HEADING.match(answer, start, end) or _RULE.fullmatch(answer, start, end):
            continue
        own = [marker for marker in markers if start <= marker.start < end]
        while bullet := _BULLET.match(answer, start, end):
            rest = [marker for marker in own if marker.start >= bullet.end()]
            if not _has_words(_statement(answer, bullet.end(), end, rest)):
                break
            start, own = bullet.end(), rest
        if not _has_words(_statement(answer, start, end, own)):
            if segments and own:
                first, _, before, text_span = segments[-1]
                segments[-1] = (first, end, before + own, text_span)
            elif own:
                pending = (pending[0], pending[1] + own) if pending else (own[0].start, own)
            continue
        text_span = (start, end)
        if pending is not None:
            start, own = pending[0], pending[1] + own
            pending = None
        segments.append((start, end, own, text_span))
    return segments


def _text(answer: str, span: Span, markers: Sequence[Marker]) -> str:
    """The statement, without a list bullet that only appears once markers are removed (``0[1]) x``)."""
    start, end = span
    text = _statement(answer, start, end, [marker for marker in markers if start <= marker.start < end])
    while (bullet := _BULLET.match(text)) and _has_words(text[bullet.end() :]):
        text = text[bullet.end() :]
    return text


def _render_one(claim: Claim) -> str:
    text = claim.text
    markers = format_group(claim.markers)
    if not markers:
        return text
    if opens_block(text):
        # Written first, the markers keep the text from opening a heading or a code fence.
        return f"{markers} {text}"
    if claim.quote is not None:
        for opening, closing in (('"', '"'), ("\u201c", "\u201d")):
            quoted = re.search(rf"{opening}\s*{re.escape(claim.quote)}\s*{closing}", text)
            if quoted:
                return f"{text[: quoted.end()]} {markers}{text[quoted.end() :]}"
    final = _FINAL.search(text)
    at = len(text)  # where the markers go
    if final and final.start() > 0:
        left, run = text[: final.start()], final[0]
        if not left[-1].isspace():
            at = final.start()
        elif any(char in _CLOSING_QUOTES for char in run):
            at = len(left.rstrip())
    while quoted_end := _CLOSED_QUOTE.search(text, 0, at):
        # Right after a closing quote, the markers would make it a cited quotation.
        at = len(text[: quoted_end.start()].rstrip())
    return f"{text[:at]} {markers}{text[at:]}"


def render(claims: Iterable[Claim]) -> str:
    """An answer made of ``claims``, each followed by its markers, one sentence after another.

    Sentences are joined by a space, or by a blank line where a space would not end the sentence
    before (for example when it has no final punctuation). A claim whose text starts with Markdown
    block syntax (a ``#`` heading, a code fence) is written with its markers first, so that it
    stays a sentence; without markers, it does not survive ``parse(render(...))``.
    """
    answer = ""
    for claim in claims:
        if not isinstance(claim, Claim):
            raise CitationError(f"render() takes Claim values, got {claim!r}; use Claim.of(text, refs)")
        piece = _render_one(claim)
        if not piece:
            continue
        if not answer:
            answer = piece
        elif splits_between(answer, piece):
            answer = f"{answer} {piece}"
        else:
            answer = f"{answer}\n\n{piece}"
    return answer


def strip_markers(text: str) -> str:
    """``"Paris [1]."`` -> ``"Paris."``: the text without the markers :func:`parse` reads."""
    pieces = []
    position = 0
    for start, end in dict.fromkeys((m.start, m.end) for m in find_markers(text, code_spans(text))):
        pieces.append(text[position:start].rstrip())
        position = end
    pieces.append(text[position:])
    return "".join(pieces).strip()
