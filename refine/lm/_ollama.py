"""Ollama, through its official client (the chat API).

The translation is pure and tested without a server: :func:`chat_args` turns a request into the
client's arguments (a JSON-schema constraint into ``format``, which Ollama enforces as a
grammar), :func:`parse_chat` turns a reply body into an :class:`LMResponse`. :class:`Ollama`
only sends them, retrying what is transient (see :mod:`refine.lm._retry`).
"""

from __future__ import annotations

import json
import os
import time
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from refine._options import check_number
from refine.constraints import Constraint, JsonSchema
from refine.errors import BackendError, BackendUnavailable, ModelNotServed, UsageError
from refine.lm._cache import ResponseCache, cached_complete, open_cache
from refine.lm._retry import (
    Fault,
    Limiter,
    MalformedReply,
    Outcome,
    RetryPolicy,
    call_with_retries,
    token_count,
    unavailable,
)
from refine.lm._support import BACKENDS, refusal, supports
from refine.lm._types import Closing, LMRequest, LMResponse

__all__ = ["DEFAULT_HOST", "Ollama", "chat_args", "ollama_host", "parse_chat"]

KIND = "ollama"
DEFAULT_HOST = "http://127.0.0.1:11434"
# Sampling settings each request sets; in ``options=`` they would be silently overridden.
_PER_REQUEST = ("temperature", "seed", "num_predict", "stop")
_INSTALL_HINT = "pip install 'refine[ollama]'"


def ollama_host(host: str | None) -> str:
    """``host`` as a base URL, as Ollama reads it: ``None`` is ``$OLLAMA_HOST`` or 127.0.0.1:11434; a missing
    scheme is http and a missing port 11434."""
    raw = host if host is not None else os.environ.get("OLLAMA_HOST") or DEFAULT_HOST
    if not isinstance(raw, str) or not raw.strip():
        raise UsageError(f"host={host!r} must be a URL such as 'http://127.0.0.1:11434' or 'gpu-box:11434'")
    raw = raw.strip()
    parsed = urllib.parse.urlsplit(raw if "://" in raw else f"http://{raw}")
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise UsageError(f"host={host!r} must be an http(s) URL such as 'http://127.0.0.1:11434'")
    try:
        port = parsed.port or (443 if parsed.scheme == "https" and ":" not in parsed.netloc else 11434)
    except ValueError:
        raise UsageError(f"host={host!r} has a port that is not a number; e.g. 'http://127.0.0.1:11434'") from None
    name = f"[{parsed.hostname}]" if ":" in parsed.hostname else parsed.hostname
    return f"{parsed.scheme}://{name}:{port}{parsed.path.rstrip('/')}"


def chat_args(
    request: LMRequest, *, model: str, options: Mapping[str, Any] | None = None, keep_alive: float | str | None = None
) -> dict[str, Any]:
    """The keyword arguments of ``ollama.Client.chat`` for ``request`` (non-streaming)."""
    merged: dict[str, Any] = dict(options or {})
    merged.update(temperature=request.temperature, seed=request.seed, num_predict=request.max_tokens)
    if request.stop:
        merged["stop"] = list(request.stop)
    args: dict[str, Any] = {
        "model": model,
        "messages": [{"role": m.role, "content": m.content} for m in request.messages],
        "stream": False,
        "options": merged,
    }
    if keep_alive is not None:
        args["keep_alive"] = keep_alive
    if request.constraint is not None:
        if not isinstance(request.constraint, JsonSchema):
            raise refusal(f"ollama:{model}", request.constraint, kind=KIND)
        args["format"] = request.constraint.as_dict
    return args


def parse_chat(body: object, *, name: str, seconds: float) -> LMResponse:
    """The :class:`LMResponse` in a chat reply ``body`` (a decoded JSON object); MalformedReply if there is none."""
    if not isinstance(body, Mapping):
        raise MalformedReply(f"the reply is {type(body).__name__}, not a JSON object")
    message = body.get("message")
    content = message.get("content") if isinstance(message, Mapping) else None
    if not isinstance(content, str):
        raise MalformedReply("the reply has no message.content string")
    if body.get("done") is False:
        raise MalformedReply("the reply is a partial (streamed) one: done=false")
    return LMResponse(
        text=content,
        prompt_tokens=token_count(body, "prompt_eval_count"),
        completion_tokens=token_count(body, "eval_count"),
        seconds=seconds,
        model=name,
        finish_reason="length" if body.get("done_reason") == "length" else "stop",
    )


def _import_ollama() -> Any:
    try:
        import ollama
    except ImportError as exc:
        raise UsageError(f"refine.Ollama needs the ollama client: {_INSTALL_HINT}") from exc
    return ollama


class Ollama(Closing):
    """A model served by Ollama, through the official ``ollama`` client.

    ``options`` are Ollama's model options (``num_ctx``, ``top_k``, ...) other than those each
    request sets (temperature, seed, num_predict, stop). A JSON-schema constraint goes in
    ``format``, which Ollama enforces; other constraints are refused by name. ``timeout`` bounds
    each attempt (seconds); transient faults (refused connections, timeouts, 429/5xx, garbage
    bodies) are retried as ``retry`` says, then raised as :class:`BackendUnavailable`. At most
    ``max_concurrency`` requests are in flight at once, whatever the number of threads.
    """

    def __init__(
        self,
        model: str,
        host: str | None = None,
        options: Mapping[str, Any] | None = None,
        keep_alive: float | str | None = None,
        *,
        timeout: float = 300.0,
        max_concurrency: int = 4,
        retry: RetryPolicy | None = None,
        cache: str | Path | ResponseCache | None = None,
    ) -> None:
        if not isinstance(model, str) or not model.strip():
            raise UsageError(f"model={model!r} must name an Ollama model, e.g. Ollama('llama3.2')")
        if options is not None and not isinstance(options, Mapping):
            raise UsageError(f"options={options!r} must be a dict of Ollama options, e.g. {{'num_ctx': 8192}}")
        clash = [key for key in _PER_REQUEST if options and key in options]
        if clash:
            raise UsageError(
                f"options={dict(options or {})!r} sets {', '.join(clash)}, which each request sets; "
                "leave them out (a Predict's temperature and a request's seed, max_tokens and stop apply)"
            )
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise UsageError(f"retry={retry!r} must be a refine.RetryPolicy, e.g. RetryPolicy(attempts=3)")
        self.model = model
        self.host = ollama_host(host)
        self.options = dict(options or {})
        self.keep_alive = keep_alive
        self.timeout = check_number("timeout", timeout, minimum=0.001)
        self.retry = retry or RetryPolicy()
        self._limiter = Limiter(max_concurrency)
        ollama = _import_ollama()
        self._ollama = ollama
        self._client = ollama.Client(host=self.host, timeout=self.timeout)
        self._cache = open_cache(cache)

    @property
    def name(self) -> str:
        return f"ollama:{self.model}@{self.host}"

    @property
    def cache_identity(self) -> str:
        return f"{self.name}?options={json.dumps(self.options, sort_keys=True)}"

    @property
    def seeded(self) -> bool:
        return BACKENDS[KIND].seeded

    @property
    def max_concurrency(self) -> int:
        return self._limiter.limit

    def supports(self, constraint: Constraint) -> bool:
        return supports(KIND, constraint)

    def complete(self, request: LMRequest) -> LMResponse:
        if request.constraint is not None and not self.supports(request.constraint):
            raise refusal(self.name, request.constraint, kind=KIND)
        args = chat_args(request, model=self.model, options=self.options, keep_alive=self.keep_alive)
        if self._cache is not None:
            return cached_complete(self._cache, self, request, lambda r: self._send(r, args))
        return self._send(request, args)

    def _send(self, request: LMRequest, args: dict[str, Any]) -> LMResponse:
        response = call_with_retries(
            lambda: self._attempt(args), self.retry, give_up=self._unavailable, what=f"Ollama {self.name}"
        )
        constraint = request.constraint
        if constraint is not None and response.finish_reason == "stop" and not constraint.matches(response.text):
            raise BackendError(
                f"Ollama at {self.host} returned a reply that breaks the JSON schema it was given "
                f"({response.text[:60]!r}); this server does not enforce `format`: upgrade Ollama (0.5 or later)",
                backend=KIND,
                host=self.host,
                model=self.model,
            )
        return response

    def _attempt(self, args: dict[str, Any]) -> LMResponse:
        import httpx  # comes with the ollama client, which is installed by now

        ollama = self._ollama
        with self._limiter:
            started = time.perf_counter()
            try:
                reply = self._client.chat(**args)
            except ConnectionError:
                raise Fault(
                    f"cannot connect to {self.host}",
                    "start Ollama with `ollama serve`, or pass the host it listens on (host=, --lm ollama:MODEL@HOST)",
                ) from None
            except httpx.TimeoutException:
                raise Fault(
                    f"no reply within timeout={self.timeout:g}s",
                    "pass a larger timeout=, or check that the server is not overloaded",
                ) from None
            except httpx.TransportError as exc:
                raise Fault(f"the connection failed ({type(exc).__name__}: {exc})", "check the server's log") from None
            except ollama.ResponseError as exc:
                raise self._refused(exc) from None
            except (ValueError, TypeError) as exc:  # the client's JSON decoding and pydantic model of the body
                raise Fault(
                    f"the reply is not an Ollama chat reply ({type(exc).__name__})",
                    f"check that {self.host} is an Ollama server",
                ) from None
            seconds = time.perf_counter() - started
        try:
            return parse_chat(reply.model_dump(), name=self.name, seconds=seconds)
        except MalformedReply as exc:
            raise Fault(
                f"the reply is not an Ollama chat reply: {exc}", f"check that {self.host} is an Ollama server"
            ) from None

    def _refused(self, exc: Any) -> Exception:
        status, error = int(getattr(exc, "status_code", -1)), str(getattr(exc, "error", exc))
        if status == 429 or status >= 500:
            return Fault(
                f"HTTP {status}: {error[:200]}",
                "check the server's log; it may be loading a model or out of memory",
                status=status,
            )
        if status == 404 and "not found" in error.lower():
            available = self._available()
            have = f"; it has {', '.join(available[:8])}" if available else ""
            return ModelNotServed(
                f"Ollama at {self.host} has no model {self.model!r}{have}; pull it with `ollama pull {self.model}` "
                "or name one it has (`ollama list`)",
                backend=KIND,
                host=self.host,
                model=self.model,
                available=available,
            )
        return BackendError(
            f"Ollama at {self.host} refused the request for model {self.model!r}: HTTP {status}: {error[:300]}",
            backend=KIND,
            host=self.host,
            model=self.model,
            status=status,
        )

    def _available(self) -> tuple[str, ...]:
        """The models the server has, for a message; empty if it cannot say."""
        import httpx

        try:
            listing = self._client.list()
        except (ConnectionError, httpx.HTTPError, self._ollama.ResponseError, ValueError, TypeError):
            return ()
        return tuple(str(m.model) for m in getattr(listing, "models", ()) if getattr(m, "model", None))

    def _unavailable(self, outcome: Outcome) -> BackendUnavailable:
        return unavailable(outcome, backend=KIND, where=f"Ollama at {self.host}", host=self.host, model=self.model)

    def close(self) -> None:
        self._client.close()
        if self._cache is not None:
            self._cache.close()

    def __repr__(self) -> str:
        return f"Ollama({self.model!r}, host={self.host!r})"
