"""Ctrl-C while the model runs: taken at the next decoding step, never inside native code.

Python raises ``KeyboardInterrupt`` at whatever bytecode runs when SIGINT arrives. Inside a call
back from native code (a pybind11 module being initialised, a ctypes callback) that exception
either aborts the process (``std::terminate``, after which ggml spends seconds printing a
backtrace) or is swallowed, and the answer is printed as if nothing happened. So while the model
loads or decodes, SIGINT only sets a flag, and the engine raises it between decoding steps.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

__all__ = ["deferred_interrupts", "raise_if_interrupted"]

_requested = threading.Event()


def _note(signum: int, frame: FrameType | None) -> None:
    _requested.set()


def raise_if_interrupted() -> None:
    """Raise the ``KeyboardInterrupt`` that arrived while interrupts were deferred, if one did."""
    if _requested.is_set():
        _requested.clear()
        raise KeyboardInterrupt


@contextlib.contextmanager
def deferred_interrupts() -> Iterator[None]:
    """Defer SIGINT to :func:`raise_if_interrupted` calls (and the end of the block).

    Only on the main thread and only while Python's default handler is installed: a program with
    its own SIGINT handler keeps it, and a nested block leaves the outer one in charge.
    """
    if threading.current_thread() is not threading.main_thread() or (
        signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield
        return
    _requested.clear()
    previous = signal.signal(signal.SIGINT, _note)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    raise_if_interrupted()
