"""The error tree shared by ``corpora``, ``citations`` and ``refine``.

It lives here, at the bottom of the import graph, so every layer raises into one tree::

    RefineError
    ├── UsageError (ValueError)           the fix is in your code, arguments or files
    │   ├── CorpusError                   unknown corpus, missing path, malformed data file
    │   ├── SignatureError                (refine) a signature that cannot be built
    │   ├── UnsupportedConstraint         (refine) a backend cannot enforce a constraint
    │   └── ModelNotFound                 (refine) the model file is not installed
    └── RuntimeFailure (RuntimeError)     something failed while running
        ├── IndexCorrupt                  (refine) an index folder is damaged or foreign
        └── LMError                       (refine) a backend call failed
            └── ParseError                (refine) an LM reply does not fit its signature

``refine.errors`` re-exports the whole tree.
"""

from __future__ import annotations

__all__ = ["CorpusError", "RefineError", "RuntimeFailure", "UsageError"]


class RefineError(Exception):
    """Base of every error raised on purpose by refine and its packages."""


class UsageError(RefineError, ValueError):
    """A mistake in how refine is called; the message says how to fix it."""


class RuntimeFailure(RefineError, RuntimeError):
    """A failure while running a program that was defined correctly."""


class CorpusError(UsageError):
    """A corpus cannot be found or read."""
