"""Text that can leave Python: every str refine stores, indexes or sends to a model is valid UTF-8.

A ``str`` can hold lone surrogates (``'\\udcff'``): Python decodes undecodable bytes of command-line
arguments and file names that way, and JSON's ``"\\ud800"`` escape makes one. They cannot be
encoded, so they would fail far from where they came in (hashing an id, tokenizing a prompt).
"""

from __future__ import annotations

__all__ = ["encoding_problem"]


def encoding_problem(text: str) -> str | None:
    """What stops ``text`` from being encoded as UTF-8, or None when nothing does."""
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = text[exc.start : exc.end]
        raw = bad.encode("utf-8", "surrogateescape") if all("\udc80" <= c <= "\udcff" for c in bad) else None
        what = f"the byte(s) {raw!r}, which are not UTF-8" if raw is not None else f"the lone surrogate {bad!r}"
        return f"{what}, at character {exc.start}"
    return None
