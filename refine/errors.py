"""Every error refine raises on purpose, in one tree::

    RefineError
    ├── UsageError (ValueError)           the fix is in your code, arguments or files
    │   ├── CorpusError                   unknown corpus, missing path, malformed data file
    │   ├── SignatureError                a signature that cannot be built
    │   ├── UnsupportedConstraint         a backend cannot enforce a constraint
    │   ├── ProgramFileError              a saved program file that cannot be read or used
    │   └── ModelNotFound                 the model file is not installed
    │       └── ModelNotServed            a server runs, but does not serve the model named
    └── RuntimeFailure (RuntimeError)     something failed while running
        ├── IndexCorrupt                  an index folder is damaged or foreign
        ├── AssertionFailed               a hard assertion still fails when its retries ran out
        └── LMError                       a backend call failed
            ├── ContextOverflow           the prompt and the reply do not fit the model's context
            ├── ParseError                an LM reply does not fit its signature
            └── BackendError              a server refused a request (bad request, bad key)
                └── BackendUnavailable    still failing once the retries ran out: refused,
                                          timed out, 429/5xx, a garbled body

Usage errors are raised when a program is defined or configured; runtime failures while it runs.
The remote backends' errors (``BackendError``, ``BackendUnavailable``, ``ModelNotServed``) carry
``backend`` ("ollama", "openai"), ``host`` and ``model``, so a caller can say in its own terms
what to change; the message already says it.

The base classes live in :mod:`corpora.errors`, the bottom of the import graph, so that
``corpora`` and ``citations`` raise into the same tree.
"""

from __future__ import annotations

from typing import Any

from corpora.errors import CorpusError, RefineError, RuntimeFailure, UsageError
from refine.usage import History

__all__ = [
    "AssertionFailed",
    "BackendError",
    "BackendUnavailable",
    "ContextOverflow",
    "CorpusError",
    "IndexCorrupt",
    "LMError",
    "ModelNotFound",
    "ModelNotServed",
    "ParseError",
    "ProgramFileError",
    "RefineError",
    "RuntimeFailure",
    "SignatureError",
    "UnsupportedConstraint",
    "UsageError",
]


class SignatureError(UsageError):
    """A signature string or class that cannot be turned into a signature."""


class UnsupportedConstraint(UsageError):
    """A backend was asked to enforce an output constraint it cannot enforce."""


class ProgramFileError(UsageError):
    """A program file that cannot be used: unreadable, not a program file, from a newer format
    version, damaged, or of another structure than the program it is loaded into.

    A usage error: the fix is always in what is passed (another file, a file saved again, a newer
    refine, the program the file was saved from), and the CLI reports it as bad input (exit 2).
    ``path`` is the file; ``predictor`` names the predictor at fault, when one is.
    """

    def __init__(self, message: str, *, path: str, predictor: str | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.predictor = predictor


class ModelNotFound(UsageError):
    """The model file (or the package that ships it) is not installed."""


class IndexCorrupt(RuntimeFailure):
    """An index folder is damaged, incomplete, or was not written by refine."""


class LMError(RuntimeFailure):
    """A language-model backend failed to produce a reply."""


class ContextOverflow(LMError):
    """A request's prompt plus its ``max_tokens`` do not fit the model's context window.

    ``prompt_tokens``, ``max_tokens`` and ``n_ctx`` say by how much, so a caller can say what to
    shorten in its own terms (the CLI names ``-k`` and ``--n-ctx``).
    """

    def __init__(self, message: str, *, prompt_tokens: int, max_tokens: int, n_ctx: int) -> None:
        super().__init__(message)
        self.prompt_tokens = prompt_tokens
        self.max_tokens = max_tokens
        self.n_ctx = n_ctx


class ParseError(History, LMError):
    """An LM reply could not be parsed into the fields of its signature.

    ``text`` is the reply; ``field`` names the field that failed, when one did; ``attempts``
    holds every attempt when retries were made (of the whole run, when a module raised it), and
    ``usage`` what they cost; ``trace`` the predictor calls of the program run, when a module raised it.
    """

    attempts: tuple[Any, ...]

    def __init__(
        self,
        message: str,
        *,
        text: str,
        field: str | None = None,
        attempts: tuple[Any, ...] = (),
        trace: tuple[Any, ...] = (),
    ) -> None:
        super().__init__(message)
        self.text = text
        self.field = field
        self.attempts = attempts
        self.trace = trace


class AssertionFailed(History, RuntimeFailure):
    """A hard assertion (or a rule the signature declares) still failed after every retry.

    ``failures`` are the checks the last attempt failed; ``attempts`` every LM attempt made, in
    order, and ``usage`` what they cost; ``trace`` the predictor calls of the program run, when a
    module raised it.
    """

    attempts: tuple[Any, ...]

    def __init__(
        self, message: str, *, failures: tuple[Any, ...], attempts: tuple[Any, ...], trace: tuple[Any, ...] = ()
    ) -> None:
        super().__init__(message)
        self.failures = failures
        self.attempts = attempts
        self.trace = trace


class BackendError(LMError):
    """A remote backend refused or failed a request. ``status`` is the HTTP status, when there was one."""

    def __init__(self, message: str, *, backend: str, host: str, model: str, status: int | None = None) -> None:
        super().__init__(message)
        self.backend = backend
        self.host = host
        self.model = model
        self.status = status


class BackendUnavailable(BackendError):
    """A remote backend still failed after every retry; ``attempts`` were made over ``seconds``."""

    def __init__(
        self,
        message: str,
        *,
        backend: str,
        host: str,
        model: str,
        status: int | None = None,
        attempts: int,
        seconds: float,
    ) -> None:
        super().__init__(message, backend=backend, host=host, model=model, status=status)
        self.attempts = attempts
        self.seconds = seconds


class ModelNotServed(ModelNotFound):
    """The server answers, but has no model by the name given; ``available`` lists those it has, if known."""

    def __init__(self, message: str, *, backend: str, host: str, model: str, available: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.backend = backend
        self.host = host
        self.model = model
        self.available = available
