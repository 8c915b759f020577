"""From a signature, mechanically: the output constraint each kind of backend can enforce.

- ``fields_constraint``: the field-marker format (``Label: value`` lines, or the bare value for a
  single output) as a composite constraint, for backends that compile grammars (llama.cpp via
  guidance). Types become regexes and choices, nested data becomes JSON, citations can only name
  the passages given, and extractive fields can only be substrings of the passage they cite.
- ``json_schema``: one JSON object with every output, for backends that take a JSON schema
  (Ollama's ``format``, OpenAI-compatible ``response_format``). Given the inputs, it is the
  *lowered* schema, as exact as the grammar: a citing field becomes sentences with citation
  numbers from an integer ``enum`` of 1..k (:func:`refine.signatures.cited_answer_schema`), rendered
  back into ``[n]`` prose when the reply is parsed; what has no exact JSON-schema form (a
  verbatim quote, a ``pattern``) is refused by name, or left to validation after decoding.
"""

from __future__ import annotations

import enum
import logging
import re
import typing
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, Literal, TypeAlias

from corpora import Passage
from refine.constraints import (
    Bounds,
    Choice,
    Constraint,
    JsonSchema,
    Quote,
    Regex,
    Seq,
    cited_text_pattern,
    short_cited_pattern,
    words_pattern,
)
from refine.errors import SignatureError
from refine.signatures._fields import FieldSpec
from refine.signatures._json_bounds import fit_schema, longest_json
from refine.signatures._lowering import cited_answer_schema, lower_value, lowering_problem, require_lowerable
from refine.signatures._signature import Signature

__all__ = [
    "as_passages",
    "cited_passages_of",
    "fields_constraint",
    "json_schema",
    "lowered_constraint",
    "lowers_citations",
    "value_constraint",
]

logger = logging.getLogger(__name__)

INT = r"-?[0-9]{1,18}"
FLOAT = r"-?[0-9]{1,15}(?:\.[0-9]{1,10})?"
DEFAULT_MAX_LINE = 300
# A free-text field in a reply of several: one line, so the next field's label can follow.
FREE_LINE = Regex(rf"[^\n]{{1,{DEFAULT_MAX_LINE}}}")


def as_passages(value: Any) -> tuple[Passage, ...] | None:
    """``value`` as passages when it is a non-empty list of them, or of retrieval hits (which
    carry a ``.passage``); ``None`` otherwise."""
    if isinstance(value, str | bytes) or not isinstance(value, Sequence) or not value:
        return None
    items = [getattr(item, "passage", item) for item in value]
    passages = tuple(p for p in items if isinstance(p, Passage))
    return passages if len(passages) == len(items) else None


def cited_passages_of(spec: FieldSpec, inputs: Mapping[str, Any]) -> tuple[Passage, ...]:
    """The passages an output field may cite: the value of its citation source input."""
    rule = spec.cites
    if rule is None:
        raise SignatureError(f"field {spec.name!r} does not cite passages")
    value = inputs.get(rule.source)
    passages = as_passages(value)
    if passages is None:
        raise SignatureError(
            f"field {spec.name!r} cites input {rule.source!r}, which must be a non-empty list of Passage "
            f"(or of retrieval Hits); got {type(value).__name__}"
        )
    return passages


def _strip_anchors(pattern: str) -> str:
    return re.sub(r"\$$", "", re.sub(r"^\^", "", pattern))


def _string_constraint(spec: FieldSpec, *, single: bool, bounds: Bounds) -> Constraint | None:
    schema = spec.json_schema
    if "pattern" in schema:
        return Regex(_strip_anchors(schema["pattern"]))
    lo, hi = schema.get("minLength"), schema.get("maxLength")
    if bounds.choices is not None:
        return Choice(bounds.choices)
    hi = min(hi, bounds.max_chars) if hi and bounds.max_chars else hi or bounds.max_chars
    if bounds.max_words is not None and not lo:
        # The words' pattern knows no length; a character bound stays a check after decoding.
        return Regex(words_pattern(bounds.max_words, max_chars=hi))
    if single and lo is None and hi is None:
        return None  # free text: the model may use as many lines as it likes
    return Regex(rf"[^\n]{{{max(lo or 1, 1)},{hi or DEFAULT_MAX_LINE}}}")


def _cited_constraint(spec: FieldSpec, n: int, bounds: Bounds, room: int | None) -> Regex:
    rule = spec.cites
    if rule is None:  # never: callers check
        raise SignatureError(f"field {spec.name!r} does not cite passages")
    if bounds.max_words is not None:
        return Regex(short_cited_pattern(n, bounds.max_words, min_citations=rule.min))
    sentences, chars = bounds.max_sentences or 3, 200
    if bounds.max_chars is not None and bounds.max_chars >= 10:  # shorter is no cited sentence: left to the check
        # Without its markers a sentence is its body, a period and a space: s * (chars + 2) in all.
        chars = min(chars, bounds.max_chars - 2)
        sentences = max(1, min(sentences, bounds.max_chars // (chars + 2)))
    if room is not None:
        # A token is at least one character, so a reply of at most ``room`` characters is never
        # cut off by the token budget (cut, a reply of several fields does not parse).
        markers = (rule.min + 1) * (len(str(n)) + 2) + 2
        sentences = max(1, min(sentences, room // (chars + markers + 1)))
        if room < chars + markers + 1:
            chars = max(8, room - markers - 1)
    return Regex(
        cited_text_pattern(n, max_sentences=sentences, max_sentence_chars=chars, per=rule.per, min_citations=rule.min)
    )


def value_constraint(
    spec: FieldSpec,
    inputs: Mapping[str, Any],
    *,
    single: bool = False,
    bounds: Bounds | None = None,
    room: int | None = None,
) -> Constraint | None:
    """The constraint on one output field's value (``None``: unconstrained free text).

    ``bounds`` (from the checks on the field, see :class:`~refine.constraints.Bounds`) narrow it
    where the constraint can say so: a word or character limit, a sentence count, a choice.
    ``room`` is how many characters a cited field may take, so that the reply fits its token budget.
    """
    return _value_constraint(spec, _cited_view(spec, inputs), single=single, bounds=bounds, room=room)


_CitedView: TypeAlias = int | tuple[str, ...] | None


def _cited_view(spec: FieldSpec, inputs: Mapping[str, Any]) -> _CitedView:
    # All a field's constraint reads of the inputs: how many passages it cites, or, for a
    # verbatim quote, their texts. Hashable, so a constraint can be cached on it.
    if spec.cites is None:
        return None
    passages = cited_passages_of(spec, inputs)
    return tuple(p.text for p in passages) if spec.extractive else len(passages)


def _value_constraint(
    spec: FieldSpec, cited: _CitedView, *, single: bool = False, bounds: Bounds | None = None, room: int | None = None
) -> Constraint | None:
    bounds = bounds or Bounds()
    if spec.extractive and isinstance(cited, tuple):
        limit = spec.json_schema.get("maxLength")
        limit = min(limit, bounds.max_chars) if limit and bounds.max_chars else limit or bounds.max_chars
        return Quote(cited, max_chars=limit, max_words=bounds.max_words)
    if spec.cites is not None and isinstance(cited, int):
        return _cited_constraint(spec, cited, bounds, room)
    base = spec.base_type
    if typing.get_origin(base) is Literal:
        return Choice(tuple(str(v) for v in typing.get_args(base)))
    if isinstance(base, type) and issubclass(base, enum.Enum):
        return Choice(tuple(str(member.value) for member in base))
    if base is bool:
        return Choice(("true", "false"))
    if base is int:
        return Regex(INT)
    if base is float:
        return Regex(FLOAT)
    if base is str:
        return _string_constraint(spec, single=single, bounds=bounds)
    return JsonSchema.of(spec.json_schema)


def _longest(constraint: Constraint | None) -> int | None:
    """The most characters a value under ``constraint`` can take, when that is plain to see."""
    if isinstance(constraint, Choice):
        return max(len(option) for option in constraint.options)
    if isinstance(constraint, Regex):
        bound = re.fullmatch(r"\[\^\\n\]\{\d+,(\d+)\}", constraint.pattern)
        return int(bound[1]) if bound else {INT: 19, FLOAT: 27}.get(constraint.pattern)
    if isinstance(constraint, Quote):  # a run of one source, then " [i]"
        return max(len(source) for source in constraint.sources) + len(str(len(constraint.sources))) + 3
    if isinstance(constraint, JsonSchema):
        return longest_json(constraint.as_dict)
    return None


def fields_constraint(
    signature: Signature,
    inputs: Mapping[str, Any],
    bounds: Mapping[str, Bounds] | None = None,
    *,
    max_chars: int | None = None,
) -> Constraint | None:
    """The whole reply in the field-marker format; ``None`` when nothing needs constraining.

    ``bounds`` maps output field names to the limits their checks state (see :func:`value_constraint`).
    With ``max_chars`` (a predictor passes its ``max_tokens``), the citing fields of a reply of
    several fields are held to what is left of it beside the others, so that no reply the grammar
    admits is cut off before its last field.
    """
    cited = tuple(_cited_view(spec, inputs) for spec in signature.outputs)
    return _fields_constraint(signature, cited, tuple(sorted((bounds or {}).items())), max_chars)


@lru_cache(maxsize=256)  # a predictor asks at every call, mostly with the same passage count
def _fields_constraint(
    signature: Signature,
    cited: tuple[_CitedView, ...],
    bounds_items: tuple[tuple[str, Bounds], ...],
    max_chars: int | None,
) -> Constraint | None:
    outputs = signature.outputs
    bounds = dict(bounds_items)
    view = dict(zip((spec.name for spec in outputs), cited, strict=True))
    if len(outputs) == 1:
        # One field: a reply cut by the budget still parses, and its uncited end is retried.
        spec = outputs[0]
        value = _value_constraint(spec, view[spec.name], single=True, bounds=bounds.get(spec.name))
        if isinstance(value, JsonSchema) and max_chars is not None:  # but cut JSON does not parse
            value = JsonSchema.of(fit_schema(value.as_dict, max_chars))
        return value
    # Free text (None) is one line of up to DEFAULT_MAX_LINE characters, but counts as of unknown
    # length: held to its share, a chain of thought would leave a cited answer one short sentence.
    values = {spec.name: _value_constraint(spec, view[spec.name], bounds=bounds.get(spec.name)) for spec in outputs}
    room = None
    if max_chars is not None:
        # The fields that can give way share what the others leave of the budget: citing fields
        # (their sentence count) and JSON (its strings' lengths and lists' items).
        citing = [spec for spec in outputs if spec.cites is not None and not spec.extractive]
        fitted = [spec for spec in outputs if isinstance(values[spec.name], JsonSchema)]
        others = [_longest(values[spec.name]) for spec in outputs if spec not in citing and spec not in fitted]
        share = max_chars  # when some other field's length is unknown: each at least bounded
        if (citing or fitted) and all(length is not None for length in others):
            labels = sum(len(spec.label) + 3 for spec in outputs)
            share = max(0, max_chars - labels - sum(length or 0 for length in others)) // len(citing + fitted)
            room = share if citing else None
        for spec in outputs:
            value = values[spec.name]
            if isinstance(value, JsonSchema):
                values[spec.name] = JsonSchema.of(fit_schema(value.as_dict, share))
            elif spec in citing and room is not None:
                values[spec.name] = _value_constraint(spec, view[spec.name], bounds=bounds.get(spec.name), room=room)
    parts: list[str | Constraint] = []
    for i, spec in enumerate(outputs):
        parts.append(("\n" if i else "") + f"{spec.label}: ")
        parts.append(values[spec.name] or FREE_LINE)
    return Seq(tuple(parts))


def lowers_citations(spec: FieldSpec) -> bool:
    """Whether ``spec``'s value travels as a cited-answer object in a JSON reply (then rendered as prose)."""
    return spec.cites is not None and not spec.extractive


def lowered_constraint(spec: FieldSpec, inputs: Mapping[str, Any]) -> Constraint:
    """What a JSON-schema backend must enforce on ``spec``'s value, before it is lowered to a schema.

    A choice stays a :class:`Choice`, a verbatim quote a :class:`Quote` and a ``pattern`` a
    :class:`Regex` (neither of which lowers exactly); any other type is its own JSON schema, which
    is exact: a JSON reply's value is checked against the type, not read from text.
    """
    if spec.extractive:
        return value_constraint(spec, inputs) or JsonSchema.of(spec.json_schema)
    if spec.base_type is str and "pattern" in spec.json_schema:
        return Regex(spec.json_schema["pattern"])
    constraint = value_constraint(spec, inputs)
    if isinstance(constraint, Choice) and spec.json_schema.get("type") == "string":
        return constraint
    return JsonSchema.of(spec.json_schema)


def _lowered(spec: FieldSpec, inputs: Mapping[str, Any], *, backend: str, strict: bool) -> dict[str, Any]:
    rule = spec.cites
    if rule is not None and not spec.extractive:
        k = len(cited_passages_of(spec, inputs))
        return cited_answer_schema(k, per=rule.per, min_citations=rule.min)
    constraint = lowered_constraint(spec, inputs)
    if not strict and (problem := lowering_problem(constraint)) is not None:
        logger.info("field %r is validated after decoding on %s: %s", spec.name, backend, problem)
        # Dropped from the schema, not left to a server's partial support of regexes.
        return {key: value for key, value in spec.json_schema.items() if key != "pattern"}
    require_lowerable(constraint, backend=backend, field=spec.name)
    if not isinstance(constraint, Choice | JsonSchema):  # never: require_lowerable refused it
        raise TypeError(f"{constraint!r} has no JSON-schema form")
    return lower_value(constraint)


def json_schema(
    signature: Signature,
    inputs: Mapping[str, Any] | None = None,
    *,
    backend: str = "json-schema",
    strict: bool = True,
) -> dict[str, Any]:
    """One JSON object holding every output field, with shared ``$defs`` hoisted to the top.

    Without ``inputs``, each field's type schema. With them, the schema *lowered* for a backend
    that enforces only JSON schemas: citing fields as :func:`refine.signatures.cited_answer_schema` over
    the passages given, choices as string enums. A constraint without an exact JSON-schema form
    raises :class:`~refine.errors.UnsupportedConstraint` naming ``backend``, the field and the
    way out; with ``strict=False`` that field keeps its type schema and is validated after decoding.
    """
    properties: dict[str, Any] = {}
    defs: dict[str, Any] = {}
    for spec in signature.outputs:
        schema = dict(spec.json_schema) if inputs is None else _lowered(spec, inputs, backend=backend, strict=strict)
        defs.update(schema.pop("$defs", {}))
        if spec.description and (inputs is None or not lowers_citations(spec)):
            schema["description"] = spec.description
        properties[spec.name] = schema
    result: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": [spec.name for spec in signature.outputs],
        "additionalProperties": False,
    }
    if defs:
        result["$defs"] = defs
    return result
