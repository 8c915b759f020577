"""Translate a request's constraint into a guidance grammar (pure; no model involved)."""

from __future__ import annotations

import functools
import json
import operator
from typing import Any

from refine.constraints import Choice, Constraint, JsonSchema, OneOf, Regex, Seq, Substring
from refine.errors import UnsupportedConstraint

__all__ = ["CAPTURE", "SUPPORTED", "grammar_for"]

CAPTURE = "refine_output"
SUPPORTED: tuple[type, ...] = (Regex, Choice, JsonSchema, Substring, Seq, OneOf)


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
        # guidance's substring admits the empty string; intersecting it with a non-empty regex
        # (llguidance's lexeme '&') leaves exactly the verbatim quotes.
        chunks = json.dumps({"substring_chunks": list(part.chunks)})
        return guidance.lark(f"start: QUOTE\nQUOTE: NONEMPTY & SUB\nNONEMPTY: /(?s:.+)/\nSUB: %regex {chunks}")
    if isinstance(part, Seq):
        return functools.reduce(operator.add, (_node(p) for p in part.parts))
    if isinstance(part, OneOf):
        return guidance.select([_node(p) for p in part.alternatives])
    raise UnsupportedConstraint(
        f"guidance cannot compile {part!r}; use one of {', '.join(t.__name__ for t in SUPPORTED)}"
    )


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
