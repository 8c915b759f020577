"""guidance's llama.cpp engine, changed in one place: it computes only the logits it is asked for.

guidance 0.3 asks llama.cpp for the logits of every prompt token, though sampling reads only the
last row: for each prompt token that is a projection onto the whole vocabulary (49k rows for
SmolLM2), which made prompt evaluation several times slower than the model itself. This module
imports guidance, so it is imported only by :class:`refine.LlamaCpp` once guidance is known to be
installed.
"""

from __future__ import annotations

import operator
from itertools import takewhile
from typing import Any

import llama_cpp
import numpy as np
from guidance._schema import SamplingParams
from guidance.chat import ChatTemplate
from guidance.models import Model
from guidance.models._engine import EngineInterpreter, LogitsOutput
from guidance.models._llama_cpp import LlamaCppEngine

__all__ = ["build_model"]

# A new prompt evaluates at least this many tokens, so it never takes llama.cpp's one-token path.
MIN_PROMPT_BATCH = 32


class _LastLogitsEngine(LlamaCppEngine):  # type: ignore[misc]
    _last: np.ndarray[Any, Any]
    # Prompt tokens found in the KV cache by the first evaluation since the caller reset it
    # (None: the next evaluation is a new request's prompt).
    prompt_cached: int | None = None
    # Leading KV tokens computed by prompt evaluations. Tokens decoded one at a time get slightly
    # different KV values than the same tokens evaluated in a batch, so a new prompt reuses only
    # these: its logits are then the same whatever ran before it (and sampling reproducible).
    _batched: int = 0
    reuse_decoded = False  # reuse them anyway: cheaper retries, results that depend on what ran before

    def get_logits(self, token_ids: list[int], include_all_uncached_tokens: bool = False) -> LogitsOutput:
        result = self._logits(token_ids, include_all_uncached_tokens)
        if self.prompt_cached is None:
            self.prompt_cached = result["n_cached"]
        return result

    def _logits(self, token_ids: list[int], include_all_uncached_tokens: bool) -> LogitsOutput:
        if include_all_uncached_tokens or not token_ids or self.model_obj.n_ctx() <= len(token_ids):
            return super().get_logits(token_ids, include_all_uncached_tokens)  # guidance's own checks
        cached = sum(takewhile(operator.truth, map(operator.eq, token_ids, self._cached_token_ids)))
        prompt = self.prompt_cached is None
        if prompt and not self.reuse_decoded:
            cached = max(0, min(cached, self._batched, len(token_ids) - MIN_PROMPT_BATCH))
        if cached == len(token_ids):
            if cached == len(self._cached_token_ids):
                return {"logits": self._last, "n_tokens": len(token_ids), "n_cached": cached}
            cached -= 1  # the logits after the last token are not kept: evaluate it again
        ctx = self.model_obj.ctx
        llama_cpp.llama_memory_seq_rm(llama_cpp.llama_get_memory(ctx), -1, cached, -1)
        batch, size, last = self._context.batch, self.model_obj.n_batch, len(token_ids) - 1
        for start in range(cached, len(token_ids), size):
            n = min(start + size, len(token_ids)) - start
            batch.n_tokens = n
            for j in range(n):
                batch.token[j] = token_ids[start + j]
                batch.pos[j] = start + j
                batch.seq_id[j][0] = 0
                batch.n_seq_id[j] = 1
                batch.logits[j] = start + j == last
            if (status := llama_cpp.llama_decode(ctx, batch)) != 0:
                raise RuntimeError(f"llama_decode returned {status}")
        row = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(ctx, -1), shape=(self._n_vocab,))
        self._cached_token_ids = list(token_ids)
        self._batched = len(token_ids) if prompt else min(self._batched, cached)
        self._last = row.copy()[None, :]
        self._cached_logits = self._last  # type: ignore[assignment]
        return {"logits": self._last, "n_tokens": len(token_ids), "n_cached": cached}


def build_model(path: str, *, chat_template: type[ChatTemplate], **llama_kwargs: Any) -> Model:
    """A guidance model over the GGUF file at ``path``, without monitoring or token probabilities."""
    engine = _LastLogitsEngine(
        path,
        chat_template=chat_template,
        enable_monitoring=False,
        enable_token_probabilities=False,
        enable_top_k=False,
        **llama_kwargs,
    )
    sampling = SamplingParams()  # type: ignore[typeddict-item]  # guidance's own default: empty
    return Model(interpreter=EngineInterpreter(engine), sampling_params=sampling, echo=False)
