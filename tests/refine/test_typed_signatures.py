from __future__ import annotations

import enum
import json
from dataclasses import replace
from typing import Annotated, Literal

import pydantic
import pytest

from corpora import Passage
from refine import AssertionFailed, Citations, InputField, OutputField, Predict, ScriptedLM, Signature, SignatureError
from refine.constraints import Choice, JsonSchema, Quote, Regex, Seq
from refine.signatures import fields_constraint, json_schema

PASSAGES = [Passage.create("Paris", "Paris is the capital of France."), Passage.create("Rome", "Rome is in Italy.")]


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Item(pydantic.BaseModel):
    name: str
    count: int = 1
    color: Color


class Rich(Signature, instructions="Fill every field."):
    passages: list[Passage] = InputField()
    question: str = InputField()
    answer: str = OutputField(citations=Citations(per="sentence"))
    mood: Literal["happy", "sad"] = OutputField()
    color: Color = OutputField()
    score: float = OutputField(ge=0, le=1)
    count: int = OutputField()
    flag: bool = OutputField()
    code: str = OutputField(pattern=r"^[A-Z]{3}$")
    short: Annotated[str, pydantic.Field(max_length=12)] = OutputField()
    items: list[Item] = OutputField()


def test_class_signature_with_pydantic_types_survives_json():
    sig = Rich()
    text = sig.to_json()
    again = Signature.from_json(text)
    assert again == sig and hash(again) == hash(sig)
    assert Signature.from_json(again.to_json()) == sig
    assert json.loads(text)["version"] == 1
    assert again.field("answer").citations == Citations(per="sentence")


def test_changed_constraint_changes_the_value():
    class Loose(Signature):
        score: float = OutputField(ge=0)

    class Tight(Signature):
        score: float = OutputField(ge=0, le=1)

    assert Loose() != Tight()


def test_from_json_refuses_foreign_data():
    with pytest.raises(SignatureError, match="not a refine signature"):
        Signature.from_json('{"format": "other"}')
    with pytest.raises(SignatureError, match="cannot read a signature"):
        Signature.from_json("{not json")


def test_citation_rules_need_a_str_output():
    with pytest.raises(SignatureError, match="requires citations but has type int"):

        class Bad(Signature):
            n: int = OutputField(citations=Citations())

    with pytest.raises(SignatureError, match=r"Citations\(min=0\) must be >= 1"):
        Citations(min=0)


def test_fields_constraint_follows_each_type():
    grammar = fields_constraint(Rich(), {"passages": PASSAGES, "question": "q"})
    assert isinstance(grammar, Seq)
    parts = dict(zip(grammar.parts[::2], grammar.parts[1::2], strict=True))
    assert isinstance(parts["Answer: "], Regex) and parts["Answer: "].matches("Paris is in France [1].")
    assert not parts["Answer: "].matches("Paris is in France [3].")
    assert parts["\nMood: "] == Choice(("happy", "sad"))
    assert parts["\nColor: "] == Choice(("red", "blue"))
    assert parts["\nFlag: "] == Choice(("true", "false"))
    assert parts["\nCode: "] == Regex("[A-Z]{3}")
    assert parts["\nShort: "] == Regex(r"[^\n]{1,12}")
    assert parts["\nCount: "].matches("-42") and parts["\nScore: "].matches("0.25")
    assert isinstance(parts["\nItems: "], JsonSchema)


def test_extractive_field_admits_only_quotes_of_the_cited_passage():
    sig = Signature("passages: list[Passage], question -> answer").with_field("answer", extractive=True)
    grammar = fields_constraint(sig, {"passages": PASSAGES, "question": "q"})
    assert grammar == Quote(("Paris is the capital of France.", "Rome is in Italy."))
    assert grammar.matches("the capital of France. [1]")
    assert grammar.matches("Paris is the capital [1]")
    assert not grammar.matches("the capital of France. [2]")
    assert not grammar.matches("capital of Italy [2]")
    assert not grammar.matches("Par [1]")  # quotes are made of whole words


def test_json_schema_for_schema_only_backends():
    schema = json_schema(Rich())
    assert schema["required"][:2] == ["answer", "mood"]
    assert schema["properties"]["mood"] == {"enum": ["happy", "sad"], "type": "string"}
    assert set(schema["$defs"]) == {"Color", "Item"}
    assert schema["additionalProperties"] is False


def test_json_schema_backend_gets_json_replies():
    sig = Signature("question -> answer, confidence: float")
    lm = ScriptedLM(['{"answer": "Paris", "confidence": 0.5}'], supports=(JsonSchema,))
    prediction = Predict(sig, lm=lm)(question="q")
    assert prediction.outputs == {"answer": "Paris", "confidence": 0.5}
    request = lm.requests[0]
    assert isinstance(request.constraint, JsonSchema)
    assert "Reply with one JSON object" in request.messages[0].content


def test_violations_are_structured_and_fed_back():
    class Cited(Signature):
        passages: list[Passage] = InputField()
        question: str = InputField()
        answer: str = OutputField(citations=Citations(per="sentence"))

    lm = ScriptedLM(["Paris is French. Rome is Italian [2].", "Paris is French [1]. Rome is Italian [2]."], supports=())
    prediction = Predict(Cited, lm=lm)(passages=PASSAGES, question="q")
    assert prediction.ok and len(prediction.attempts) == 2
    (violation,) = prediction.attempts[0].failures
    assert (violation.field, violation.rule) == ("answer", "citations")
    assert violation.value == "Paris is French. Rome is Italian [2]."
    assert violation.message.startswith("Sentence 1 (")
    assert violation.message in lm.requests[1].messages[-1].content


def test_constraint_violations_in_typed_fields_are_retried():
    lm = ScriptedLM(["Code: abcd", "Code: ABC"], supports=())

    class Coded(Signature):
        question: str = InputField()
        code: str = OutputField(pattern=r"^[A-Z]{3}$")

    prediction = Predict(Coded, lm=lm)(question="q")
    assert prediction.code == "ABC"
    assert "breaks its constraint" in prediction.attempts[0].feedback


class Typed(Signature, instructions="Answer from the passages and fill every field."):
    passages: list[Passage] = InputField()
    question: str = InputField()
    answer: str = OutputField(citations=Citations(per="sentence"))
    quote: str = OutputField(extractive=True)
    confidence: Literal["high", "medium", "low"] = OutputField()
    year: int = OutputField()
    # Bounded, as a list the model fills should be: the grammar then always ends within max_tokens.
    tags: Annotated[list[str], pydantic.Field(max_length=3)] = OutputField(description="up to three keywords")


@pytest.mark.model
def test_embedded_model_output_always_parses_and_validates_under_the_grammar(embedded_lm):
    inputs = {"passages": PASSAGES, "question": "What is the capital of France?"}
    prediction = Predict(Typed, lm=embedded_lm, max_backtracks=0)(**inputs)
    assert prediction.ok, prediction.violations
    assert prediction.confidence in ("high", "medium", "low")
    assert isinstance(prediction.year, int) and isinstance(prediction.tags, list)
    quote, marker = prediction.quote.rsplit("[", 1)
    cited = PASSAGES[int(marker.rstrip("]")) - 1]
    assert quote.strip() and quote.strip() in cited.text


@pytest.mark.model
def test_sampled_outputs_under_the_grammar_all_parse(embedded_lm):
    inputs = {"passages": PASSAGES, "question": "Which city is in Italy?"}
    predict = Predict(Typed, lm=embedded_lm, max_backtracks=0, temperature=1.0)
    for seed in range(2):  # each seed samples its own path through the grammar
        request = predict.plan(embedded_lm, inputs).request.with_sampling(temperature=1.0, seed=seed)
        attempt = predict.attempt(embedded_lm, request, inputs)
        assert attempt.ok, (attempt.response.text, attempt.failures)


class _CutFirst(ScriptedLM):
    """A scripted LM whose first reply ran out of tokens, as a backend reports it."""

    def complete(self, request):  # type: ignore[no-untyped-def]
        response = super().complete(request)
        return replace(response, finish_reason="length") if len(self.requests) == 1 else response


def test_a_reply_cut_at_max_tokens_is_retried_with_feedback_that_says_so():
    lm = _CutFirst(["Answer: Paris\nYe", "Answer: Paris\nYear: 1889"], supports=())
    prediction = Predict("question -> answer, year: int", lm=lm, max_backtracks=1)(question="q")
    assert prediction.year == 1889 and len(lm.requests) == 2
    (retry,) = [m.content for m in lm.requests[1].messages if "max_tokens" in m.content]
    assert "stopped at max_tokens=" in retry and "shorter" in retry


@pytest.mark.model
def test_a_reply_stops_at_max_tokens_inside_any_grammar_on_the_embedded_model(embedded_lm):
    # Every field of Typed cannot fit in 24 tokens: the reply must stop there, not at the context's end.
    inputs = {"passages": PASSAGES, "question": "Which city is in Italy?"}
    predict = Predict(Typed, lm=embedded_lm, max_backtracks=0, temperature=1.0)
    request = replace(predict.plan(embedded_lm, inputs).request, max_tokens=24, temperature=1.0)
    attempt = predict.attempt(embedded_lm, request, inputs)
    # Counted again from the text, the reply may take a few tokens more than the model spent on it
    # (text the grammar forces is not split as the tokenizer splits it); far from 4,096 either way.
    assert attempt.response.finish_reason == "length" and attempt.response.completion_tokens <= 48, attempt.response
    assert not attempt.ok and "stopped at max_tokens=24" in attempt.failures[0].message


def test_extractive_quotes_can_be_bounded_in_length():
    class Short(Signature):
        passages: list[Passage] = InputField()
        question: str = InputField()
        answer: str = OutputField(extractive=True, max_length=12)

    inputs = {"passages": PASSAGES, "question": "q"}
    grammar = fields_constraint(Short(), inputs)
    assert grammar == Quote(tuple(p.text for p in PASSAGES), max_chars=12)
    assert grammar.matches("the capital [1]")
    assert not grammar.matches("Paris is the capital [1]")
    lm = ScriptedLM(["Paris is the capital of France. [1]"], supports=())
    (violation,) = Predict(Short, lm=lm, max_backtracks=0, strict=False)(**inputs).violations
    assert violation.rule == "quote" and "quote at most 12" in violation.message and not violation.hard
    with pytest.raises(AssertionFailed, match=r"still fails after 1 attempts .*quote at most 12") as info:
        Predict(Short, lm=ScriptedLM(["Paris is the capital of France. [1]"], supports=()), max_backtracks=0)(**inputs)
    assert [v.rule for v in info.value.failures] == ["quote"] and len(info.value.attempts) == 1


@pytest.mark.model
def test_json_format_under_the_signature_schema_parses_on_the_embedded_model(embedded_lm):
    from refine.lm import LMRequest
    from refine.signatures import parse_reply, render_messages

    class Rated(Signature):
        question: str = InputField()
        answer: str = OutputField()
        year: int = OutputField(ge=0, le=3000)  # JSON numbers are open-ended: bounds keep them short
        tags: Annotated[list[str], pydantic.Field(max_length=3)] = OutputField()

    sig = Rated()
    messages = render_messages(sig, {"question": "What is the capital of France?"}, format="json")
    reply = embedded_lm.complete(LMRequest(messages, constraint=JsonSchema.of(json_schema(sig)), max_tokens=200))
    values = parse_reply(sig, reply.text, format="json")
    assert set(values) == {"answer", "year", "tags"} and isinstance(values["year"], int)


# -- round trips the signature property found broken (issue 11) -------------------------------------
class Excerpt(Signature):
    passage: Passage = InputField()
    question: str = InputField()
    answer: str = OutputField()


def test_a_bare_passage_field_survives_json_in_class_form():
    again = Signature.from_json(Excerpt().to_json())
    assert again == Excerpt() and again.field("passage").type is Passage


class Level(enum.Enum):
    """How sure the answer is."""

    LOW = 1
    HIGH = 2


class Reserved(enum.Enum):
    MRO = "mro"  # a value Python refuses as a member name
    HIDDEN = "_hidden"


class Tree(pydantic.BaseModel):
    label: str
    children: list[Tree] = []


class Awkward(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(title="Shown", extra="forbid")

    mood: Literal["up", "down"]  # a Literal field is no Enum named Mood
    tags: list[str] = pydantic.Field(default_factory=list)  # optional, with no default in the schema
    schema_: int = pydantic.Field(alias="schema", title="Schema of it")  # shadows BaseModel.schema
    level: Level = Level.LOW


@pytest.mark.parametrize(
    "tp",
    [
        Level,  # int values: Enum(..., type=object) has no MRO
        Reserved,
        Tree,  # a model that contains itself: RecursionError
        Awkward,
        list[Awkward],  # a "$defs" key that differs from the title
        Annotated[int, pydantic.Field(description="a year", ge=0)],
        Annotated[dict[str, int], pydantic.Field(min_length=1)],
        Literal[True, False] | None,
        tuple[int, str],
        set[str],
    ],
)
def test_typed_fields_survive_json(tp):
    sig = Signature().append("x", "output", tp)
    again = Signature.from_json(sig.to_json())
    assert again.field("x").json_schema == sig.field("x").json_schema
    assert again == sig


def test_a_literal_union_keeps_its_order_whatever_typing_cached():
    # typing caches Union[...] by equality, and Literal[False, True] == Literal[True, False].
    Signature.from_json(Signature().append("x", "output", dict[str, Literal[False, True]] | None).to_json())
    sig = Signature().append("x", "output", dict[str, Literal[True, False]] | None)
    again = Signature.from_json(Signature.from_json(sig.to_json()).to_json())
    assert again == sig
