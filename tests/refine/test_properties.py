"""Property tests of signatures, parsing and grammars (hypothesis)."""

from __future__ import annotations

import enum
from typing import Any, Literal

import pydantic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpora import Passage
from refine import Citations, InputField, OutputField, ParseError, Predict, ScriptedLM, Signature
from refine.signatures import FieldSpec, fields_constraint, parse_reply
from refine.testing import replies


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Item(pydantic.BaseModel):
    name: str
    count: int = 1


OUTPUT_TYPES: list[Any] = [str, int, float, bool, Literal["yes", "no"], Color, list[str], list[Item], Item]
INLINE_TYPES = {"str": str, "int": int, "float": float, "bool": bool, "list[str]": list[str], "list[int]": list[int]}
NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
PASSAGES = [
    Passage.create("Paris", "Paris is the capital of France."),
    Passage.create("Rome", "Rome is the capital [7] of Italy [1][2]."),  # a quote must not hold a marker
    Passage.create("Oslo", "Oslo is the capital of Norway \u30101\u3011."),
]


@st.composite
def signatures(draw: st.DrawFn) -> Signature:
    names = draw(st.lists(NAMES, min_size=1, max_size=5, unique=True))
    fields = [FieldSpec("passages", "input", list[Passage]), FieldSpec("question", "input", str)]
    for name in names:
        if name in ("passages", "question"):
            continue
        tp = draw(st.sampled_from(OUTPUT_TYPES))
        cites = tp is str and draw(st.booleans())
        fields.append(
            FieldSpec(
                name,
                "output",
                tp,
                draw(st.text(max_size=20)),
                Citations(per=draw(st.sampled_from(["answer", "sentence"]))) if cites else None,
            )
        )
    if len(fields) == 2:
        fields.append(FieldSpec("answer", "output", str))
    return Signature(instructions=draw(st.text(max_size=40)), fields=fields)


@given(signatures())
def test_any_signature_survives_a_json_round_trip(signature):
    again = Signature.from_json(signature.to_json())
    assert again == signature
    assert hash(again) == hash(signature)
    assert again.to_json() == signature.to_json()


@given(
    st.lists(st.tuples(NAMES, st.sampled_from(sorted(INLINE_TYPES))), min_size=2, max_size=5, unique_by=lambda t: t[0])
)
def test_inline_and_class_forms_agree(fields):
    *inputs, output = fields
    spec = ", ".join(f"{n}: {t}" for n, t in inputs) + f" -> {output[0]}: {output[1]}"
    namespace: dict[str, Any] = {"__annotations__": {}}
    for name, type_text in inputs:
        namespace["__annotations__"][name] = INLINE_TYPES[type_text]
        namespace[name] = InputField()
    namespace["__annotations__"][output[0]] = INLINE_TYPES[output[1]]
    namespace[output[0]] = OutputField()
    cls = type("Dynamic", (Signature,), namespace)
    assert cls() == Signature(spec)


@given(signatures(), st.text())
def test_the_parser_returns_fields_or_a_parse_error(signature, text):
    try:
        values = parse_reply(signature, text)
    except ParseError as exc:
        assert exc.text == text
    else:
        assert set(values) == {f.name for f in signature.outputs}


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_every_reply_a_grammar_admits_parses_and_validates(data):
    signature = data.draw(signatures())
    inputs = {"passages": PASSAGES, "question": "Which city is the capital of France?"}
    reply = data.draw(replies(fields_constraint(signature, inputs, max_chars=512)))  # Predict's max_tokens
    prediction = Predict(signature, lm=ScriptedLM([reply]), max_backtracks=0)(**inputs)
    assert prediction.ok, (reply, prediction.violations)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.sampled_from(["sentence", "answer", "extractive"]), st.integers(1, 3))
def test_every_cited_reply_a_grammar_admits_validates(data, mode, k):
    sig = Signature("passages: list[Passage], question -> answer")
    if mode == "extractive":
        sig = sig.with_field("answer", extractive=True)
    else:
        sig = sig.with_field("answer", citations=Citations(per=mode))
    inputs = {"passages": PASSAGES[:k], "question": "Which city is the capital of France?"}
    reply = data.draw(replies(fields_constraint(sig, inputs)))
    prediction = Predict(sig, lm=ScriptedLM([reply]), max_backtracks=0)(**inputs)
    assert prediction.ok, (reply, prediction.violations)


def _decoded_length(reply: str) -> int:
    """Characters as the budget counts them: a ``\\uXXXX`` escape as two (see refine._json_bounds)."""
    return len(reply) - 4 * reply.count("\\u")


@settings(max_examples=80, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_a_reply_of_fields_of_known_length_fits_the_token_budget(data):
    # Cut at max_tokens, a reply of several fields does not parse; the grammar must end in time.
    signature = data.draw(signatures().filter(lambda s: all(f.type is not str or f.cites for f in s.outputs)))
    inputs = {"passages": PASSAGES, "question": "Which city is the capital of France?"}
    reply = data.draw(replies(fields_constraint(signature, inputs, max_chars=512)))
    assert _decoded_length(reply) <= 512, reply
