"""The one context-variable default: ``with refine.using(lm=...)``, read only by :func:`resolve_lm`."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from contextvars import ContextVar

from refine.lm import LM, LlamaCpp

__all__ = ["resolve_lm", "using"]

_LM: ContextVar[LM | None] = ContextVar("refine_lm", default=None)


@contextlib.contextmanager
def using(*, lm: LM) -> Iterator[LM]:
    """Make ``lm`` the default for calls in this block (and this thread or task only)."""
    token = _LM.set(lm)
    try:
        yield lm
    finally:
        _LM.reset(token)


@functools.cache
def _embedded() -> LM:
    # Loading the model is the costly part, so the embedded default is loaded once per process.
    return LlamaCpp()


def resolve_lm(explicit: LM | None = None) -> LM:
    """The LM to call: the one passed in, else the ``using`` default, else the embedded model."""
    if explicit is not None:
        return explicit
    return _LM.get() or _embedded()
