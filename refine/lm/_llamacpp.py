"""The in-process backend: llama.cpp through guidance, which enforces constraints while decoding."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from refine._options import check_bool, check_int
from refine.constraints import Constraint
from refine.errors import ContextOverflow, LMError, ModelNotFound
from refine.lm._cache import ResponseCache, cached_complete, open_cache
from refine.lm._guidance import CAPTURE, grammar_for
from refine.lm._interrupt import deferred_interrupts, raise_if_interrupted
from refine.lm._model_file import embedded_model_path
from refine.lm._support import BACKENDS, refusal, supports
from refine.lm._types import Closing, LMRequest, LMResponse

__all__ = ["LlamaCpp"]

logger = logging.getLogger(__name__)
_LOCAL_HINT = "pip install 'refine[local]'"
# Tokens kept free beyond max_tokens: guidance heals the prompt's last token and may add a few.
_CONTEXT_SLACK = 8


@contextlib.contextmanager
def _seeded(seed: int) -> Iterator[None]:
    """guidance samples with numpy's global RNG: seed it for this call only, then restore it."""
    import numpy as np

    state = np.random.get_state()
    np.random.seed(seed % 2**32)
    try:
        yield
    finally:
        np.random.set_state(state)


class LlamaCpp(Closing):
    """A GGUF model run in this process; by default the embedded SmolLM2-135M-Instruct.

    Calls are serialised by a lock (one llama.cpp context). The context keeps the tokens of the
    previous call, so a request that extends the previous prompt (a retry that quotes the reply
    and appends feedback) only evaluates the new tokens.

    llama.cpp computes slightly different values for a token decoded on its own, as a generated
    token is, than for the same token evaluated within a prompt. So by default
    (``reproducible=True``) every token of a request is evaluated one way, fixed by the request:
    the replies it quotes as ``Message(..., generated=True)`` token by token, as they were
    generated, and the rest in batches. A seeded request then gives the same reply whatever ran
    before it, threads sharing this backend get the same results as a sequential run, and a retry
    right after its first attempt still reuses the reply it quotes. ``reproducible=False`` reuses
    any cached prefix and evaluates every prompt in batches: a quoted reply that is not in the
    cache costs less, but a sampled reply can depend on call order.

    ``cache`` (a file path or a :class:`refine.ResponseCache`) keeps replies on disk, as
    :class:`refine.CachedLM` does. ``close()`` frees the model; a closed backend refuses calls.
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        n_ctx: int = 8192,
        n_threads: int | None = None,
        reproducible: bool = True,
        cache: str | Path | ResponseCache | None = None,
    ) -> None:
        path = Path(model_path) if model_path is not None else embedded_model_path()
        if path.is_dir():
            found = sorted(f.name for f in path.glob("*.gguf"))
            holds = f"it holds {', '.join(found[:3])}" if found else "it holds no .gguf file"
            raise ModelNotFound(f"model path {str(path)!r} is a folder, not a model file ({holds}); pass a .gguf file")
        if not path.is_file():
            raise ModelNotFound(f"model file {str(path)!r} does not exist; pass the path of a .gguf file")
        n_ctx = check_int("n_ctx", n_ctx, minimum=256)
        if n_threads is not None:
            n_threads = check_int("n_threads", n_threads, minimum=1)
        reproducible = check_bool("reproducible", reproducible)
        self._cache = open_cache(cache)
        self._closed = False
        with deferred_interrupts():  # native modules load here: Ctrl-C is taken once they have
            self._load(path, n_ctx=n_ctx, n_threads=n_threads, reproducible=reproducible)

    def _load(self, path: Path, *, n_ctx: int, n_threads: int | None, reproducible: bool) -> None:
        try:
            from guidance.chat import ChatMLTemplate

            from refine.lm._engine import build_model
        except ImportError as exc:
            raise ModelNotFound(f"the in-process backend needs guidance and llama-cpp-python: {_LOCAL_HINT}") from exc
        raise_if_interrupted()  # between the imports (seconds, with torch installed) and the model
        self._path = path
        self._lock = threading.Lock()
        started = time.perf_counter()
        with warnings.catch_warnings():
            # llguidance still calls llama.cpp functions that llama-cpp-python marks deprecated.
            warnings.filterwarnings("ignore", message=r"llama_\w+ is deprecated", category=DeprecationWarning)
            try:
                self._base = build_model(
                    str(path),
                    # SmolLM2 speaks ChatML; naming it keeps guidance from guessing from the GGUF's jinja.
                    chat_template=ChatMLTemplate,
                    n_ctx=n_ctx,
                    n_threads=n_threads or max(1, os.cpu_count() or 1),
                    verbose=False,
                )
            except ValueError as exc:  # llama.cpp reports an unreadable model file as ValueError
                raise ModelNotFound(f"cannot load model file {str(path)!r}: {exc}; is it a GGUF file?") from exc
        engine = self._base._interpreter.engine  # type: ignore[attr-defined]
        self._llama: Any = engine.model_obj
        self._tokenizer = engine.tokenizer
        self._engine = engine
        engine.reuse_decoded = not reproducible
        self._reproducible = reproducible
        self._n_ctx = n_ctx
        self._template = ChatMLTemplate()
        logger.info("loaded %s in %.2fs", path.name, time.perf_counter() - started)

    @classmethod
    def embedded(cls) -> LlamaCpp:
        """The embedded default model (SmolLM2-135M-Instruct)."""
        return cls()

    @property
    def name(self) -> str:
        return f"llama-cpp:{self._path.name}"

    @property
    def n_ctx(self) -> int:
        """The context window in tokens: the prompt and the reply together fit in it."""
        return self._n_ctx

    @property
    def cache_identity(self) -> str:
        return f"{self.name}?n_ctx={self._n_ctx}&reproducible={self._reproducible}"

    @property
    def seeded(self) -> bool:
        # Only reproducible mode makes a seeded sample independent of the calls before it.
        return BACKENDS["llamacpp"].seeded and self._reproducible

    def supports(self, constraint: Constraint) -> bool:
        return supports("llamacpp", constraint)

    def close(self) -> None:
        """Free the model (and close the response cache this backend opened); later calls raise LMError."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._llama.close()
        if self._cache is not None:
            self._cache.close()

    def count_tokens(self, text: str) -> int:
        return len(self._tokenize(text))

    def _prompt(self, request: LMRequest) -> tuple[str, list[int], list[bool]]:
        """The prompt as the model sees it, its tokens, and which tokens are evaluated alone.

        Alone: each quoted generated reply, with the newline that opens its turn, and the prompt's
        last token. guidance holds that last token back and decodes it with the reply (it may heal
        it into a longer token), so this is how the reply's tokens were computed when generated.
        """
        template = self._template
        text, spans = "", []
        for message in request.messages:
            text += template.get_role_start(message.role)
            start = len(text)
            text += message.content + template.get_role_end(message.role)
            if message.generated and self._reproducible:
                spans.append((start, start + len(message.content)))
        text += template.get_role_start("assistant")
        tokens = self._tokenize(text)
        alone = [False] * len(tokens)
        for start, end in spans:
            head, body = self._tokenize(text[:start]), self._tokenize(text[:end])
            # The turn's boundaries are special tokens, so its text tokenizes on its own; check it.
            if head and tokens[: len(body)] == body and body[: len(head)] == head:
                alone[len(head) - 1 : len(body)] = [True] * (len(body) - len(head) + 1)
        if alone:
            alone[-1] = True
        return text, tokens, alone

    def _reply_text(self, prompt: str, token_ids: list[int], prompt_tokens: int) -> str:
        """The reply within ``token_ids``, a prompt followed by what was generated so far."""
        whole = self._llama.detokenize(token_ids, special=True).decode(errors="replace")
        if whole.startswith(prompt):
            return whole[len(prompt) :]
        return self._llama.detokenize(token_ids[prompt_tokens:], special=True).decode(errors="replace")

    def _tokenize(self, text: str) -> list[int]:
        return list(self._llama.tokenize(text.encode(), add_bos=False, special=True))

    def complete(self, request: LMRequest) -> LMResponse:
        if request.constraint is not None and not self.supports(request.constraint):
            raise refusal(self.name, request.constraint, kind="llamacpp")
        if self._cache is not None:
            return cached_complete(self._cache, self, request, self._complete)
        return self._complete(request)

    def _complete(self, request: LMRequest) -> LMResponse:
        from guidance.models._engine._interpreter import text_to_grammar

        from refine.lm._engine import BudgetSpent

        grammar = grammar_for(
            request.constraint, max_tokens=request.max_tokens, temperature=request.temperature, stop=request.stop
        )
        with self._lock:
            if self._closed:
                raise LMError(f"backend {self.name!r} was closed; make a new refine.LlamaCpp to go on")
            started = time.perf_counter()
            prompt_text, tokens, alone = self._prompt(request)
            prompt_tokens = len(tokens)
            if prompt_tokens + request.max_tokens + _CONTEXT_SLACK > self._n_ctx:
                raise ContextOverflow(
                    f"prompt of {prompt_tokens} tokens plus max_tokens={request.max_tokens} exceeds the "
                    f"context of {self._n_ctx} tokens; pass fewer or shorter passages, or a larger n_ctx",
                    prompt_tokens=prompt_tokens,
                    max_tokens=request.max_tokens,
                    n_ctx=self._n_ctx,
                )
            # The prompt goes in as one text: guidance then evaluates it in one pass that reuses the
            # KV cache of the previous call's common prefix (fed role by role, it trims the cache at
            # every role boundary and a repeated prompt is evaluated again from the start).
            prompt = text_to_grammar(self._tokenizer, prompt_text)
            self._engine.prompt_cached = None
            self._engine.prompt_alone = alone
            # One token of slack: guidance ends a reply at max_tokens itself wherever it can.
            self._engine.token_budget = prompt_tokens + request.max_tokens + 1
            spent = False
            try:
                with _seeded(request.seed), deferred_interrupts():
                    state = self._base + (prompt + grammar)
                text = str(state[CAPTURE]) if CAPTURE in state else ""
            except BudgetSpent as stopped:
                spent = True
                text = self._reply_text(prompt_text, stopped.token_ids, prompt_tokens)
            finally:
                self._engine.token_budget = None
            seconds = time.perf_counter() - started
            cached = min(self._engine.prompt_cached or 0, prompt_tokens)
        completion_tokens = self.count_tokens(text)
        return LMResponse(
            text=text,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            seconds=seconds,
            model=self.name,
            finish_reason="length" if spent or completion_tokens >= request.max_tokens else "stop",
            cached_tokens=cached,
        )
