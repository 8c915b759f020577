"""Retries with bounded exponential backoff and jitter, and a bound on concurrent requests.

The policy is a value and the delay a pure function of it (:func:`backoff`), so both are tested
without a clock; :func:`call_with_retries` is the one loop the remote backends share. A backend
turns what went wrong into a :class:`Fault` (transient: retried) and raises anything else as is.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from refine._options import check_int, check_number
from refine.errors import BackendUnavailable, UsageError

__all__ = [
    "NO_RETRIES",
    "Fault",
    "Limiter",
    "MalformedReply",
    "Outcome",
    "RetryPolicy",
    "backoff",
    "call_with_retries",
    "retry_after_seconds",
    "token_count",
    "unavailable",
]

logger = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry a transient fault.

    ``attempts`` tries in all; before retry ``n`` (1-based) wait ``min(max_delay, base * 2**(n-1))``,
    less up to ``jitter`` of it at random (so clients that failed together do not retry together).
    A server's ``Retry-After`` is waited for when it is within ``max_delay``; a longer one ends
    the retries at once. ``deadline`` bounds the whole call, waits included, in seconds.
    """

    attempts: int = 4
    base: float = 0.5
    max_delay: float = 8.0
    jitter: float = 0.25
    deadline: float = 300.0

    def __post_init__(self) -> None:
        check_int("attempts", self.attempts, minimum=1)
        check_number("base", self.base, minimum=0.0)
        check_number("max_delay", self.max_delay, minimum=0.0)
        check_number("jitter", self.jitter, minimum=0.0)
        if self.jitter > 1:
            raise UsageError(f"jitter={self.jitter!r} must be <= 1 (a fraction of the delay)")
        check_number("deadline", self.deadline, minimum=0.0, infinite=True)


NO_RETRIES = RetryPolicy(attempts=1)


class Fault(Exception):
    """A transient failure of one attempt: ``reason`` for the message, ``fix`` for what to do, and the
    server's ``retry_after`` (seconds) or HTTP ``status`` when it gave them."""

    def __init__(self, reason: str, fix: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.fix = fix
        self.status = status
        self.retry_after = retry_after


def backoff(policy: RetryPolicy, retry: int, *, retry_after: float | None, draw: float) -> float | None:
    """Seconds to wait before retry number ``retry`` (1-based), or None to stop retrying.

    ``draw`` is a uniform number in [0, 1) that sets the jitter.
    """
    if retry >= policy.attempts:
        return None
    delay = min(policy.max_delay, policy.base * 2 ** (retry - 1)) * (1 - policy.jitter * draw)
    if retry_after is not None:
        if retry_after > policy.max_delay:
            return None  # the server asks for longer than we wait: say so now rather than later
        delay = max(delay, retry_after)
    return delay


def retry_after_seconds(value: str | None, *, now: float) -> float | None:
    """A ``Retry-After`` header (seconds, or an HTTP date) as seconds from ``now``; None if absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the retries came to when they ran out: the last fault, how many attempts, how long."""

    fault: Fault
    attempts: int
    seconds: float


class MalformedReply(ValueError):
    """A reply body that is not what the server's API returns (retried, as a fault of the server)."""


def token_count(body: Mapping[str, Any], key: str, *, where: str = "") -> int:
    """A token count from a reply body: 0 when absent or null (Ollama leaves ``prompt_eval_count``
    out when the whole prompt came from its cache), else a non-negative int or MalformedReply."""
    value = body.get(key)
    if value is None:
        return 0
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise MalformedReply(f"{where}{key}={value!r} is not a token count")
    return value


def unavailable(outcome: Outcome, *, backend: str, where: str, host: str, model: str) -> BackendUnavailable:
    """The error once a remote backend's retries ran out: what failed at ``where``, and the fix."""
    fault = outcome.fault
    return BackendUnavailable(
        f"{where} (model {model!r}): {fault.reason}, after {outcome.attempts} attempts "
        f"over {outcome.seconds:.1f}s; {fault.fix}",
        backend=backend,
        host=host,
        model=model,
        status=fault.status,
        attempts=outcome.attempts,
        seconds=outcome.seconds,
    )


def call_with_retries(
    attempt: Callable[[], T],
    policy: RetryPolicy,
    *,
    give_up: Callable[[Outcome], Exception],
    what: str,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    draw: Callable[[], float] = random.random,
) -> T:
    """``attempt()``, retried on :class:`Fault` as ``policy`` says; then ``give_up(outcome)`` is raised."""
    started = clock()
    retry = 0
    while True:
        try:
            return attempt()
        except Fault as fault:
            retry += 1
            delay = backoff(policy, retry, retry_after=fault.retry_after, draw=draw())
            elapsed = clock() - started
            if delay is None or elapsed + delay > policy.deadline:
                raise give_up(Outcome(fault, retry, elapsed)) from None
            logger.warning("%s: %s; retry %d of %d in %.2fs", what, fault.reason, retry, policy.attempts - 1, delay)
            sleep(delay)


class Limiter:
    """At most ``limit`` requests at once, shared by every thread that uses the backend."""

    def __init__(self, limit: int) -> None:
        self.limit = check_int("max_concurrency", limit, minimum=1)
        self._slots = threading.BoundedSemaphore(self.limit)

    def __enter__(self) -> None:
        self._slots.acquire()

    def __exit__(self, *exc: object) -> None:
        self._slots.release()
