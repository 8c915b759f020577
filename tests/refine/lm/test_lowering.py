"""Lowering a citing answer to a JSON schema, and rendering the object back as [n] prose."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import citations
from corpora import Passage
from refine.constraints import Choice, JsonSchema, Quote, Regex, Seq, Substring
from refine.errors import ParseError, UnsupportedConstraint, UsageError
from refine.signatures._lowering import (
    SENTENCE_PATTERN,
    cited_answer_schema,
    lower_value,
    lowering_problem,
    render_cited,
    require_lowerable,
)


def test_the_per_sentence_schema_cites_by_an_integer_enum_of_1_to_k():
    schema = cited_answer_schema(3)
    item = schema["properties"]["sentences"]["items"]
    assert item["required"] == ["sentence", "citations"] and item["additionalProperties"] is False
    assert item["properties"]["citations"] == {
        "type": "array",
        "items": {"type": "integer", "enum": [1, 2, 3]},
        "minItems": 1,
        "maxItems": 2,
    }
    assert item["properties"]["sentence"]["pattern"] == SENTENCE_PATTERN
    json.dumps(schema)  # plain JSON


@pytest.mark.parametrize(
    ("sentence", "admitted"),
    [
        ("Paris", True),
        ("In 1901 Wilhelm Röntgen", True),
        ("1", False),  # a passage number written as the sentence: "1 [2][3]."
        ("1901 was the year", False),  # a digit first: held to a length, the model writes "1111..."
        ("Yes", False),
        ("1}, {", False),  # JSON written into the sentence
        ("Three Men on a Horse }, { more", False),
        ("<a sentence that answers the question>", False),  # the prompt's placeholder, copied
        ("The answer is <unknown>", False),
        ("x" * 160, True),
        ("x" * 161, False),
    ],
)
def test_a_sentence_is_4_to_160_characters_of_prose_from_a_letter(sentence, admitted):
    assert (re.fullmatch(SENTENCE_PATTERN, sentence) is not None) is admitted


def test_min_citations_lists_the_sets_of_distinct_passages():
    citations_schema = cited_answer_schema(3, min_citations=2)["properties"]["sentences"]["items"]["properties"]
    assert citations_schema["citations"] == {"enum": [[1, 2], [1, 3], [2, 3], [1, 2, 3]]}


def test_per_answer_cites_after_the_last_sentence():
    schema = cited_answer_schema(2, per="answer")
    assert schema["required"] == ["sentences", "citations"]
    assert render_cited({"sentences": ["Cats purr", "They do it when content"], "citations": [2, 1]}) == (
        "Cats purr. They do it when content [2][1]."
    )


def test_render_writes_each_sentence_with_its_markers():
    obj = {
        "sentences": [
            {"sentence": "Sentence one", "citations": [1]},
            {"sentence": "Sentence two ", "citations": [2, 3, 2]},
        ]
    }
    assert render_cited(obj) == "Sentence one [1]. Sentence two [2][3]."
    assert render_cited(json.dumps(obj)) == "Sentence one [1]. Sentence two [2][3]."


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ("{nope", "is not JSON"),
        ([1], "is list"),
        ({"sentences": []}, "no non-empty 'sentences' list"),
        ({"sentences": [{"sentence": "x"}]}, "not a {'sentence', 'citations'} object"),
        ({"sentences": [{"sentence": "x", "citations": [True]}]}, "not all integers"),
        ({"sentences": [{"sentence": 3, "citations": [1]}]}, "sentence=3, not a string"),
    ],
)
def test_render_refuses_what_the_schema_does_not_describe(obj, message):
    with pytest.raises(ParseError, match=re.escape(message)):
        render_cited(obj)


def test_schema_arguments_are_checked_with_the_fix():
    with pytest.raises(UsageError, match="k=0 must be an int >= 1"):
        cited_answer_schema(0)
    with pytest.raises(UsageError, match="min_citations=3 cannot be met with k=2 passages"):
        cited_answer_schema(2, min_citations=3)
    with pytest.raises(UsageError, match="per='claim' must be 'sentence' or 'answer'"):
        cited_answer_schema(2, per="claim")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("constraint", "message"),
    [
        (
            Quote(("Paris is in France.",)),
            r"Quote \(a verbatim quote\) has no exact JSON-schema form; drop extractive=True",
        ),
        (Substring("Paris is in France."), r"Substring \(a verbatim quote\)"),
        (Regex("[a-z]+ [0-9]"), r"Regex\('\[a-z\]\+ \[0-9\]'\) has no exact JSON-schema form; .*refine.LlamaCpp"),
        (Seq(("Answer: ", Regex("x+"))), r"Regex\('x\+'\)"),
    ],
)
def test_what_cannot_be_lowered_is_refused_by_name_with_the_way_out(constraint, message):
    with pytest.raises(
        UnsupportedConstraint, match=rf"backend 'ollama:m' enforces only JSON schemas for field 'quote': {message}"
    ):
        require_lowerable(constraint, backend="ollama:m", field="quote")


def test_choices_and_schemas_lower_exactly():
    assert (
        lowering_problem(Choice(("high", "low"))) is None
        and lowering_problem(JsonSchema.of({"type": "object"})) is None
    )
    assert lower_value(Choice(("high", "low"))) == {"type": "string", "enum": ["high", "low"]}


# --- whatever the schema admits, the checker accepts ------------------------------------------

sentence_text = st.from_regex(SENTENCE_PATTERN, fullmatch=True).filter(lambda s: len(s) <= 200)


@st.composite
def admitted(draw: st.DrawFn) -> tuple[int, str, int, dict]:
    """A k, per and min_citations, and an object that cited_answer_schema(k, per, min_citations) admits."""
    k = draw(st.integers(1, 6))
    per = draw(st.sampled_from(["sentence", "answer"]))
    minimum = draw(st.integers(1, min(k, 3)))
    schema = cited_answer_schema(k, per, minimum)

    def cites() -> list[int]:
        spec = (
            schema["properties"]["sentences"]["items"]["properties"]["citations"]
            if per == "sentence"
            else schema["properties"]["citations"]
        )
        if "enum" in spec and "items" not in spec:
            return list(draw(st.sampled_from(spec["enum"])))
        return draw(
            st.lists(st.sampled_from(spec["items"]["enum"]), min_size=spec["minItems"], max_size=spec["maxItems"])
        )

    count = draw(st.integers(1, 3))
    if per == "sentence":
        obj = {"sentences": [{"sentence": draw(sentence_text), "citations": cites()} for _ in range(count)]}
    else:
        obj = {"sentences": [draw(sentence_text) for _ in range(count)], "citations": cites()}
    return k, per, minimum, obj


@settings(max_examples=300, deadline=None)
@given(admitted())
def test_whatever_the_schema_admits_renders_into_valid_citations(case):
    k, per, minimum, obj = case
    passages = [Passage.create(f"P{i}", f"Passage number {i}.") for i in range(1, k + 1)]
    answer = render_cited(obj)
    report = citations.check(answer, passages)
    assert report.valid and not report.invalid, (answer, report)
    cited = [finding for finding in report.findings if not finding.uncited]
    assert cited and all(len(finding.refs) >= minimum for finding in cited), answer
    if per == "sentence":
        assert not report.uncited, (answer, report)
    else:
        assert report.findings[-1].refs, answer
