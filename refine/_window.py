"""What fits a backend's context window: its own ``n_ctx`` and tokenizer, read through wrappers.

A predictor's prompt is its system turn, its demos and its inputs; each retry appends the failed
reply (at most ``max_tokens``) and a feedback turn; the reply itself takes up to ``max_tokens``.
:func:`reserved` is what the reply and every retry need beside the prompt. Demos are what give
way when the prompt does not fit: dropped from the end, with a :class:`DemoTrimWarning`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from refine.lm import Message

__all__ = [
    "DemoTrimWarning",
    "TokenCounter",
    "backend_attribute",
    "counter_of",
    "message_tokens",
    "reserved",
    "window_of",
]

TokenCounter = Callable[[str], int]

# Chat-template tokens around each message (role markers, end of turn), counted generously.
PER_MESSAGE = 8
# What a feedback turn costs beyond its reply: the feedback lines and "Write the whole reply again".
FEEDBACK_TOKENS = 160
# Room kept free: tokenizers differ (tiktoken is not the backend's), and LlamaCpp keeps a slack too.
SLACK = 64


class DemoTrimWarning(UserWarning):
    """Demos were dropped so that a predictor's prompt fits the context window."""


def backend_attribute(lm: Any, name: str) -> Any:
    """``lm``'s attribute ``name``, or that of the backend it wraps (a CachedLM's ``lm``)."""
    found = getattr(lm, name, None)
    return found if found is not None else getattr(getattr(lm, "lm", None), name, None)


def window_of(lm: Any) -> int | None:
    """The backend's context window in tokens, when it says one (LlamaCpp does)."""
    n_ctx = backend_attribute(lm, "n_ctx")
    return n_ctx if isinstance(n_ctx, int) and not isinstance(n_ctx, bool) else None


def counter_of(lm: Any) -> TokenCounter | None:
    """The backend's own token counter, when it has one."""
    count = backend_attribute(lm, "count_tokens")
    return (lambda text: int(count(text))) if callable(count) else None


def message_tokens(messages: Iterable[Message], count: TokenCounter) -> int:
    return sum(count(m.content) + PER_MESSAGE for m in messages)


def reserved(max_tokens: int, max_backtracks: int) -> int:
    """Tokens the reply and every retry take beside the first prompt, with the slack."""
    return max_tokens + max_backtracks * (max_tokens + FEEDBACK_TOKENS + 2 * PER_MESSAGE) + SLACK
