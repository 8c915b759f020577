"""Signature <-> chat messages: pure functions, no I/O.

The prompt is built in a fixed order (instructions and field specs, demonstrations as turns,
then the inputs) so that everything a later retry appends leaves it intact as a prefix.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import pydantic

from corpora import Passage, encoding_problem
from refine.constraints import Constraint
from refine.errors import ParseError, SignatureError, UsageError
from refine.history import Demo, RepairDemo
from refine.lm import Message
from refine.signatures._fields import adapter_for
from refine.signatures._grammar import as_passages, lowers_citations
from refine.signatures._lowering import cited_answer_shape, cited_object, render_cited
from refine.signatures._signature import FieldSpec, Signature

__all__ = [
    "RETRY_INSTRUCTION",
    "ReplyFormat",
    "demo_messages",
    "format_passages",
    "parse_reply",
    "render_messages",
    "render_value",
    "retry_turn",
]

ReplyFormat = Literal["fields", "json"]


def format_passages(passages: Sequence[Passage]) -> str:
    """Number passages from 1, the way citation markers ``[n]`` refer to them."""
    return "\n\n".join(
        f"[{i}] {p.title}\n{p.text}" if p.title else f"[{i}] {p.text}" for i, p in enumerate(passages, 1)
    )


def render_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Passage):
        return format_passages([value])
    passages = as_passages(value)
    if passages is not None:
        return format_passages(passages)
    if isinstance(value, pydantic.BaseModel):
        return value.model_dump_json()
    try:
        return json.dumps(value, ensure_ascii=False)
    except TypeError:
        return str(value)


@functools.lru_cache(maxsize=512)
def _system_prompt(signature: Signature, format: ReplyFormat) -> str:
    # Depends on the signature alone, and a program renders it on every call: built once each.
    parts = [signature.instructions] if signature.instructions else []
    if format == "json":
        keys = ", ".join(f"{f.name!r} ({_json_description(f)})" for f in signature.outputs)
        parts.append(f"Reply with one JSON object with the keys {keys}.")
    elif len(signature.outputs) == 1:
        out = signature.outputs[0]
        what = f" ({out.description})" if out.description else ""
        parts.append(f"Reply with the {out.label.lower()}{what} only.")
    else:
        lines = [f"{f.label}: <{f.description or f.type_name}>" for f in signature.outputs]
        parts.append("Reply with each of these fields on its own line, in this order:\n" + "\n".join(lines))
    return "\n\n".join(parts)


def _json_description(spec: FieldSpec) -> str:
    if lowers_citations(spec) and spec.cites is not None:
        shape = cited_answer_shape(spec.cites.per)
        return f"its sentences, each with the numbers of the passages that support it: {shape}"
    return spec.description or spec.type_name


def _user_prompt(fields: Iterable[FieldSpec], values: Mapping[str, Any]) -> str:
    blocks = []
    for spec in fields:
        text = render_value(values[spec.name])
        if problem := encoding_problem(text):
            raise UsageError(
                f"input {spec.name!r} holds {problem}; a model reads UTF-8 text, so decode it as UTF-8 first "
                "(errors='replace' keeps the rest of it)"
            )
        sep = "\n" if "\n" in text else " "
        blocks.append(f"{spec.label}:{sep}{text}")
    return "\n\n".join(blocks)


def _assistant_reply(signature: Signature, values: Mapping[str, Any], format: ReplyFormat) -> str:
    if format == "json":
        return json.dumps({f.name: _json_value(f, values[f.name]) for f in signature.outputs}, ensure_ascii=False)
    if len(signature.outputs) == 1:
        return render_value(values[signature.outputs[0].name])
    return "\n".join(f"{f.label}: {render_value(values[f.name])}" for f in signature.outputs)


def _json_value(spec: FieldSpec, value: Any) -> Any:
    if lowers_citations(spec) and isinstance(value, str) and spec.cites is not None:
        return cited_object(value, spec.cites.per)  # as the lowered schema asks for it
    return _jsonable(value)


def _jsonable(value: Any) -> Any:
    return adapter_for(type(value)).dump_python(value, mode="json")


RETRY_INSTRUCTION = "Write the whole reply again, fixing this."


def retry_turn(feedback: str) -> Message:
    """What a retry is told after its rejected reply: the feedback, then to write the reply again."""
    return Message("user", f"{feedback}\n{RETRY_INSTRUCTION}")


def demo_messages(signature: Signature, demo: Demo, format: ReplyFormat = "fields") -> tuple[Message, ...]:
    """The turns that show ``demo`` before the real inputs: its inputs, then its outputs.

    A :class:`~refine.history.RepairDemo` recorded in this reply format is shown the way a retry
    is: its inputs, the failed reply (quoted, not generated here), the feedback, the fixed outputs.
    Recorded in another format, its failed reply would teach the wrong one: it is shown plain.
    """
    user = Message("user", _user_prompt(signature.inputs, demo.values))
    fixed = Message("assistant", _assistant_reply(signature, demo.values, format))
    if isinstance(demo, RepairDemo) and demo.format == format:
        return (user, Message("assistant", demo.reply), retry_turn(demo.feedback), fixed)
    return (user, fixed)


def render_messages(
    signature: Signature, inputs: Mapping[str, Any], demos: Sequence[Demo] = (), *, format: ReplyFormat = "fields"
) -> tuple[Message, ...]:
    """The chat messages that ask for ``signature``'s outputs given ``inputs``, in reply ``format``."""
    missing = [f.name for f in signature.inputs if f.name not in inputs]
    if missing:
        raise SignatureError(
            f"missing input {', '.join(map(repr, missing))} for signature {signature}; "
            f"pass {', '.join(f'{m}=...' for m in missing)}"
        )
    extra = sorted(set(inputs) - {f.name for f in signature.inputs})
    if extra:
        raise SignatureError(
            f"unexpected input {', '.join(map(repr, extra))} for signature {signature}; "
            f"its inputs are {', '.join(f.name for f in signature.inputs) or 'none'}"
        )
    messages = [Message("system", _system_prompt(signature, format))]
    for demo in demos:
        messages.extend(demo_messages(signature, demo, format))
    messages.append(Message("user", _user_prompt(signature.inputs, inputs)))
    return tuple(messages)


def _convert(spec: FieldSpec, raw: str, text: str) -> Any:
    raw = raw.strip()
    if spec.type is str or spec.extractive:
        # An extractive "quote [n]" is bounded by its grammar and checked in validation.
        return raw
    adapter = adapter_for(spec.type)
    try:
        if spec.base_type is str:
            return adapter.validate_python(raw)  # a constrained str (length, pattern): never JSON
        if raw[:1] in "[{":
            return adapter.validate_json(raw)
        return adapter.validate_strings(raw)
    except pydantic.ValidationError as exc:
        problem = "breaks its constraint" if spec.base_type is str else f"should be {spec.type_name}, got"
        raise ParseError(
            f"field {spec.name!r} {problem} {raw[:60]!r}: {_first_error(exc)}", text=text, field=spec.name
        ) from exc


def _parse_json(signature: Signature, text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(f"the reply is not JSON ({exc.msg} at position {exc.pos})", text=text) from exc
    except RecursionError as exc:  # json.loads recurses once per level of nesting
        raise ParseError("the reply is JSON nested too deeply to read; reply with one flat object", text=text) from exc
    if not isinstance(data, dict):
        raise ParseError(f"the reply is JSON but not an object: {text[:60]!r}", text=text)
    missing = [f.name for f in signature.outputs if f.name not in data]
    if missing:
        raise ParseError(f"the reply lacks key {', '.join(map(repr, missing))}", text=text, field=missing[0])
    values = {}
    for spec in signature.outputs:
        value = data[spec.name]
        if lowers_citations(spec) and not isinstance(value, str):
            # A lowered citing field: its sentences and citation numbers, written back as [n] prose.
            try:
                value = render_cited(value)
            except ParseError as exc:
                raise ParseError(f"field {spec.name!r}: {exc}", text=text, field=spec.name) from None
        try:
            values[spec.name] = adapter_for(spec.type).validate_python(value)
        except pydantic.ValidationError as exc:
            raise ParseError(
                f"field {spec.name!r} should be {spec.type_name}, got {data[spec.name]!r:.60}: {_first_error(exc)}",
                text=text,
                field=spec.name,
            ) from exc
    return values


def _first_error(exc: pydantic.ValidationError) -> str:
    errors = exc.errors()
    return str(errors[0]["msg"]) if errors else str(exc)


# Labels match case-insensitively in ASCII only: under Unicode folding "An\u017fwer" (a long s) matches "Answer",
# which reads as a typo to the model and to the user alike, so it is a malformed reply.
_LABEL_FLAGS = re.IGNORECASE | re.ASCII


@functools.lru_cache(maxsize=512)  # parsed at every call; depends on the signature alone
def _label_pattern(signature: Signature) -> re.Pattern[str]:
    """A field label at the start of a line; the group ``f<i>`` that matched names output ``i``."""
    labels = "|".join(f"(?P<f{i}>{re.escape(f.label)})" for i, f in enumerate(signature.outputs))
    return re.compile(rf"^[ \t]*(?:{labels})[ \t]*:", _LABEL_FLAGS | re.MULTILINE)


def parse_reply(
    signature: Signature, text: str, *, format: ReplyFormat = "fields", constraint: Constraint | None = None
) -> dict[str, Any]:
    """The output fields of ``signature`` read from a reply, or a :class:`ParseError` naming the field.

    ``constraint`` is what the reply was decoded under, if anything. A single output's reply is
    its value, but a model may echo the label (``Answer: ...``): it is dropped only when what is
    left still satisfies the constraint, so the value stays one the grammar admitted.
    """
    if format == "json":
        return _parse_json(signature, text)
    outputs = signature.outputs
    if len(outputs) == 1:
        spec = outputs[0]
        body = re.sub(rf"^\s*{re.escape(spec.label)}\s*:", "", text, count=1, flags=_LABEL_FLAGS)
        if constraint is not None and body != text and not constraint.matches(body.strip()):
            body = text
        if not body.strip():
            raise ParseError(f"the reply is empty; expected the {spec.name!r} field", text=text, field=spec.name)
        return {spec.name: _convert(spec, body, text)}
    found: dict[str, str] = {}
    matches = list(_label_pattern(signature).finditer(text))
    for i, match in enumerate(matches):
        spec = outputs[int(str(match.lastgroup)[1:])]
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        found.setdefault(spec.name, text[match.end() : end])
    missing = [f.name for f in outputs if f.name not in found]
    if missing:
        raise ParseError(
            f"the reply lacks field {', '.join(map(repr, missing))}; each field must start a line as "
            f"'{signature.field(missing[0]).label}: ...'",
            text=text,
            field=missing[0],
        )
    return {f.name: _convert(f, found[f.name], text) for f in outputs}
