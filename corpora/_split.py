"""Splitting text into chunks of at most ``max_tokens`` tokens, cutting at the most natural boundary.

Text is cut at blank lines (paragraphs) first; a paragraph that is still too long is cut after
sentence ends and line breaks, then between words, and a single over-long "word" (a URL, a base64
blob) between characters. Neighbouring pieces are then packed back together while they fit.

Every chunk is a slice of the input with trailing whitespace and leading blank lines removed, so no
non-whitespace character is lost or reordered, and indentation inside a chunk (code) is kept.
"""

from __future__ import annotations

import itertools
import re

from corpora._tokens import count_tokens
from corpora.errors import CorpusError

__all__ = ["DEFAULT_MAX_TOKENS", "MIN_MAX_TOKENS", "check_max_tokens", "split_text"]

DEFAULT_MAX_TOKENS = 200
#: A single code point is at most 4 tokens, so any limit from here on can always be met.
MIN_MAX_TOKENS = 16

# Each pattern matches the separator; a cut is made right after it, so the separator stays with the
# text before it and the text after it keeps its indentation.
_PARAGRAPH = re.compile(r"\n(?:[ \t]*\n)+")
_SENTENCE = re.compile(r"[.!?]+[\"'\u201d\u2019)\]]*[ \t]+|[ \t]*\n")
_WORD = re.compile(r"\s+")
_LEVELS = (_PARAGRAPH, _SENTENCE, _WORD)
_LEADING_BLANK_LINES = re.compile(r"\A(?:[ \t]*\n)+")
# Without whitespace a piece is cut by characters, looking this far ahead per token; tokens longer than this
# on average only make chunks smaller.
_MAX_CHARS_PER_TOKEN = 32

_Span = tuple[int, int, int]  # start, end, token count of the cleaned slice


def check_max_tokens(max_tokens: object) -> int:
    """``max_tokens`` itself if it is a usable chunk size, else a CorpusError saying what is allowed."""
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int):
        raise CorpusError(
            f"max_tokens={max_tokens!r} must be an int >= {MIN_MAX_TOKENS} (default {DEFAULT_MAX_TOKENS})"
        )
    if max_tokens < MIN_MAX_TOKENS:
        raise CorpusError(
            f"max_tokens={max_tokens} must be >= {MIN_MAX_TOKENS}; "
            f"chunks that small lose their context (default {DEFAULT_MAX_TOKENS})"
        )
    return max_tokens


def split_text(text: str, *, max_tokens: int = DEFAULT_MAX_TOKENS) -> list[str]:
    """Chunks of ``text``, each at most ``max_tokens`` cl100k_base tokens, in order; ``[]`` for blank text."""
    if not isinstance(text, str):
        raise CorpusError(f"split_text(text={text!r}) needs a str, got {type(text).__name__}")
    check_max_tokens(max_tokens)
    spans = _Splitter(text, max_tokens).split(0, len(text), 0)
    chunks = (_clean(text[start:end]) for start, end, _ in spans)
    return [chunk for chunk in chunks if chunk]


def _clean(chunk: str) -> str:
    return _LEADING_BLANK_LINES.sub("", chunk.rstrip())


class _Splitter:
    """The state of one split_text call: the text, the limit, and the recursive cutting."""

    __slots__ = ("max_tokens", "text")

    def __init__(self, text: str, max_tokens: int) -> None:
        self.text = text
        self.max_tokens = max_tokens

    def count(self, start: int, end: int) -> int:
        return count_tokens(_clean(self.text[start:end]))

    def split(self, start: int, end: int, level: int) -> list[_Span]:
        """Spans covering ``[start, end)`` that each fit, cutting at ``_LEVELS[level]`` or finer."""
        n = self.count(start, end)
        if n <= self.max_tokens:
            return [(start, end, n)]
        while level < len(_LEVELS):
            pieces = self._cut(start, end, _LEVELS[level])
            level += 1
            if len(pieces) > 1:
                return self._pack([span for piece in pieces for span in self.split(*piece, level)])
        return self._split_chars(start, end)

    def _cut(self, start: int, end: int, pattern: re.Pattern[str]) -> list[tuple[int, int]]:
        cuts = [m.end() for m in pattern.finditer(self.text, start, end) if start < m.end() < end]
        bounds = [start, *cuts, end]
        return list(itertools.pairwise(bounds))

    def _pack(self, spans: list[_Span]) -> list[_Span]:
        """Join neighbouring spans greedily while the joined slice still fits."""
        packed: list[_Span] = []
        i = 0
        while i < len(spans):
            # Token counts are nearly additive: guess how far to go from the sum, then check exactly.
            j, total = i + 1, spans[i][2]
            while j < len(spans) and total + spans[j][2] <= self.max_tokens:
                total += spans[j][2]
                j += 1
            n = spans[i][2]
            while j > i + 1:
                exact = self.count(spans[i][0], spans[j - 1][1])
                if exact <= self.max_tokens:
                    n = exact
                    break
                j -= 1
            packed.append((spans[i][0], spans[j - 1][1], n))
            i = j
        return packed

    def _split_chars(self, start: int, end: int) -> list[_Span]:
        """Cut a piece without usable whitespace into the longest prefixes that fit (binary search)."""
        spans: list[_Span] = []
        while start < end:
            hi = min(end, start + self.max_tokens * _MAX_CHARS_PER_TOKEN)
            n = self.count(start, hi)
            if n > self.max_tokens:
                # Invariant: text[start:lo] fits (a code point is at most 4 tokens); text[start:hi] does not.
                lo, n = start + 1, self.count(start, start + 1)
                while hi - lo > 1:
                    mid = (lo + hi) // 2
                    m = self.count(start, mid)
                    if m <= self.max_tokens:
                        lo, n = mid, m
                    else:
                        hi = mid
                hi = lo
            spans.append((start, hi, n))
            start = hi
        return spans
