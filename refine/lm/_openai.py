"""OpenAI-compatible servers (llama-cpp-python's, vLLM, OpenAI itself) over httpx.

Servers agree on chat completions and differ on structured output: llama-cpp-python's server
(0.3.x) enforces ``{"type": "json_object", "schema": ...}`` and rejects OpenAI's
``{"type": "json_schema", ...}``; vLLM and OpenAI take ``json_schema``. The *flavour* says which
(``"auto"`` asks ``GET /models`` once). Translation is pure (:func:`chat_payload`,
:func:`parse_completion`, :func:`detect_flavour`, :func:`error_message`); the backend only
sends bytes and retries what is transient.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

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
    retry_after_seconds,
    token_count,
    unavailable,
)
from refine.lm._support import BACKENDS, refusal, supports
from refine.lm._types import Closing, LMRequest, LMResponse

if TYPE_CHECKING:
    import httpx

__all__ = [
    "Flavour",
    "OpenAICompatible",
    "base_url_of",
    "chat_payload",
    "detect_flavour",
    "error_message",
    "parse_completion",
    "response_format",
]

Flavour = Literal["llama-cpp", "vllm", "openai", "plain"]
FLAVOURS: tuple[str, ...] = get_args(Flavour)
KIND = "openai"


def base_url_of(url: str) -> str:
    """``url`` as the API root: no trailing slash, and ``/v1`` added to a bare host (``http://h:8000``)."""
    if not isinstance(url, str) or not url.strip():
        raise UsageError(f"base_url={url!r} must be the server's API URL, e.g. 'http://127.0.0.1:8000/v1'")
    parsed = urllib.parse.urlsplit(url.strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise UsageError(f"base_url={url!r} must be an http(s) URL, e.g. 'http://127.0.0.1:8000/v1'")
    path = parsed.path.rstrip("/") or "/v1"
    return urllib.parse.urlunsplit((parsed.scheme, parsed.netloc, path, "", ""))


def response_format(schema: Mapping[str, Any], flavour: Flavour) -> dict[str, Any]:
    """The ``response_format`` that makes a server of ``flavour`` enforce ``schema``."""
    if flavour == "llama-cpp":
        return {"type": "json_object", "schema": dict(schema)}
    if flavour in ("vllm", "openai"):
        return {"type": "json_schema", "json_schema": {"name": "reply", "schema": dict(schema), "strict": True}}
    raise UsageError(f"flavour={flavour!r} enforces no JSON schema; use flavour='llama-cpp', 'vllm' or 'openai'")


def chat_payload(request: LMRequest, *, model: str, flavour: Flavour) -> dict[str, Any]:
    """The JSON body of ``POST /chat/completions`` for ``request``."""
    body: dict[str, Any] = {
        "model": model,
        "messages": [{"role": m.role, "content": m.content} for m in request.messages],
        "max_tokens": request.max_tokens,
        "temperature": request.temperature,
        "seed": request.seed,
        "stream": False,
    }
    if request.stop:
        body["stop"] = list(request.stop)
    if request.constraint is not None:
        if not isinstance(request.constraint, JsonSchema) or not supports(f"{KIND}:{flavour}", request.constraint):
            raise refusal(f"openai:{model}", request.constraint, kind=f"{KIND}:{flavour}")
        body["response_format"] = response_format(request.constraint.as_dict, flavour)
    return body


def parse_completion(body: object, *, name: str, seconds: float) -> LMResponse:
    """The :class:`LMResponse` in a chat-completion ``body`` (decoded JSON); MalformedReply if there is none."""
    if not isinstance(body, Mapping):
        raise MalformedReply(f"the body is {type(body).__name__}, not a JSON object")
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], Mapping):
        raise MalformedReply("the body has no choices")
    message = choices[0].get("message")
    content = message.get("content") if isinstance(message, Mapping) else None
    if not isinstance(content, str):
        raise MalformedReply("choices[0].message.content is not a string")
    usage = body.get("usage") or {}
    if not isinstance(usage, Mapping):
        raise MalformedReply("usage is not an object")
    details = usage.get("prompt_tokens_details") or {}
    cached = 0
    if isinstance(details, Mapping):
        cached = token_count(details, "cached_tokens", where="usage.prompt_tokens_details.")
    return LMResponse(
        text=content,
        prompt_tokens=token_count(usage, "prompt_tokens", where="usage."),
        completion_tokens=token_count(usage, "completion_tokens", where="usage."),
        seconds=seconds,
        model=name,
        finish_reason="length" if choices[0].get("finish_reason") == "length" else "stop",
        cached_tokens=cached,
    )


def detect_flavour(models: object) -> Flavour:
    """The flavour of the server whose ``GET /models`` body is ``models``: by who owns its models."""
    data = models.get("data") if isinstance(models, Mapping) else None
    owners = {str(m.get("owned_by", "")).lower() for m in data or () if isinstance(m, Mapping)}
    if "vllm" in owners:
        return "vllm"
    if owners & {"openai", "system", "openai-internal"}:
        return "openai"
    if "me" in owners or "llamacpp" in owners or "llama-cpp" in owners:
        return "llama-cpp"  # llama-cpp-python's server says "me"
    return "plain"


def error_message(text: str) -> str:
    """The message in an error body (``{"error": {"message": ...}}``, ``{"error": ...}``, or raw text), shortened."""
    try:
        body = json.loads(text)
    except ValueError:
        return text.strip()[:300]
    error = body.get("error", body) if isinstance(body, Mapping) else body
    if isinstance(error, Mapping):
        error = error.get("message", error)
    return str(error).strip()[:300]


class OpenAICompatible(Closing):
    """A model behind an OpenAI-compatible chat-completions API (vLLM, llama-cpp-python's server, ...).

    ``base_url`` is the API root (``http://127.0.0.1:8000/v1``; ``/v1`` is added to a bare
    host). ``flavour`` says how the server takes a JSON schema: ``"llama-cpp"``, ``"vllm"``,
    ``"openai"``, ``"plain"`` (it enforces none), or ``"auto"`` (asked of ``GET /models`` once,
    when first needed). A reply to a constrained request that breaks its constraint is an error,
    never returned. Faults, concurrency and ``cache`` as for :class:`refine.Ollama`.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        *,
        timeout: float = 300.0,
        flavour: Flavour | Literal["auto"] = "auto",
        max_concurrency: int = 4,
        retry: RetryPolicy | None = None,
        cache: str | Path | ResponseCache | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not isinstance(model, str) or not model.strip():
            raise UsageError(f"model={model!r} must name the served model, e.g. OpenAICompatible(url, 'qwen2.5-7b')")
        if flavour != "auto" and flavour not in FLAVOURS:
            raise UsageError(f"flavour={flavour!r} must be one of 'auto', {', '.join(map(repr, FLAVOURS))}")
        if api_key is not None and (not isinstance(api_key, str) or not api_key):
            raise UsageError("api_key must be a non-empty str, or None for a server without keys")
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise UsageError(f"retry={retry!r} must be a refine.RetryPolicy, e.g. RetryPolicy(attempts=3)")
        self.base_url = base_url_of(base_url)
        self.model = model
        self.timeout = check_number("timeout", timeout, minimum=0.001)
        self.retry = retry or RetryPolicy()
        self._flavour: Flavour | None = None if flavour == "auto" else flavour
        self._flavour_lock = threading.Lock()
        self._limiter = Limiter(max_concurrency)
        import httpx  # imported when a backend is built, so `import refine` stays cheap (issue 17)

        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(
            base_url=self.base_url + "/",
            headers=headers,
            timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0)),
            limits=httpx.Limits(max_connections=self._limiter.limit, max_keepalive_connections=self._limiter.limit),
            transport=transport,
        )
        self._cache = open_cache(cache)

    @property
    def name(self) -> str:
        return f"openai:{self.model}@{self.base_url}"

    @property
    def flavour(self) -> Flavour:
        """The server's flavour (asked of the server on first use when it was ``"auto"``)."""
        if self._flavour is None:
            with self._flavour_lock:
                if self._flavour is None:
                    self._flavour = detect_flavour(self._get_json("models"))
        return self._flavour

    @property
    def cache_identity(self) -> str:
        return f"{self.name}?flavour={self.flavour}"

    @property
    def seeded(self) -> bool:
        return BACKENDS[f"{KIND}:{self.flavour}"].seeded

    @property
    def max_concurrency(self) -> int:
        return self._limiter.limit

    def supports(self, constraint: Constraint) -> bool:
        return supports(f"{KIND}:{self.flavour}", constraint)

    def complete(self, request: LMRequest) -> LMResponse:
        if request.constraint is not None and not self.supports(request.constraint):
            raise refusal(self.name, request.constraint, kind=f"{KIND}:{self.flavour}")
        payload = chat_payload(request, model=self.model, flavour=self.flavour)
        if self._cache is not None:
            return cached_complete(self._cache, self, request, lambda r: self._send(r, payload))
        return self._send(request, payload)

    def _send(self, request: LMRequest, payload: dict[str, Any]) -> LMResponse:
        def attempt() -> LMResponse:
            started = time.perf_counter()
            body = self._post_json("chat/completions", payload)
            try:
                return parse_completion(body, name=self.name, seconds=time.perf_counter() - started)
            except MalformedReply as exc:
                raise Fault(f"the reply is not a chat completion: {exc}", self._check_url) from None

        response = call_with_retries(attempt, self.retry, give_up=self._unavailable, what=self.name)
        constraint = request.constraint
        if constraint is not None and response.finish_reason == "stop" and not constraint.matches(response.text):
            raise BackendError(
                f"{self.base_url} returned a reply that breaks the JSON schema it was asked to enforce "
                f"({response.text[:60]!r}), so it does not enforce response_format as flavour={self.flavour!r} "
                "does; name the right flavour, or flavour='plain' to validate replies after decoding",
                backend=KIND,
                host=self.base_url,
                model=self.model,
            )
        return response

    @property
    def _check_url(self) -> str:
        return f"check that {self.base_url} is the API root of an OpenAI-compatible server (it ends in /v1)"

    def _post_json(self, path: str, payload: Mapping[str, Any]) -> object:
        return self._request("POST", path, payload)

    def _get_json(self, path: str) -> object:
        return call_with_retries(
            lambda: self._request("GET", path, None), self.retry, give_up=self._unavailable, what=self.name
        )

    def _request(self, method: str, path: str, payload: Mapping[str, Any] | None) -> object:
        import httpx  # loaded already: __init__ built the client with it

        with self._limiter:
            try:
                reply = self._client.request(method, path, json=payload)
            except httpx.ConnectError as exc:
                raise Fault(
                    f"cannot connect to {self.base_url} ({exc})", f"start the server, or {self._check_url}"
                ) from None
            except httpx.TimeoutException:
                raise Fault(
                    f"no reply within timeout={self.timeout:g}s",
                    "pass a larger timeout=, or check that the server is not overloaded",
                ) from None
            except httpx.TransportError as exc:
                raise Fault(f"the connection failed ({type(exc).__name__}: {exc})", "check the server's log") from None
        if reply.status_code >= 400:
            raise self._refused(reply)
        try:
            return reply.json()
        except ValueError:
            raise Fault(f"the reply is not JSON ({reply.text[:60]!r})", self._check_url) from None

    def _refused(self, reply: httpx.Response) -> Exception:
        status, message = reply.status_code, error_message(reply.text)
        if status == 429 or status >= 500:
            wait = retry_after_seconds(reply.headers.get("retry-after"), now=time.time())
            return Fault(
                f"HTTP {status}: {message}",
                "check the server's log, or lower max_concurrency",
                status=status,
                retry_after=wait,
            )
        if status == 404 and "model" in message.lower():
            return ModelNotServed(
                f"{self.base_url} does not serve model {self.model!r} ({message}); "
                f"GET {self.base_url}/models lists the models it serves",
                backend=KIND,
                host=self.base_url,
                model=self.model,
            )
        fix = {
            401: "pass a valid api_key=",
            403: "pass an api_key= allowed to use this model",
            404: self._check_url,
        }.get(status, "check the request options (max_tokens, the JSON schema) against the server's limits")
        return BackendError(
            f"{self.base_url} refused the request for model {self.model!r}: HTTP {status}: {message}; {fix}",
            backend=KIND,
            host=self.base_url,
            model=self.model,
            status=status,
        )

    def _unavailable(self, outcome: Outcome) -> BackendUnavailable:
        return unavailable(outcome, backend=KIND, where=self.base_url, host=self.base_url, model=self.model)

    def close(self) -> None:
        self._client.close()
        if self._cache is not None:
            self._cache.close()

    def __repr__(self) -> str:
        return f"OpenAICompatible({self.base_url!r}, {self.model!r})"
