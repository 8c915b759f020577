"""Translate a request's constraint into a guidance grammar (pure; no model involved)."""

from __future__ import annotations

import functools
import json
import operator
from collections.abc import Sequence
from typing import Any

from refine.constraints import Choice, Constraint, JsonSchema, OneOf, Quote, Regex, Seq, Substring, quote_chunks
from refine.errors import UnsupportedConstraint

__all__ = ["CAPTURE", "SUPPORTED", "grammar_for"]

CAPTURE = "refine_output"
SUPPORTED: tuple[type, ...] = (Regex, Choice, JsonSchema, Substring, Quote, Seq, OneOf)


def _node(part: str | Constraint) -> Any:
    import guidance  # heavy; only the in-process backend needs it

    if isinstance(part, str):
        return guidance.string(part)
    if isinstance(part, Regex):
        return guidance.regex(part.pattern)
    if isinstance(part, Choice):
        return guidance.select(list(part.options))
    if isinstance(part, JsonSchema):
        return guidance.json(schema=part.as_dict)
    if isinstance(part, Substring):
        return guidance.lark(_quote_grammar([part.text], marker=False))
    if isinstance(part, Quote):
        return guidance.lark(_quote_grammar(part.sources, marker=True, max_chars=part.max_chars))
    if isinstance(part, Seq):
        return functools.reduce(operator.add, (_node(p) for p in part.parts))
    if isinstance(part, OneOf):
        return guidance.select([_node(p) for p in part.alternatives])
    raise UnsupportedConstraint(
        f"guidance cannot compile {part!r}; use one of {', '.join(t.__name__ for t in SUPPORTED)}"
    )


def _quote_grammar(sources: Sequence[str], *, marker: bool, max_chars: int | None = None) -> str:
    """One Lark grammar for quotes of ``sources``, each followed by its own marker when asked.

    guidance's substring admits the empty string, so each quote is intersected (llguidance's
    lexeme '&') with a non-empty regex. All sources share one grammar: as separate subgrammars
    under a select, llguidance let a quote of one source end with the marker of another.
    """
    bound = f"{{1,{max_chars}}}" if max_chars else "+"
    rules = [f"NONEMPTY: /(?s:.{bound})/"]
    names = []
    for i, source in enumerate(sources, 1):
        if not source.strip():
            continue
        chunks = json.dumps({"substring_chunks": list(quote_chunks(source))})
        rules.append(f"SUB{i}: %regex {chunks}")
        rules.append(f"QUOTE{i}: NONEMPTY & SUB{i}")
        rules.append(f"q{i}: QUOTE{i}" + (f" / ?\\[{i}\\]/" if marker else ""))
        names.append(f"q{i}")
    return "\n".join([f"start: {' | '.join(names)}", *rules])


def grammar_for(constraint: Constraint | None, *, max_tokens: int, temperature: float, stop: tuple[str, ...]) -> Any:
    """The guidance grammar that generates one reply under ``constraint``, captured as :data:`CAPTURE`."""
    import guidance

    if constraint is None:
        if stop:
            return guidance.gen(CAPTURE, max_tokens=max_tokens, temperature=temperature, stop=list(stop))
        # A grammar that accepts the empty reply makes guidance sample greedily whatever the
        # temperature (seen with guidance 0.3.1), so free text is "at least one character".
        return guidance.gen(CAPTURE, regex=r"(?s:.+)", max_tokens=max_tokens, temperature=temperature)
    if isinstance(constraint, Regex):
        return guidance.gen(CAPTURE, regex=constraint.pattern, max_tokens=max_tokens, temperature=temperature)
    node = guidance.token_limit(guidance.capture(_node(constraint), CAPTURE), max_tokens)  # type: ignore[arg-type]
    return guidance.with_temperature(node, temperature) if temperature > 0 else node
