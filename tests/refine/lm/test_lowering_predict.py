"""The citation guarantee on a backend that enforces only JSON schemas: Predict lowers the signature.

ScriptedLM(supports=(JsonSchema,)) plays such a backend (Ollama, an OpenAI-compatible server): it
holds each scripted reply to the request's schema, as a real backend's grammar would, so a
reply the lowered schema does not admit cannot reach the parser.
"""

from __future__ import annotations

import json
import re
from typing import Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import citations
import refine
from corpora import Passage
from refine import CitedRAG, Predict, ScriptedLM
from refine.constraints import JsonSchema
from refine.errors import LMError, UnsupportedConstraint
from refine.history import Demo
from refine.lm import LMResponse
from refine.lm._jsonschema import schema_problem
from refine.rag import CitedQA
from refine.signatures import Citations, InputField, OutputField, Signature, json_schema
from refine.signatures._lowering import SENTENCE_PATTERN, cited_answer_schema, render_cited
from refine.usage import Usage

PASSAGES = [
    Passage.create("Cats", "Cats purr when they are content."),
    Passage.create("Dogs", "Dogs bark at strangers."),
    Passage.create("Owls", "Owls hunt at night."),
]
JSON_ONLY = (JsonSchema,)


def cited(*sentences: tuple[str, list[int]]) -> dict:
    return {"sentences": [{"sentence": s, "citations": c} for s, c in sentences]}


def reply(**fields: object) -> str:
    return json.dumps(fields)


# --- the lowered schema ------------------------------------------------------------------------


def test_cited_rag_on_a_json_backend_decodes_under_the_lowered_schema_and_renders_prose():
    lm = ScriptedLM(
        [reply(answer=cited(("Cats purr when content", [1]), ("Owls hunt at night", [3, 1])))], supports=JSON_ONLY
    )
    result = CitedRAG(lm=lm)(question="Why do cats purr?", passages=PASSAGES)
    assert result.answer == "Cats purr when content [1]. Owls hunt at night [3][1]."
    assert result.valid and result.ok and [n for n, _ in result.cited] == [1, 3]
    (request,) = lm.requests
    schema = json.loads(request.constraint.schema)
    assert schema["properties"]["answer"] == cited_answer_schema(3, per="sentence", min_citations=1)
    # The keys stay in the order they are to be written: the sentence before the citations closing it.
    assert request.constraint.schema.index('"sentence"') < request.constraint.schema.index('"citations"')
    assert "numbers of the passages" in request.messages[0].content
    # The shape is shown with placeholders the sentence pattern refuses, so they cannot be copied.
    shown = '{"sentences": [{"sentence": "<a sentence that answers the question>", "citations": [<the number'
    assert shown in request.messages[0].content
    assert re.fullmatch(SENTENCE_PATTERN, "<a sentence that answers the question>") is None


def test_k_per_and_min_come_from_the_inputs_and_the_citation_rule():
    class TwoSources(Signature, instructions="Answer from two passages."):
        passages: list[Passage] = InputField()
        question: str = InputField()
        answer: str = OutputField(citations=Citations(per="answer", min=2))

    answer = {"sentences": ["Cats purr", "Dogs bark"], "citations": [1, 2]}
    lm = ScriptedLM([reply(answer=answer)], supports=JSON_ONLY)
    prediction = Predict(TwoSources, lm=lm)(passages=PASSAGES[:2], question="What do pets do?")
    assert prediction.answer == "Cats purr. Dogs bark [1][2]." and prediction.ok
    lowered = json.loads(lm.requests[0].constraint.schema)["properties"]["answer"]
    assert lowered == cited_answer_schema(2, per="answer", min_citations=2)
    assert lowered["properties"]["citations"] == {"enum": [[1, 2]]}
    shape = '{"sentences": ["<a sentence that answers the question>"], "citations": [<the number of its passage>]}'
    assert shape in lm.requests[0].messages[0].content


def test_the_scripted_backend_holds_replies_to_the_schema_as_a_grammar_would():
    lm = ScriptedLM([reply(answer=cited(("Cats purr", [4])))], supports=JSON_ONLY)
    with pytest.raises(LMError, match=r"\$\.answer\.sentences\[0\]\.citations\[0\] is 4, not one of \[1, 2, 3\]"):
        CitedRAG(lm=lm)(question="Why do cats purr?", passages=PASSAGES)
    lm = ScriptedLM([reply(answer="Cats purr [1].")], supports=JSON_ONLY)
    with pytest.raises(LMError, match=r"\$\.answer is 'Cats purr \[1\]\.', not of type object"):
        CitedRAG(lm=lm)(question="Why do cats purr?", passages=PASSAGES)


def test_choices_lower_to_string_enums_and_other_types_to_their_own_schema():
    class Rated(Signature):
        passages: list[Passage] = InputField()
        question: str = InputField()
        answer: str = OutputField(citations=Citations())
        confidence: Literal["high", "low"] = OutputField()
        level: Literal[1, 2] = OutputField()
        sure: bool = OutputField()
        votes: int = OutputField()

    text = reply(answer=cited(("Owls hunt at night", [3])), confidence="high", level=2, sure=True, votes=7)
    lm = ScriptedLM([text], supports=JSON_ONLY)
    prediction = Predict(Rated, lm=lm)(passages=PASSAGES, question="When do owls hunt?")
    assert dict(prediction.outputs) == {
        "answer": "Owls hunt at night [3].",
        "confidence": "high",
        "level": 2,
        "sure": True,
        "votes": 7,
    }
    properties = json.loads(lm.requests[0].constraint.schema)["properties"]
    assert properties["confidence"] == {"type": "string", "enum": ["high", "low"]}
    assert properties["level"] == {"enum": [1, 2], "type": "integer"} and properties["sure"] == {"type": "boolean"}


def test_a_grammar_backend_still_gets_the_field_format_and_no_refusal():
    class Quoted(Signature):
        passages: list[Passage] = InputField()
        quote: str = OutputField(extractive=True)

    lm = ScriptedLM(["Cats purr [1]"])
    assert Predict(Quoted, lm=lm)(passages=PASSAGES).quote == "Cats purr [1]"
    assert not isinstance(lm.requests[0].constraint, JsonSchema)


def test_demos_are_shown_in_the_lowered_form():
    demo = Demo({"passages": PASSAGES, "question": "What do dogs do?", "answer": "Dogs bark at strangers [2]."})
    lm = ScriptedLM([reply(answer=cited(("Owls hunt at night", [3])))], supports=JSON_ONLY)
    Predict(CitedQA, lm=lm, demos=[demo])(passages=PASSAGES, question="When do owls hunt?")
    shown = json.loads(lm.requests[0].messages[2].content)
    assert shown == {"answer": cited(("Dogs bark at strangers", [2]))}
    assert schema_problem(json.loads(lm.requests[0].constraint.schema), shown) is None


# --- what cannot be lowered exactly ------------------------------------------------------------


class Extract(Signature, instructions="Quote the passage."):
    passages: list[Passage] = InputField()
    question: str = InputField()
    quote: str = OutputField(extractive=True)


class Coded(Signature):
    question: str = InputField()
    code: str = OutputField(pattern=r"^[A-Z]{3}-[0-9]{2}$")


@pytest.mark.parametrize(
    ("signature", "inputs", "message"),
    [
        (
            Extract,
            {"passages": PASSAGES, "question": "Why?"},
            r"backend 'ollama' enforces only JSON schemas for field 'quote': Quote \(a verbatim quote\) has no "
            r"exact JSON-schema form; drop extractive=True, or validate the quote after decoding \(strict=False\), "
            r"or use refine.LlamaCpp",
        ),
        (
            Coded,
            {"question": "Which code?"},
            r"backend 'ollama' enforces only JSON schemas for field 'code': Regex\('\^\[A-Z\]\{3\}-\[0-9\]\{2\}\$'\) "
            r"has no exact JSON-schema form; .*validate after decoding \(strict=False\), or use refine.LlamaCpp",
        ),
    ],
)
def test_what_cannot_be_lowered_is_refused_by_name_with_the_way_out(signature, inputs, message):
    lm = ScriptedLM([], supports=JSON_ONLY, name="ollama")
    with pytest.raises(UnsupportedConstraint, match=message):
        Predict(signature, lm=lm)(**inputs)
    assert lm.requests == []  # refused before any call


def test_with_strict_false_a_quote_is_validated_after_decoding_and_retried_with_feedback():
    lm = ScriptedLM([reply(quote="Cats meow loudly [1]"), reply(quote="Cats purr [1]")], supports=JSON_ONLY)
    prediction = Predict(Extract, lm=lm, strict=False)(passages=PASSAGES, question="What do cats do?")
    assert prediction.quote == "Cats purr [1]" and prediction.ok and len(prediction.attempts) == 2
    assert "verbatim" in prediction.attempts[0].feedback or "quote" in prediction.attempts[0].feedback
    assert json.loads(lm.requests[0].constraint.schema)["properties"]["quote"] == {"type": "string"}


def test_with_strict_false_a_pattern_is_validated_after_decoding():
    lm = ScriptedLM([reply(code="abc"), reply(code="ABC-12")], supports=JSON_ONLY)
    prediction = Predict(Coded, lm=lm, strict=False)(question="Which code?")
    assert prediction.code == "ABC-12" and len(prediction.attempts) == 2


def test_the_type_schema_without_inputs_is_unchanged():
    assert json_schema(CitedQA())["properties"]["answer"]["type"] == "string"


# --- whatever the lowered schema admits, the checker accepts ----------------------------------


@st.composite
def near_misses(draw: st.DrawFn) -> tuple[int, str, int, object]:
    """A citation rule and a value for the answer: mostly one the lowered schema admits, else a near miss.

    Each piece (a sentence, its citations, the number of sentences) is drawn from what the schema
    admits, or, one time in five, from a wider set that holds what it does not.
    """
    k = draw(st.integers(1, 5))
    per = draw(st.sampled_from(["sentence", "answer"]))
    minimum = draw(st.integers(1, min(k, 2)))

    def loose() -> bool:
        return draw(st.integers(0, 4)) == 0

    def sentence() -> str:
        if loose():
            return draw(st.text(max_size=12))
        return draw(st.from_regex(SENTENCE_PATTERN, fullmatch=True).filter(lambda s: len(s) <= 200))

    def numbers() -> list[int]:
        if loose():
            return draw(st.lists(st.integers(-1, k + 1), max_size=4))
        if minimum == 1:
            return draw(st.lists(st.integers(1, k), min_size=1, max_size=2))
        size = draw(st.sampled_from([n for n in (minimum, minimum + 1) if n <= k]))
        return sorted(draw(st.sets(st.integers(1, k), min_size=size, max_size=size)))

    count = draw(st.integers(0, 4)) if loose() else draw(st.integers(1, 3))
    if per == "sentence":
        value: object = {"sentences": [{"sentence": sentence(), "citations": numbers()} for _ in range(count)]}
    else:
        value = {"sentences": [sentence() for _ in range(count)], "citations": numbers()}
    return k, per, minimum, value


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(near_misses())
def test_whatever_the_lowered_schema_admits_predict_returns_with_valid_citations(case):
    k, per, minimum, value = case

    class Cite(Signature, instructions="Answer with citations."):
        passages: list[Passage] = InputField()
        question: str = InputField()
        answer: str = OutputField(citations=Citations(per=per, min=minimum))

    passages = [Passage.create(f"P{i}", f"Passage number {i}.") for i in range(1, k + 1)]
    inputs = {"passages": passages, "question": "What is it?"}
    schema = json_schema(Cite(), inputs, backend="scripted")
    text = reply(answer=value)
    if schema_problem(schema, json.loads(text)) is not None:
        with pytest.raises(LMError, match="breaks the request's constraint"):
            Predict(Cite, lm=ScriptedLM([text], supports=JSON_ONLY))(**inputs)
        return
    prediction = Predict(Cite, lm=ScriptedLM([text], supports=JSON_ONLY), max_backtracks=0)(**inputs)
    assert prediction.ok, (prediction.answer, prediction.failures)  # the checks Predict runs accept it
    assert prediction.answer == render_cited(value)
    report = citations.check(prediction.answer, passages)
    assert report.valid and not report.invalid, (prediction.answer, report)
    if per == "sentence":
        assert not report.uncited, prediction.answer


# --- usage counts the response cache, and the error tree ---------------------------------------


def _response(cache):
    return LMResponse("x", prompt_tokens=3, completion_tokens=1, seconds=0.5, model="m", cache=cache)


def test_usage_counts_cache_hits_and_misses():
    usage = Usage.of([_response("hit"), _response("miss"), _response("hit"), _response(None)])
    assert (usage.calls, usage.cache_hits, usage.cache_misses) == (4, 2, 1)
    assert usage.cache_hit_rate == pytest.approx(2 / 3)
    total = usage + Usage(1, 2, 3, 4.0, 5, 6, 7)
    assert (total.calls, total.cached_tokens, total.cache_hits, total.cache_misses) == (5, 5, 8, 8)
    assert Usage(1, 10, 2, 0.5, 4) == Usage(
        calls=1, prompt_tokens=10, completion_tokens=2, seconds=0.5, cached_tokens=4
    )
    assert Usage().cache_hit_rate is None


def test_backend_errors_are_in_the_one_tree_and_still_exported_by_refine_lm():
    from refine import errors

    assert issubclass(errors.BackendError, errors.LMError) and issubclass(
        errors.BackendUnavailable, errors.BackendError
    )
    assert issubclass(errors.ModelNotServed, errors.ModelNotFound) and issubclass(
        errors.ModelNotServed, errors.UsageError
    )
    assert refine.lm.BackendError is errors.BackendError and refine.lm.ModelNotServed is errors.ModelNotServed
    assert refine.lm.BackendUnavailable is errors.BackendUnavailable
    assert "ModelNotServed" in errors.__doc__ and "BackendUnavailable" in errors.__doc__
