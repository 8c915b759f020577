"""Translate a request's constraint into a guidance grammar (pure; no model involved)."""

from __future__ import annotations

import functools
import json
import operator
from collections.abc import Sequence
from typing import Any

from citations import WORD_CHAR
from refine.constraints import (
    FREE_TEXT_PATTERN,
    Choice,
    Constraint,
    JsonSchema,
    OneOf,
    Quote,
    Regex,
    Seq,
    Substring,
    quote_length_pattern,
    quote_runs,
    quote_words_pattern,
)
from refine.errors import UnsupportedConstraint
from refine.lm._support import BACKENDS

__all__ = ["CAPTURE", "SUPPORTED", "grammar_for", "rust_regex"]

CAPTURE = "refine_output"
#: What :func:`grammar_for` compiles: the ``llamacpp`` row of the support table.
SUPPORTED: tuple[type, ...] = tuple(sorted(BACKENDS["llamacpp"].constraints, key=lambda kind: kind.__name__))


def rust_regex(pattern: str) -> str:
    """``pattern`` for llguidance's Rust regexes, meaning what it means to Python's ``re``.

    Python's ``[^\\W_]`` is a letter or digit (``str.isalnum``); in Rust ``\\w`` also holds
    combining marks and joiners, so the grammar would admit a "word" that citations does not see.
    """
    return pattern.replace(WORD_CHAR, r"[\p{L}\p{N}]")


def _node(part: str | Constraint) -> Any:
    import guidance  # heavy; only the in-process backend needs it

    if isinstance(part, str):
        return guidance.string(part)
    if isinstance(part, Regex):
        return guidance.regex(rust_regex(part.pattern))
    if isinstance(part, Choice):
        return guidance.select(list(part.options))
    if isinstance(part, JsonSchema):
        return guidance.json(schema=part.as_dict)
    if isinstance(part, Substring):
        return guidance.lark(_quote_grammar([part.text], marker=False))
    if isinstance(part, Quote):
        return guidance.lark(
            _quote_grammar(part.sources, marker=True, max_chars=part.max_chars, max_words=part.max_words)
        )
    if isinstance(part, Seq):
        return functools.reduce(operator.add, (_node(p) for p in part.parts))
    if isinstance(part, OneOf):
        return guidance.select([_node(p) for p in part.alternatives])
    raise UnsupportedConstraint(
        f"guidance cannot compile {part!r}; use one of {', '.join(t.__name__ for t in SUPPORTED)}"
    )


def _quote_grammar(
    sources: Sequence[str], *, marker: bool, max_chars: int | None = None, max_words: int | None = None
) -> str:
    """One Lark grammar for quotes of ``sources``, each followed by its own marker when asked.

    A quote is a run of chunks of one of a source's :func:`quote_runs` (guidance's substring,
    which admits the empty string), intersected (llguidance's lexeme '&') with the length pattern
    :meth:`Quote.matches` uses. Quote and marker form one lexeme: as two, the lexer ended a quote
    only where the source could not go on, so "the capital [1]" was refused when the source read
    "the capital [sic]". All sources share one grammar: as separate subgrammars under a select,
    llguidance let a quote of one source end with the marker of another.
    """
    rules = [f"LENGTH: /{quote_length_pattern(max_chars)}/"]
    if max_words is not None:
        rules[0] = f"LENGTH: /{quote_length_pattern(max_chars)}/ & /{rust_regex(quote_words_pattern(max_words))}/"
    names = []
    for i, source in enumerate(sources, 1):
        runs = quote_runs(source)
        if not runs:
            continue
        for k, run in enumerate(runs, 1):
            rules.append(f"RUN{i}_{k}: %regex {json.dumps({'substring_chunks': list(run)})}")
        quote = f"(LENGTH & ({' | '.join(f'RUN{i}_{k}' for k in range(1, len(runs) + 1))}))"
        rules.append(f"QUOTE{i}: {quote}" + (f" / ?\\[{i}\\]/" if marker else ""))
        names.append(f"QUOTE{i}")
    return "\n".join([f"start: {' | '.join(names)}", *rules])


def grammar_for(constraint: Constraint | None, *, max_tokens: int, temperature: float, stop: tuple[str, ...]) -> Any:
    """The guidance grammar that generates one reply under ``constraint``, captured as :data:`CAPTURE`."""
    import guidance

    if constraint is None:
        if stop:
            return guidance.gen(CAPTURE, max_tokens=max_tokens, temperature=temperature, stop=list(stop))
        # A grammar that accepts the empty reply makes guidance sample greedily whatever the
        # temperature (seen with guidance 0.3.1), and a blank one does not parse, so free text
        # is "something besides whitespace".
        return guidance.gen(CAPTURE, regex=FREE_TEXT_PATTERN, max_tokens=max_tokens, temperature=temperature)
    if isinstance(constraint, Regex):
        return guidance.gen(
            CAPTURE, regex=rust_regex(constraint.pattern), max_tokens=max_tokens, temperature=temperature
        )
    node = guidance.token_limit(guidance.capture(_node(constraint), CAPTURE), max_tokens)  # type: ignore[arg-type]
    return guidance.with_temperature(node, temperature) if temperature > 0 else node
