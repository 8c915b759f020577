"""The errors of the remote backends, in refine's one tree (:mod:`refine.errors`)::

    LMError
    └── BackendError            a server refused a request (bad request, bad key): the fix is in the message
        └── BackendUnavailable  still failing once the retries ran out: refused, timed out, 429/5xx, garbage
    ModelNotFound (UsageError)
    └── ModelNotServed          the server runs, but does not serve the model named

Each carries ``backend`` ("ollama", "openai"), ``host`` and ``model``, so a caller can say in its
own terms what to change; the message already says it.
"""

from __future__ import annotations

from refine.errors import LMError, ModelNotFound

__all__ = ["BackendError", "BackendUnavailable", "ModelNotServed"]


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
