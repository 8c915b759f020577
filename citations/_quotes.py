"""Quoted spans: a quotation followed by a citation must occur in the cited passage.

Matching is tried exactly, then on normalised text (Unicode NFKC, case folded, quotes and dashes
unified, punctuation removed, whitespace collapsed). An ellipsis inside a quotation marks omitted
words: each fragment must then occur, in order.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Literal

from corpora import Passage

__all__ = ["QuoteMatch", "match_quote", "normalise", "quote_found"]

QuoteMatch = Literal["exact", "normalised"]

_ELLIPSIS = re.compile(r"\s*(?:\.\s*\.\s*\.|\u2026)\s*")
_JOINERS = re.compile(r"[-\u2010-\u2015/_]")
_PUNCTUATION = re.compile(r"[^\w\s]")
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Text reduced to lower-case words separated by single spaces, for lenient matching."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _JOINERS.sub(" ", text)
    text = _PUNCTUATION.sub("", text)
    return _SPACE.sub(" ", text).strip()


def _find(fragment: str, text: str, start: int) -> int:
    """Where ``fragment`` occurs in ``text`` from ``start`` on, not cutting a word at its edges; or -1."""
    head = r"(?<!\w)" if fragment[:1].isalnum() else ""
    tail = r"(?!\w)" if fragment[-1:].isalnum() else ""
    found = re.compile(head + re.escape(fragment) + tail).search(text, start)
    return found.end() if found else -1


def _in_order(fragments: Sequence[str], text: str) -> bool:
    position = 0
    for fragment in fragments:
        position = _find(fragment, text, position)
        if position < 0:
            return False
    return True


def match_quote(quote: str, text: str) -> QuoteMatch | None:
    """How ``quote`` occurs in ``text``: ``"exact"``, ``"normalised"``, or None when it does not.

    >>> match_quote("the  Capital", "Paris is the capital of France.")
    'normalised'
    """
    fragments = [fragment.strip() for fragment in _ELLIPSIS.split(quote) if fragment.strip()]
    if not fragments or _in_order(fragments, text):
        return "exact"
    normal = [normalise(fragment) for fragment in fragments]
    normal = [fragment for fragment in normal if fragment]
    if not normal:
        return "normalised"  # nothing but punctuation: nothing to find
    if _in_order(normal, normalise(text)):
        return "normalised"
    return None


def quote_found(quote: str, passages: Sequence[Passage]) -> bool:
    """Whether ``quote`` occurs (exactly or normalised) in the text of any of ``passages``."""
    return any(match_quote(quote, passage.text) is not None for passage in passages)
