"""Strategies derived from a signature: its inputs (``inputs_for``) and LM replies (``replies_for``).

A valid reply is one the signature's grammar admits (what a grammar backend could produce: it
parses and passes the signature's declared checks); a malformed one is a reply the grammar does
not admit: wrong or missing labels, wrong types, citations out of range, truncated replies, JSON
where text is expected, huge or empty replies.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from functools import lru_cache, partial
from typing import Any, Literal

import pydantic
from hypothesis import strategies as st

from corpora import Passage
from refine.constraints import Constraint, JsonSchema
from refine.errors import UsageError
from refine.signatures import FieldSpec, Signature, as_signature, fields_constraint, json_schema
from refine.testing._constraints import json_values, replies
from refine.testing._texts import corpora, passages, texts

__all__ = ["KINDS", "ReplyKind", "inputs_for", "replies_for", "reply_constraint"]

ReplyKind = Literal["valid", "malformed", "any"]
KINDS: tuple[str, ...] = ("valid", "malformed", "any")
_FORMATS = ("fields", "json")


def inputs_for(
    signature: str | Signature | type[Signature],
    *,
    adversarial: bool = False,
    **overrides: st.SearchStrategy[Any],
) -> st.SearchStrategy[dict[str, Any]]:
    """Dicts of values for ``signature``'s inputs that respect their declared types and ``Field``
    constraints: passages for ``list[Passage]``, text for ``str``, values valid under the JSON
    schema of any other type. ``overrides`` give a field's strategy by name.

    ``adversarial=True`` draws hostile text and passages (see :func:`adversarial_texts`), which
    may be blank: a program may refuse those, as a usage error.
    """
    signature = as_signature(signature)
    names = {spec.name for spec in signature.inputs}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise UsageError(
            f"inputs_for got {', '.join(f'{n}=...' for n in unknown)}, but signature {signature} has inputs "
            f"{', '.join(sorted(names)) or 'none'}; name one of those"
        )
    for name, strategy in overrides.items():
        if not isinstance(strategy, st.SearchStrategy):
            raise UsageError(f"inputs_for({name}={strategy!r}) must be a hypothesis strategy, e.g. st.just(...)")
    fields = {
        spec.name: overrides[spec.name] if spec.name in overrides else _input_values(spec, adversarial)
        for spec in signature.inputs
    }
    return st.fixed_dictionaries(fields)


def _input_values(spec: FieldSpec, adversarial: bool) -> st.SearchStrategy[Any]:
    base = spec.base_type
    if base == list[Passage]:
        return corpora(min_size=1, adversarial=adversarial)
    if base is Passage:
        return passages(adversarial=adversarial)
    schema = spec.json_schema
    if base is str and not set(schema) & {"pattern", "minLength", "maxLength"}:
        return texts(adversarial=adversarial, min_chars=0 if adversarial else 1)
    if "x-python-type" in schema:
        raise UsageError(
            f"input field {spec.name!r} has type {spec.type_name}, which has no JSON schema to draw values from; "
            f"pass inputs_for(signature, {spec.name}=st.builds({spec.type_name}, ...))"
        )
    adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(spec.type)
    return json_values(schema, schema.get("$defs", {})).map(lambda value: _validated(adapter, value)).filter(_kept)


_REFUSED = object()


def _validated(adapter: pydantic.TypeAdapter[Any], value: Any) -> Any:
    try:
        return adapter.validate_python(value)
    except pydantic.ValidationError:
        return _REFUSED  # the schema subset drawn from can be wider than pydantic's checks


def _kept(value: Any) -> bool:
    return value is not _REFUSED


def reply_constraint(
    signature: str | Signature | type[Signature],
    inputs: Mapping[str, Any],
    *,
    format: str = "fields",
    max_tokens: int = 512,
) -> Constraint | None:
    """What a grammar backend decodes ``signature``'s reply under, for ``inputs`` (``None``: free text),
    for a predictor of ``max_tokens`` (``Predict``'s default)."""
    signature = as_signature(signature)
    if format not in _FORMATS:
        raise UsageError(f"format={format!r} must be one of {', '.join(map(repr, _FORMATS))}")
    if format == "json":
        return JsonSchema(json.dumps(json_schema(signature, inputs), ensure_ascii=False))
    return fields_constraint(signature, inputs, max_chars=max_tokens)


def replies_for(
    signature: str | Signature | type[Signature],
    inputs: Mapping[str, Any],
    *,
    kind: str = "valid",
    format: str = "fields",
) -> st.SearchStrategy[str]:
    """LM replies to ``signature`` given ``inputs``, for a :class:`~refine.ScriptedLM` to return.

    ``kind="valid"``: replies the signature's grammar admits, as a grammar backend could produce
    them; they parse and pass the signature's declared checks. ``kind="malformed"``: replies the
    grammar does not admit (wrong labels, missing fields, wrong types, citations out of range,
    truncated, JSON where text is expected, huge, empty); most fail to parse or validate.
    ``kind="any"``: either, shrinking towards valid ones. ``format="json"`` draws replies for a
    backend that takes a JSON schema.
    """
    signature = as_signature(signature)
    if kind not in KINDS:
        raise UsageError(f"kind={kind!r} must be one of {', '.join(map(repr, KINDS))}")
    if not isinstance(inputs, Mapping):
        raise UsageError(f"inputs={inputs!r} must be a dict of the signature's input values; draw it first")
    constraint = reply_constraint(signature, inputs, format=format)
    cited = tuple(
        (spec.name, len(source) if isinstance(source := inputs.get(spec.cites.source), list | tuple) else 1)
        for spec in signature.outputs
        if spec.cites is not None
    )
    return _replies_of(signature, constraint, kind, cited)


@lru_cache(maxsize=512)
def _replies_of(
    signature: Signature, constraint: Constraint | None, kind: str, cited: tuple[tuple[str, int], ...]
) -> st.SearchStrategy[str]:
    """The strategy for equal arguments is built once: building one costs more than drawing from it."""
    valid = replies(constraint)
    if kind == "valid":
        return valid
    malformed = _malformed(signature, dict(cited), constraint, valid)
    return malformed if kind == "malformed" else st.one_of(valid, malformed)


def _malformed(
    signature: Signature, cited: Mapping[str, int], constraint: Constraint | None, valid: st.SearchStrategy[str]
) -> st.SearchStrategy[str]:
    blank = st.sampled_from(["", " ", "\n", " \t\n "])
    if constraint is None:
        return blank  # free text admits everything else
    broken = st.one_of(
        blank,
        _truncated(valid),
        valid.map(_huge),
        st.just(json.dumps({spec.name: "a value" for spec in signature.outputs})),
        st.text(max_size=40),
        *(valid.map(mutate) for mutate in _mutations(signature, cited)),
    )
    return broken.filter(lambda text: not constraint.matches(text))


@st.composite
def _truncated(draw: st.DrawFn, valid: st.SearchStrategy[str]) -> str:
    text = draw(valid)
    return text[: draw(st.integers(0, max(len(text) - 1, 0)))]


def _huge(text: str) -> str:
    return text + " and so on" * 1_200


def _mutations(signature: Signature, cited: Mapping[str, int]) -> list[Callable[[str], str]]:
    """Edits of a valid reply that break it: each keyed to something the signature declares."""
    edits: list[Callable[[str], str]] = [
        lambda text: text.replace("\n", " "),  # fields run together on one line
    ]
    outputs = signature.outputs
    if len(outputs) > 1:
        for spec in outputs:
            label = re.escape(spec.label)
            edits.append(partial(_sub, rf"^{label}:", "Anser:"))  # a wrong label
            edits.append(partial(_sub, rf"^{label}:[^\n]*\n?", ""))  # a missing field
    for spec in outputs:
        if spec.base_type is not str:
            prefix = f"{spec.label}: " if len(outputs) > 1 else ""
            edits.append(partial(_replace_value, prefix=prefix, value="many, perhaps"))  # a wrong type
        if spec.name in cited:
            edits.append(partial(_sub, r"\[(\d+)\]", f"[{cited[spec.name] + 1}]", count=0))  # out of range
            edits.append(partial(_sub, r"\s*\[\d+\]", "", count=0))  # no citation
    return edits


def _sub(pattern: str, replacement: str, text: str, count: int = 1) -> str:
    return re.sub(pattern, lambda _: replacement, text, count=count, flags=re.M)


def _replace_value(text: str, prefix: str, value: str) -> str:
    if not prefix:
        return value
    return re.sub(rf"^{re.escape(prefix)}[^\n]*", lambda _: prefix + value, text, count=1, flags=re.M)
