"""Signatures, and everything derived from one mechanically.

A :class:`Signature` says what a step does: typed input and output fields, instructions, the
citations an output must carry. From it refine derives, with no LM involved, the chat messages
that ask for it (:func:`render_messages`) and the parser of the reply (:func:`parse_reply`), the
grammar a grammar backend decodes under (:func:`fields_constraint`), the exact JSON schema a
backend that only takes JSON schemas gets (:func:`json_schema`; a citing field lowered by
:func:`cited_answer_schema` and written back by :func:`render_cited`), and the checks of what a
reply declares (:func:`validate`).
"""

from refine.signatures._adapter import (
    RETRY_INSTRUCTION,
    ReplyFormat,
    demo_messages,
    format_passages,
    parse_reply,
    render_messages,
    render_value,
    retry_turn,
)
from refine.signatures._grammar import as_passages, fields_constraint, json_schema, value_constraint
from refine.signatures._lowering import (
    cited_answer_constraint,
    cited_answer_schema,
    cited_answer_shape,
    render_cited,
)
from refine.signatures._signature import (
    Citations,
    FieldKind,
    FieldSpec,
    InputField,
    OutputField,
    Signature,
    as_signature,
)
from refine.signatures._validation import validate

__all__ = [
    "RETRY_INSTRUCTION",
    "Citations",
    "FieldKind",
    "FieldSpec",
    "InputField",
    "OutputField",
    "ReplyFormat",
    "Signature",
    "as_passages",
    "as_signature",
    "cited_answer_constraint",
    "cited_answer_schema",
    "cited_answer_shape",
    "demo_messages",
    "fields_constraint",
    "format_passages",
    "json_schema",
    "parse_reply",
    "render_cited",
    "render_messages",
    "render_value",
    "retry_turn",
    "validate",
    "value_constraint",
]
