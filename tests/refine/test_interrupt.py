"""Ctrl-C while the model runs is deferred to the next decoding step (no model needed here)."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from refine.lm._interrupt import deferred_interrupts, raise_if_interrupted


def _ctrl_c() -> None:
    os.kill(os.getpid(), signal.SIGINT)


def test_an_interrupt_waits_for_the_next_check():
    reached = []
    with pytest.raises(KeyboardInterrupt), deferred_interrupts():
        _ctrl_c()
        reached.append("after the signal")  # native code would still be running here
        raise_if_interrupted()
        reached.append("after the check")
    assert reached == ["after the signal"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_interrupt_not_yet_taken_is_raised_when_the_block_ends():
    with pytest.raises(KeyboardInterrupt), deferred_interrupts():
        _ctrl_c()
    raise_if_interrupted()  # taken once, not again


def test_a_program_with_its_own_handler_keeps_it():
    seen = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: seen.append(signum))
    try:
        with deferred_interrupts():
            assert signal.getsignal(signal.SIGINT) is not signal.default_int_handler
            _ctrl_c()
            raise_if_interrupted()
    finally:
        signal.signal(signal.SIGINT, previous)
    assert seen == [signal.SIGINT]


def test_outside_the_main_thread_nothing_changes():
    handlers = []

    def run():
        with deferred_interrupts():
            handlers.append(signal.getsignal(signal.SIGINT))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert handlers == [signal.default_int_handler]
