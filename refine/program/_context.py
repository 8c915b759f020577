"""The one context-variable default: ``with refine.using(lm=...)``, read only by :func:`resolve_lm`."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from contextvars import ContextVar

from refine.lm import LM, default_lm

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


class _Once:
    """``build()`` called once per process, however many threads ask at the same moment.

    A build that raises is not kept: the next caller tries again (after a missing extra is installed).
    """

    def __init__(self, build: Callable[[], LM]) -> None:
        self.build = build
        self._lock = threading.Lock()
        self._value: LM | None = None

    def __call__(self) -> LM:
        value = self._value
        if value is None:
            with self._lock:
                if self._value is None:
                    self._value = self.build()
                value = self._value
        return value


# Loading the model is the costly part, so the default backend is built once per process.
_default = _Once(default_lm)


def resolve_lm(explicit: LM | None = None) -> LM:
    """The LM to call: the one passed in, else the ``using`` default, else :func:`refine.lm.default_lm`."""
    if explicit is not None:
        return explicit
    return _LM.get() or _default()
