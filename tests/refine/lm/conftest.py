"""Servers on loopback for the remote backends.

``fake_server``: a small HTTP server in a thread that speaks Ollama's API (``/api/chat``,
``/api/generate``, ``/api/tags``, ``/api/show``, streaming and not) and OpenAI's
(``/v1/chat/completions``, ``/v1/models``), answering from a function, with faults queued per
request (dropped connections, delays, 500s, 429s, garbage JSON) and an unknown model answered
as each server does. No Ollama can be installed here, and the PyPI proxy ``ollama-openai-proxy``
(0.7.0, tried in front of llama_cpp.server) does not honour ``format``: its console script fails
to import (``No module named 'src'``); run from a shim, it answers a JSON-schema ``format`` with
HTTP 422 ("Input should be 'json'"), drops ``format="json"`` (the reply came back as prose), and
fails ``/api/tags``. So this is the Ollama the tests use; backed by the embedded model
(:func:`model_reply`) it honours ``format`` with a real JSON-schema grammar (refine's LlamaCpp,
through guidance).

``llama_server``: llama-cpp-python's real OpenAI-compatible server on the embedded model,
started once per session and stopped by PID.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest


@dataclass
class Answer:
    text: str
    prompt_tokens: int = 7
    completion_tokens: int = 3
    finish_reason: str = "stop"


def scripted(text: str = "Paris is the capital of France [1].") -> Callable[[dict[str, Any]], Answer]:
    return lambda body: Answer(text, completion_tokens=len(text.split()))


@dataclass
class FakeServer:
    """What the server saw and what it will do: ``faults`` are taken one per request, in order."""

    reply: Callable[[dict[str, Any]], Answer] = field(default_factory=scripted)
    models: tuple[str, ...] = ("smollm2",)
    owned_by: str = "me"
    faults: list[str] = field(default_factory=list)
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    active: int = 0
    most_active: int = 0
    host: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def take_fault(self) -> str | None:
        with self.lock:
            return self.faults.pop(0) if self.faults else None


def _handler(server: FakeServer) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._serve({})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            self._serve(body)

        def _serve(self, body: dict[str, Any]) -> None:
            with server.lock:
                server.requests.append((self.path, body))
                server.active += 1
                server.most_active = max(server.most_active, server.active)
            try:
                if self._fault():
                    return
                self._route(body)
            finally:
                with server.lock:
                    server.active -= 1

        def _fault(self) -> bool:
            fault = server.take_fault()
            if fault is None:
                return False
            name, _, arg = fault.partition(":")
            if name == "delay":
                time.sleep(float(arg))
                return False
            if name == "drop":
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return True
            if name == "500":
                self._send(500, {"error": "out of memory"})
            elif name == "429":
                self._send(429, {"error": "busy"}, {"Retry-After": arg or "0"})
            elif name == "garbage":
                self._send(200, b"{this is not json")
            elif name == "wrong-shape":
                self._send(200, [1, 2, 3])
            else:
                raise AssertionError(f"unknown fault {fault!r}")
            return True

        def _route(self, body: dict[str, Any]) -> None:
            path = self.path
            if path == "/api/tags":
                stamp = "2026-01-01T00:00:00Z"
                models = [
                    {"name": m, "model": m, "modified_at": stamp, "size": 1, "digest": "0"} for m in server.models
                ]
                return self._send(200, {"models": models})
            if path == "/v1/models":
                data = [{"id": m, "object": "model", "owned_by": server.owned_by} for m in server.models]
                return self._send(200, {"object": "list", "data": data})
            model = body.get("model") or body.get("name")
            if model not in server.models:
                if path.startswith("/v1/"):
                    return self._send(404, {"error": {"message": f"The model `{model}` does not exist."}})
                return self._send(404, {"error": f'model "{model}" not found, try pulling it first'})
            if path == "/api/show":
                return self._send(
                    200, {"modelfile": "", "parameters": "", "details": {"family": "llama"}, "model_info": {}}
                )
            if path in ("/api/chat", "/api/generate"):
                return self._ollama(body, chat=path == "/api/chat")
            if path == "/v1/chat/completions":
                return self._openai(body)
            self._send(404, {"error": f"no route {path}"})

        def _ollama(self, body: dict[str, Any], *, chat: bool) -> None:
            answer = server.reply(body)

            def part(text: str) -> dict[str, Any]:
                return {"message": {"role": "assistant", "content": text}} if chat else {"response": text}

            final = {
                "model": body["model"],
                "created_at": "2026-01-01T00:00:00Z",
                "done": True,
                "done_reason": answer.finish_reason,
                "prompt_eval_count": answer.prompt_tokens,
                "eval_count": answer.completion_tokens,
            }
            if body.get("stream", True) is False:
                return self._send(200, {**final, **part(answer.text)})
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.end_headers()
            words = answer.text.split(" ")
            for i, word in enumerate(words):
                text = word + (" " if i < len(words) - 1 else "")
                chunk = {"model": body["model"], "created_at": "2026-01-01T00:00:00Z", "done": False, **part(text)}
                self.wfile.write(json.dumps(chunk).encode() + b"\n")
            self.wfile.write(json.dumps({**final, **part("")}).encode() + b"\n")

        def _openai(self, body: dict[str, Any]) -> None:
            answer = server.reply(body)
            self._send(
                200,
                {
                    "id": "chatcmpl-1",
                    "object": "chat.completion",
                    "model": body["model"],
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": answer.text},
                            "finish_reason": answer.finish_reason,
                        }
                    ],
                    "usage": {"prompt_tokens": answer.prompt_tokens, "completion_tokens": answer.completion_tokens},
                },
            )

    return Handler


class _Quiet(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out and left: the write fails, which is the point


@contextlib.contextmanager
def serving(server: FakeServer) -> Iterator[FakeServer]:
    """Serve ``server`` on a loopback port in a thread until the block ends (the benchmark uses it too)."""
    httpd = _Quiet(("127.0.0.1", 0), _handler(server))
    server.host = f"127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
def fake_server() -> Iterator[FakeServer]:
    with serving(FakeServer()) as server:
        yield server


def model_reply(model: Any) -> Callable[[dict[str, Any]], Answer]:
    """An Ollama (or OpenAI-compatible) server's behaviour on ``model``: messages, options and
    ``format`` (a JSON schema, enforced as a grammar, its keys kept in order as Ollama keeps them)
    to a reply."""
    from refine.constraints import JsonSchema
    from refine.lm import LMRequest, Message

    def reply(body: dict[str, Any]) -> Answer:
        options = body.get("options", {})
        schema = body.get("format")
        request = LMRequest(
            tuple(Message(m["role"], m["content"]) for m in body["messages"]),
            JsonSchema(json.dumps(schema)) if isinstance(schema, dict) else None,
            temperature=options.get("temperature", 0.0),
            seed=options.get("seed", 0),
            max_tokens=options.get("num_predict", 128),
            stop=tuple(options.get("stop", ())),
        )
        response = model.complete(request)
        return Answer(response.text, response.prompt_tokens, response.completion_tokens, response.finish_reason)

    return reply


@pytest.fixture
def model_server(fake_server: FakeServer, embedded_lm: Any) -> FakeServer:
    """The loopback Ollama server answering with the embedded model, ``format`` enforced as a grammar."""
    fake_server.reply = model_reply(embedded_lm)
    return fake_server


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def llama_server(embedded_lm, tmp_path_factory) -> Iterator[str]:
    """llama-cpp-python's OpenAI-compatible server on the embedded model; yields its API root."""
    pytest.importorskip("llama_cpp.server.app", reason="needs llama-cpp-python[server]: pip install -e '.[dev]'")
    from refine.lm import embedded_model_path

    port = free_port()
    command = [
        sys.executable, "-m", "refine.lm._amx",  # python -m llama_cpp.server, AMX-safe
        "--model", str(embedded_model_path()),
        "--host", "127.0.0.1", "--port", str(port),
        "--model_alias", "smollm2", "--chat_format", "chatml", "--n_ctx", "4096",
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "2"}
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    with open(log, "wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited: {log.read_text(errors='replace')[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/models", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("llama_cpp.server did not answer /v1/models within 120 s")
            time.sleep(0.3)
        yield base
    finally:
        os.kill(process.pid, 15)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, 9)
            process.wait(timeout=10)


@pytest.fixture(autouse=True)
def _close_backends(monkeypatch) -> Iterator[None]:
    """Every remote backend a test makes is closed after it, so no socket is left to the garbage collector."""
    from refine.lm import Ollama, OpenAICompatible

    opened: list[Any] = []
    for cls in (Ollama, OpenAICompatible):

        def init(self: Any, *args: Any, __original: Any = cls.__init__, **kwargs: Any) -> None:
            opened.append(self)
            __original(self, *args, **kwargs)

        monkeypatch.setattr(cls, "__init__", init)
    yield
    for lm in opened:
        with contextlib.suppress(AttributeError):  # one whose constructor raised
            lm.close()
