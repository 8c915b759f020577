"""guidance's llama.cpp engine, changed in how it evaluates tokens: reproducibly, and only the logits it needs.

guidance 0.3 asks llama.cpp for the logits of every prompt token, though sampling reads only the
last row: for each prompt token that is a projection onto the whole vocabulary (49k rows for
SmolLM2), which made prompt evaluation several times slower than the model itself.

llama.cpp gives the same values for a token whatever batch of two or more tokens it is evaluated
in, but slightly different ones when it is evaluated alone, as each generated token is. So every
position has a *kind*, fixed by the request (see :class:`refine.LlamaCpp`): evaluated alone (the
replies the model generated, quoted again in a retry) or within a batch (everything else). The KV
cache is reused only where both the token and its kind match, and the rest is evaluated the way
its kind says. A request's logits are then the same whatever ran before it, and a retry still
reuses the reply it quotes. This module imports guidance, so it is imported only by
:class:`refine.LlamaCpp` once guidance is known to be installed.
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Iterator, Sequence
from typing import Any

import llama_cpp
import numpy as np
from guidance._schema import SamplingParams
from guidance.chat import ChatTemplate
from guidance.models import Model
from guidance.models._engine import EngineInterpreter, LogitsOutput
from guidance.models._llama_cpp import LlamaCppEngine

from refine.lm._amx import without_extra_buffers
from refine.lm._interrupt import raise_if_interrupted

__all__ = ["BudgetSpent", "build_model"]

# Re-evaluating up to this many cached tokens of a batch run keeps the batch from being one token.
MIN_BATCH = 32
# The longest batch evaluated in one llama.cpp call. Ctrl-C is taken between calls, so this bounds
# how long an interrupt waits (128 tokens: about 0.15 s on two cores, at no measurable cost).
MAX_BATCH = 128


class BudgetSpent(Exception):  # a signal within a generation, not an error
    """The reply reached its token budget inside a grammar that had not ended: the tokens so far.

    guidance's own token limit does not bound every grammar (a nested rule with an open-ended list
    ran to the end of the context), so the engine stops the generation itself.
    """

    def __init__(self, token_ids: Sequence[int]) -> None:
        super().__init__(f"the reply reached its token budget after {len(token_ids)} tokens")
        self.token_ids = list(token_ids)


def _runs(alone: Sequence[bool], start: int) -> Iterator[tuple[int, int, bool]]:
    """The maximal runs ``(begin, end, alone)`` of equal kinds that cover ``start:``."""
    while start < len(alone):
        end = start + 1
        while end < len(alone) and alone[end] == alone[start]:
            end += 1
        yield start, end, alone[start]
        start = end


class _LastLogitsEngine(LlamaCppEngine):  # type: ignore[misc]
    _last: np.ndarray[Any, Any]
    # Prompt tokens found in the KV cache by the first evaluation since the caller reset it
    # (None: the next evaluation is a new request's prompt).
    prompt_cached: int | None = None
    # Set by the caller per request: which prompt positions are evaluated alone. Positions past
    # the prompt are generated tokens, always evaluated alone.
    prompt_alone: Sequence[bool] = ()
    reuse_decoded = False  # match cached tokens whatever their kind: cheaper, no longer reproducible
    # Set by the caller per request: the longest sequence (prompt and reply) a request may reach.
    token_budget: int | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._alone: list[bool] = []  # the kind of each cached token
        self._n_ctx = self.model_obj.n_ctx()  # a C call per token otherwise

    def get_logits(self, token_ids: list[int], include_all_uncached_tokens: bool = False) -> LogitsOutput:
        raise_if_interrupted()  # once per generated token
        if self.token_budget is not None and len(token_ids) >= self.token_budget:
            raise BudgetSpent(token_ids)
        result = self._logits(token_ids, include_all_uncached_tokens)
        if self.prompt_cached is None:
            self.prompt_cached = result["n_cached"]
        return result

    def _logits(self, token_ids: list[int], include_all_uncached_tokens: bool) -> LogitsOutput:
        if include_all_uncached_tokens or not token_ids or self._n_ctx <= len(token_ids):
            self._alone = []  # guidance evaluates its own way: nothing cached is reusable after it
            return super().get_logits(token_ids, include_all_uncached_tokens)  # guidance's own checks
        asked = len(token_ids)
        token_ids = self._canonical(token_ids)
        n = len(token_ids)
        plan = self.prompt_alone
        alone = [*plan[:n], *([True] * (n - len(plan)))]
        cached = self._reusable(token_ids, alone)
        if cached == n == len(self._cached_token_ids):
            return {"logits": self._last, "n_tokens": asked, "n_cached": min(cached, asked)}
        cached = min(cached, n - 1)  # the logits after the last token are not kept: evaluate it again
        if not alone[cached]:  # within a batch run: re-evaluate enough of it to make a batch
            begin = cached
            while begin > 0 and not alone[begin - 1]:
                begin -= 1
            end = next(_runs(alone, cached))[1]
            cached = max(begin, min(cached, end - MIN_BATCH))
        ctx = self.model_obj.ctx
        llama_cpp.llama_memory_seq_rm(llama_cpp.llama_get_memory(ctx), -1, cached, -1)
        # What the cache holds if an evaluation below fails or is interrupted.
        self._cached_token_ids, self._alone = token_ids[:cached], alone[:cached]
        for begin, end, single in _runs(alone, cached):
            if single:
                for i in range(begin, end):
                    self._decode(token_ids, i, i + 1, last=n - 1)
            else:  # near-equal chunks, so that none is a lone token
                chunks = math.ceil((end - begin) / min(self.model_obj.n_batch, MAX_BATCH))
                bounds = [begin + (end - begin) * j // chunks for j in range(chunks + 1)]
                for lo, hi in itertools.pairwise(bounds):
                    self._decode(token_ids, lo, hi, last=n - 1)
        row = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(ctx, -1), shape=(self._n_vocab,))
        self._cached_token_ids = list(token_ids)
        self._alone = alone
        self._last = row.copy()[None, :]
        self._cached_logits = self._last  # type: ignore[assignment]
        return {"logits": self._last, "n_tokens": asked, "n_cached": min(cached, asked)}

    def _canonical(self, token_ids: list[int]) -> list[int]:
        """``token_ids`` with the generated part tokenized as its text would be.

        The grammar forces tokens on their own: a citation's "]" before the "." the model then
        writes, where the text tokenizes as "].". Kept in the cache as text tokens, a reply is
        found there again when a retry quotes it.
        """
        start = len(self.prompt_alone) - 1  # guidance holds back the prompt's last token
        if start < 0 or len(token_ids) <= start + 1:
            return token_ids
        generated = token_ids[start:]
        if any(self.tokenizer.is_special_token(t) for t in generated):
            return token_ids
        data = self.tokenizer.decode(generated)
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:  # a character cut between tokens: tokenize it once complete
            return token_ids
        return token_ids[:start] + list(self.model_obj.tokenize(data, add_bos=False, special=True))

    def _reusable(self, token_ids: list[int], alone: Sequence[bool]) -> int:
        """How many leading tokens the KV cache holds as this request would compute them."""
        same: Iterator[bool] = map(operator.eq, token_ids, self._cached_token_ids)
        if not self.reuse_decoded:
            same = map(operator.and_, same, map(operator.eq, alone, self._alone))
        return sum(itertools.takewhile(operator.truth, same))

    def _decode(self, token_ids: list[int], begin: int, end: int, *, last: int) -> None:
        raise_if_interrupted()  # between the chunks of a long prompt
        batch = self._context.batch
        batch.n_tokens = end - begin
        for j, position in enumerate(range(begin, end)):
            batch.token[j] = token_ids[position]
            batch.pos[j] = position
            batch.seq_id[j][0] = 0
            batch.n_seq_id[j] = 1
            batch.logits[j] = position == last
        if (status := llama_cpp.llama_decode(self.model_obj.ctx, batch)) != 0:
            raise RuntimeError(f"llama_decode returned {status}")


def build_model(path: str, *, chat_template: type[ChatTemplate], **llama_kwargs: Any) -> Model:
    """A guidance model over the GGUF file at ``path``, without monitoring or token probabilities."""
    with without_extra_buffers():
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
