"""What LM calls cost (:class:`Usage`), and :class:`History`, the mixin of everything that carries
the attempts it took (a prediction, and the errors an exhausted run raises).

A leaf: it imports nothing of refine. The types it reads (a response's token counts, an
attempt's response) are named by Protocols, so the error tree at the bottom of the package does
not depend on the backends or the values that sit above it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

__all__ = ["Costed", "History", "Usage"]


class Costed(Protocol):
    """What a response says about its cost (:class:`refine.LMResponse` is one)."""

    @property
    def prompt_tokens(self) -> int: ...
    @property
    def completion_tokens(self) -> int: ...
    @property
    def seconds(self) -> float: ...
    @property
    def cached_tokens(self) -> int: ...
    @property
    def cache(self) -> str | None: ...


class _Answered(Protocol):
    @property
    def response(self) -> Costed: ...


@dataclass(frozen=True, slots=True)
class Usage:
    """LM calls and their cost; ``cached_tokens`` of the prompt tokens came from a prefix cache.

    ``cache_hits`` of the ``calls`` were served by a response cache (:class:`refine.CachedLM`)
    and ``cache_misses`` went to the backend and were stored; calls made without a response
    cache are neither.
    """

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    cached_tokens: int = 0
    cache_hits: int = 0
    cache_misses: int = 0

    @classmethod
    def of(cls, responses: Iterable[Costed]) -> Usage:
        total = cls()
        for r in responses:
            hit, miss = int(r.cache == "hit"), int(r.cache == "miss")
            total = total + cls(1, r.prompt_tokens, r.completion_tokens, r.seconds, r.cached_tokens, hit, miss)
        return total

    @property
    def cache_hit_rate(self) -> float | None:
        """Hits over the calls that went through a response cache; None when none did."""
        looked_up = self.cache_hits + self.cache_misses
        return self.cache_hits / looked_up if looked_up else None

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.calls + other.calls,
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.seconds + other.seconds,
            self.cached_tokens + other.cached_tokens,
            self.cache_hits + other.cache_hits,
            self.cache_misses + other.cache_misses,
        )


class History:
    """What a result (or an error) with an ``attempts`` history reports: the LM usage of all of them."""

    __slots__ = ()
    attempts: tuple[_Answered, ...]

    @property
    def usage(self) -> Usage:
        return Usage.of(a.response for a in self.attempts)
