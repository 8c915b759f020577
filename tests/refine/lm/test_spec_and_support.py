"""--lm specs, the default backend built once under threads, and the one table of what backends enforce."""

from __future__ import annotations

import threading
import time

import pytest

from refine.constraints import Choice, JsonSchema, Quote, Regex, Seq, Substring
from refine.errors import UnsupportedConstraint, UsageError
from refine.lm import BACKENDS, LMSpec, Ollama, OpenAICompatible, ScriptedLM, from_spec, parse_spec
from refine.lm._guidance import SUPPORTED
from refine.lm._support import ALL_CONSTRAINTS, enforced_by, refusal, supports
from refine.program import _context


@pytest.mark.parametrize(
    ("spec", "parsed"),
    [
        ("llamacpp", LMSpec("llamacpp")),
        ("llamacpp:/models/qwen.gguf", LMSpec("llamacpp", model="/models/qwen.gguf")),
        ("llamacpp:C:/models/a.gguf", LMSpec("llamacpp", model="C:/models/a.gguf")),
        ("ollama:llama3.2", LMSpec("ollama", model="llama3.2")),
        ("ollama:llama3.2:1b@gpu-box:11434", LMSpec("ollama", model="llama3.2:1b", host="gpu-box:11434")),
        (
            "openai:Qwen/Qwen2.5-7B@http://127.0.0.1:8000/v1",
            LMSpec("openai", "Qwen/Qwen2.5-7B", "http://127.0.0.1:8000/v1"),
        ),
    ],
)
def test_specs_parse(spec, parsed):
    assert parse_spec(spec) == parsed


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", r"lm='' must name a backend: llamacpp\[:PATH.gguf\], ollama:MODEL\[@HOST\] or openai:MODEL@URL"),
        ("gpt4", r"lm='gpt4' names no known backend 'gpt4'; use llamacpp"),
        ("model.gguf", r"lm='model.gguf' looks like a model file; write llamacpp:model.gguf"),
        ("llamacpp:model.bin", r"'model.bin' is not a .gguf file; use llamacpp:PATH.gguf"),
        ("ollama:", r"lm='ollama:' names no model; use ollama:MODEL\[@HOST\]"),
        ("ollama:m@", r"has '@' but no host"),
        ("openai:m", r"lm='openai:m' needs a model and the server's URL; use openai:MODEL@URL"),
    ],
)
def test_bad_specs_say_what_to_write(spec, message):
    with pytest.raises(UsageError, match=message):
        parse_spec(spec)


def test_from_spec_builds_remote_backends_without_connecting():
    ollama = from_spec("ollama:llama3.2@127.0.0.1:9")
    assert isinstance(ollama, Ollama) and ollama.name == "ollama:llama3.2@http://127.0.0.1:9"
    openai = from_spec("openai:m@http://127.0.0.1:9")
    assert isinstance(openai, OpenAICompatible) and openai.base_url == "http://127.0.0.1:9/v1"
    with pytest.raises(UsageError, match=r"base_url='ftp://x' must be an http\(s\) URL"):
        from_spec("openai:m@ftp://x")
    ollama.close()
    openai.close()


def test_the_default_backend_is_built_once_however_many_threads_ask_at_once(monkeypatch):
    built: list[object] = []

    def slow_build():
        time.sleep(0.05)
        built.append(ScriptedLM([]))
        return built[-1]

    once = _context._Once(slow_build)
    monkeypatch.setattr(_context, "_default", once)
    barrier = threading.Barrier(16)
    seen: list[object] = []

    def ask():
        barrier.wait()
        seen.append(_context.resolve_lm())

    threads = [threading.Thread(target=ask) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(built) == 1 and all(lm is built[0] for lm in seen)
    explicit = ScriptedLM([])
    assert _context.resolve_lm(explicit) is explicit
    with _context.using(lm=explicit):
        assert _context.resolve_lm() is explicit


def test_a_failed_default_build_is_tried_again():
    attempts = []

    def flaky():
        attempts.append(1)
        if len(attempts) == 1:
            raise UsageError("not installed yet")
        return ScriptedLM([])

    once = _context._Once(flaky)
    with pytest.raises(UsageError):
        once()
    assert once() is once() and len(attempts) == 2


# --- the one table ----------------------------------------------------------------------------


def test_every_backend_reads_its_row_of_the_one_table():
    assert set(SUPPORTED) == BACKENDS["llamacpp"].constraints == ALL_CONSTRAINTS
    scripted = ScriptedLM([])
    assert all(
        scripted.supports(c) for c in (Regex("x"), Choice(("a",)), Quote(("Paris is.",)), Seq(("a", Regex("b"))))
    )
    assert BACKENDS["ollama"].constraints == {JsonSchema}
    for flavour in ("llama-cpp", "vllm", "openai"):
        assert supports(f"openai:{flavour}", JsonSchema.of({})) and not supports(f"openai:{flavour}", Regex("x"))
    assert not supports("openai:plain", JsonSchema.of({}))


def test_a_refusal_names_the_parts_it_cannot_enforce_and_who_can():
    nested = Seq(("Answer: ", JsonSchema.of({}), Substring("Paris is in France.")))
    assert enforced_by(nested) == ("refine.LlamaCpp",)
    error = refusal("ollama:m@h", nested, kind="ollama")
    assert isinstance(error, UnsupportedConstraint)
    assert str(error) == (
        "backend 'ollama:m@h' cannot enforce Seq constraints (it cannot enforce Seq, Substring); drop the constraint "
        "(the reply is then validated after decoding) or use a backend that enforces it: refine.LlamaCpp"
    )
    assert "refine.Ollama, refine.OpenAICompatible(flavour='llama-cpp')" in str(refusal("x", JsonSchema.of({})))
