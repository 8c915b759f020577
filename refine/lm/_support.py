"""What each backend enforces while decoding: the one table, written once.

Every backend's ``supports(constraint)`` reads its row here, and a refusal names the backends
whose rows hold the constraint, so the alternative in an error message is never out of date.
A row also says whether the backend reproduces a sampled reply from its seed, which decides
whether :class:`refine.CachedLM` may serve a sampled request from the cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from refine.constraints import Choice, Constraint, JsonSchema, OneOf, Quote, Regex, Seq, Substring, constraint_kinds
from refine.errors import UnsupportedConstraint

__all__ = ["ALL_CONSTRAINTS", "BACKENDS", "Support", "enforced_by", "refusal", "supports"]

#: Every kind of constraint there is: what a grammar backend compiles.
ALL_CONSTRAINTS: frozenset[type] = frozenset({Regex, Choice, JsonSchema, Substring, Quote, Seq, OneOf})


@dataclass(frozen=True, slots=True)
class Support:
    """One backend's row: the constraint kinds it enforces and whether a seed reproduces a sample."""

    constraints: frozenset[type]
    seeded: bool
    label: str  # how an error message names the backend, e.g. "refine.LlamaCpp"


#: The table. Keys are what backends pass as ``kind``; ``openai:<flavour>`` rows are the
#: OpenAI-compatible servers, which differ in what they enforce.
BACKENDS: Mapping[str, Support] = MappingProxyType(
    {
        # guidance compiles every constraint into a grammar over the model's tokens.
        "llamacpp": Support(ALL_CONSTRAINTS, seeded=True, label="refine.LlamaCpp"),
        # Ollama's `format` takes a JSON schema (a grammar inside); it has no regex or GBNF field.
        "ollama": Support(frozenset({JsonSchema}), seeded=True, label="refine.Ollama"),
        # llama-cpp-python's server: {"type": "json_object", "schema": ...} becomes a grammar.
        "openai:llama-cpp": Support(
            frozenset({JsonSchema}), seeded=True, label="refine.OpenAICompatible(flavour='llama-cpp')"
        ),
        # vLLM: OpenAI's {"type": "json_schema", ...}, enforced by its guided decoding.
        "openai:vllm": Support(frozenset({JsonSchema}), seeded=True, label="refine.OpenAICompatible(flavour='vllm')"),
        # OpenAI itself: strict json_schema; `seed` is best effort only.
        "openai:openai": Support(
            frozenset({JsonSchema}), seeded=False, label="refine.OpenAICompatible(flavour='openai')"
        ),
        # A server of unknown kind: nothing is enforced, every reply is validated after decoding.
        "openai:plain": Support(frozenset(), seeded=False, label="refine.OpenAICompatible(flavour='plain')"),
    }
)


def _row(kind: str) -> Support:
    try:
        return BACKENDS[kind]
    except KeyError:
        raise KeyError(f"no backend kind {kind!r} in the support table; known: {', '.join(BACKENDS)}") from None


def supports(kind: str, constraint: Constraint) -> bool:
    """Whether backend ``kind`` enforces every part of ``constraint``."""
    return constraint_kinds(constraint) <= _row(kind).constraints


def enforced_by(constraint: Constraint) -> tuple[str, ...]:
    """The backends (as error messages name them) that enforce ``constraint``."""
    needed = constraint_kinds(constraint)
    return tuple(row.label for row in BACKENDS.values() if needed <= row.constraints)


def refusal(backend: str, constraint: Constraint, *, kind: str | None = None) -> UnsupportedConstraint:
    """The error for backend ``backend`` (its name) asked to enforce ``constraint``: what, and the way out.

    With the backend's ``kind`` (its row), the message also names the parts it cannot enforce.
    """
    message = f"backend {backend!r} cannot enforce {type(constraint).__name__} constraints"
    if kind is not None:
        missing = sorted(k.__name__ for k in constraint_kinds(constraint) - _row(kind).constraints)
        if missing != [type(constraint).__name__]:
            message += f" (it cannot enforce {', '.join(missing)})"
    message += "; drop the constraint (the reply is then validated after decoding)"
    others = enforced_by(constraint)
    if others:
        message += f" or use a backend that enforces it: {', '.join(others)}"
    return UnsupportedConstraint(message)
