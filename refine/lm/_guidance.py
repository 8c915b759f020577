"""Translate a request's constraint into a guidance grammar (pure; no model involved)."""

from __future__ import annotations

from typing import Any

from refine.constraints import Choice, Constraint, JsonSchema, Regex
from refine.errors import UnsupportedConstraint

__all__ = ["CAPTURE", "grammar_for"]

CAPTURE = "refine_output"


def grammar_for(constraint: Constraint | None, *, max_tokens: int, temperature: float, stop: tuple[str, ...]) -> Any:
    """The guidance grammar that generates one reply under ``constraint``, captured as :data:`CAPTURE`."""
    import guidance  # heavy; only the in-process backend needs it

    if constraint is None:
        if stop:
            return guidance.gen(CAPTURE, max_tokens=max_tokens, temperature=temperature, stop=list(stop))
        # A grammar that accepts the empty reply makes guidance sample greedily whatever the
        # temperature (seen with guidance 0.3.1), so free text is "at least one character".
        return guidance.gen(CAPTURE, regex=r"(?s:.+)", max_tokens=max_tokens, temperature=temperature)
    if isinstance(constraint, Regex):
        return guidance.gen(CAPTURE, regex=constraint.pattern, max_tokens=max_tokens, temperature=temperature)
    if isinstance(constraint, Choice):
        choice = guidance.capture(guidance.select(list(constraint.options)), CAPTURE)
        return guidance.with_temperature(choice, temperature)  # type: ignore[arg-type]
    if isinstance(constraint, JsonSchema):
        return guidance.json(CAPTURE, schema=constraint.as_dict, max_tokens=max_tokens, temperature=temperature)
    raise UnsupportedConstraint(f"guidance cannot compile {constraint!r}; use Regex, Choice or JsonSchema")
