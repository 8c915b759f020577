"""Backends named in one string, as the CLI's ``--lm`` takes them::

    llamacpp                      the embedded model
    llamacpp:PATH.gguf            another GGUF file
    ollama:MODEL[@HOST]           a model served by Ollama (HOST defaults to $OLLAMA_HOST or 127.0.0.1:11434)
    openai:MODEL@URL              a model behind an OpenAI-compatible server (URL is its API root)

:func:`parse_spec` is pure; :func:`from_spec` builds the backend it names (loading a GGUF file
takes a moment; the remote backends connect only when first called).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from refine.errors import UsageError
from refine.lm._llamacpp import LlamaCpp
from refine.lm._ollama import Ollama
from refine.lm._openai import OpenAICompatible
from refine.lm._types import LM

__all__ = ["DEFAULT_SPEC", "LMSpec", "default_lm", "from_spec", "parse_spec"]

#: The backend used when none is passed or set with ``refine.using``: the embedded model.
DEFAULT_SPEC = "llamacpp"

_FORMS = "llamacpp[:PATH.gguf], ollama:MODEL[@HOST] or openai:MODEL@URL"


@dataclass(frozen=True, slots=True)
class LMSpec:
    """A parsed ``--lm`` value: which backend, and its model (path or name) and host."""

    backend: Literal["llamacpp", "ollama", "openai"]
    model: str | None = None
    host: str | None = None


def parse_spec(spec: str) -> LMSpec:
    """``spec`` read as one of ``llamacpp[:PATH.gguf] | ollama:MODEL[@HOST] | openai:MODEL@URL``."""
    if not isinstance(spec, str) or not spec.strip():
        raise UsageError(f"lm={spec!r} must name a backend: {_FORMS}")
    spec = spec.strip()
    backend, _, rest = spec.partition(":")
    backend = backend.lower()
    if backend in ("llamacpp", "llama-cpp", "llama.cpp"):
        if not rest:
            return LMSpec("llamacpp")
        if not rest.endswith(".gguf"):
            raise UsageError(
                f"lm={spec!r}: {rest!r} is not a .gguf file; use llamacpp:PATH.gguf, e.g. llamacpp:./model.gguf"
            )
        return LMSpec("llamacpp", model=rest)
    if backend == "ollama":
        model, at, host = rest.partition("@")
        if not model:
            raise UsageError(
                f"lm={spec!r} names no model; use ollama:MODEL[@HOST], e.g. ollama:llama3.2@127.0.0.1:11434"
            )
        if at and not host:
            raise UsageError(
                f"lm={spec!r} has '@' but no host; drop the '@' or add one, e.g. ollama:{model}@127.0.0.1:11434"
            )
        return LMSpec("ollama", model=model, host=host or None)
    if backend == "openai":
        model, _, url = rest.partition("@")
        if not model or not url:
            raise UsageError(
                f"lm={spec!r} needs a model and the server's URL; use openai:MODEL@URL, "
                "e.g. openai:qwen2.5@http://127.0.0.1:8000/v1"
            )
        return LMSpec("openai", model=model, host=url)
    if spec.endswith(".gguf"):
        raise UsageError(f"lm={spec!r} looks like a model file; write llamacpp:{spec}")
    raise UsageError(f"lm={spec!r} names no known backend {backend!r}; use {_FORMS}")


def from_spec(spec: str) -> LM:
    """The backend ``spec`` names (see :func:`parse_spec`), with default settings."""
    parsed = parse_spec(spec)
    if parsed.backend == "llamacpp":
        return LlamaCpp(Path(parsed.model) if parsed.model else None)
    if parsed.backend == "ollama":
        return Ollama(parsed.model or "", host=parsed.host)
    return OpenAICompatible(parsed.host or "", parsed.model or "")


def default_lm() -> LM:
    """The default backend, :data:`DEFAULT_SPEC` (the embedded model), newly built."""
    return from_spec(DEFAULT_SPEC)
