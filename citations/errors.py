"""Errors raised by ``citations``, placed in the shared tree of :mod:`corpora.errors`::

    RefineError
    ├── UsageError (ValueError)
    │   └── CitationError            a bad argument: not a str, not passages, a bad threshold or ref
    │       └── MissingExtra (ImportError)  an optional extra is not installed (says what to pip install)
    └── RuntimeFailure (RuntimeError)
        └── CheckerError             a support checker misbehaved (e.g. a score outside [0, 1])

Text is never an error: any answer parses, possibly to no claims, and problems found in it are
reported as findings in a :class:`citations.CitationReport`, not raised.
"""

from __future__ import annotations

from corpora.errors import RefineError, RuntimeFailure, UsageError

__all__ = ["CheckerError", "CitationError", "MissingExtra", "RefineError", "RuntimeFailure", "UsageError"]


class CitationError(UsageError):
    """``citations`` was called with arguments it cannot use; the message says how to fix them."""


class MissingExtra(CitationError, ImportError):
    """An optional dependency is not installed; the message says which ``pip install`` fixes it."""


class CheckerError(RuntimeFailure):
    """A support checker failed or returned something other than a score in [0, 1]."""
