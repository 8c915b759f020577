"""Ready checks a grammar can express are decoded, not retried; elsewhere they stay checks."""

from __future__ import annotations

from typing import Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import citations
from corpora import Passage
from refine import Assert, OutputField, Predict, Prediction, ScriptedLM, Suggest, UsageError, checks
from refine.constraints import Bounds, Choice, JsonSchema, Quote, Regex, short_cited_pattern, words_pattern
from refine.program._assertions import field_bounds
from refine.rag import CitedQA, ExtractiveQA
from refine.testing import replies

PASSAGES = [
    Passage.create("Eiffel", "The Eiffel Tower is 330 metres tall and was finished in 1889 by Gustave Eiffel."),
    Passage.create("Paris", "Paris is the capital of France, with 2.1 million residents."),
    Passage.create("Seine", "The Seine flows through Paris to the English Channel at Le Havre."),
]
INPUTS = {"passages": PASSAGES, "question": "How tall is the tower?"}


def constraint_of(predict: Predict, lm=None, inputs=INPUTS):
    return predict.plan(lm or ScriptedLM(["unused"]), inputs).request.constraint


def holds(check, answer: str, inputs=INPUTS) -> bool:
    return check(Prediction({"answer": answer}, inputs=inputs)) == ()


@settings(max_examples=60, deadline=None)
@given(data=st.data(), limit=st.integers(1, 6))
def test_a_word_limit_on_a_cited_answer_is_decoded_and_the_check_accepts_whatever_it_admits(data, limit):
    check = checks.max_words("answer", limit)
    constraint = constraint_of(Predict(CitedQA, assertions=[Assert(check)]))
    assert constraint == Regex(short_cited_pattern(3, limit))
    reply = data.draw(replies(constraint))
    assert holds(check, reply), reply
    report = citations.check(reply, PASSAGES)
    assert report.valid and not report.uncited, reply


@settings(max_examples=40, deadline=None)
@given(data=st.data(), limit=st.integers(1, 3))
def test_a_sentence_limit_is_decoded_and_every_sentence_stays_cited(data, limit):
    check = checks.max_sentences("answer", limit)
    reply = data.draw(replies(constraint_of(Predict(CitedQA, assertions=[Suggest(check)]))))
    assert holds(check, reply), reply
    assert not citations.check(reply, PASSAGES).uncited


@settings(max_examples=40, deadline=None)
@given(data=st.data(), limit=st.integers(10, 400))
def test_a_character_limit_on_a_cited_answer_is_decoded(data, limit):
    check = checks.max_chars("answer", limit)
    reply = data.draw(replies(constraint_of(Predict(CitedQA, assertions=[Assert(check)]))))
    assert holds(check, reply), (limit, reply)


@settings(max_examples=40, deadline=None)
@given(data=st.data(), limit=st.integers(1, 4))
def test_a_word_limit_on_a_verbatim_quote_is_decoded(data, limit):
    check = checks.max_words("answer", limit)
    constraint = constraint_of(Predict(ExtractiveQA, assertions=[Assert(check)]))
    assert isinstance(constraint, Quote) and constraint.max_words == limit
    reply = data.draw(replies(constraint))
    assert holds(check, reply), reply
    assert not constraint.matches("The Eiffel Tower is 330 metres tall [1]")


@settings(max_examples=40, deadline=None)
@given(data=st.data(), limit=st.integers(1, 5))
def test_a_word_limit_on_plain_text_is_decoded(data, limit):
    check = checks.max_words("answer", limit)
    constraint = constraint_of(Predict("question -> answer", assertions=[Assert(check)]), inputs={"question": "q"})
    assert constraint == Regex(words_pattern(limit))
    reply = data.draw(replies(constraint))
    assert holds(check, reply, inputs={"question": "q"}), reply


def test_a_choice_is_decoded_and_two_choices_meet_in_what_they_share():
    predict = Predict("question -> color", assertions=[Assert(checks.one_of("color", ["red", "green", "blue"]))])
    assert constraint_of(predict, inputs={"question": "q"}) == Choice(("red", "green", "blue"))
    both = [Assert(checks.one_of("color", ["red", "green"])), Suggest(checks.one_of("color", ["Green", "blue"]))]
    assert constraint_of(Predict("question -> color", assertions=both), inputs={"question": "q"}) == Choice(("green",))
    with pytest.raises(UsageError, match="have no value in common"):
        Predict(
            "question -> color",
            assertions=[Assert(checks.one_of("color", ["red"])), Assert(checks.one_of("color", ["blue"]))],
        )


def test_the_tightest_limit_wins_and_other_fields_keep_theirs():
    rules = [Assert(checks.max_words("answer", 9)), Suggest(checks.max_words("answer", 4)), Assert(checks.non_empty())]
    assert field_bounds(rules) == {"answer": Bounds(max_words=4)}
    assert Bounds(max_words=3, max_chars=50) & Bounds(max_chars=20) == Bounds(max_words=3, max_chars=20)
    with pytest.raises(UsageError, match=r"Bounds\(max_words=0\) must be a whole number >= 1"):
        Bounds(max_words=0)


def test_a_backend_without_grammars_decodes_as_before_and_checks_after():
    lm = ScriptedLM(["It is 330 metres tall", "330 metres"], supports=(JsonSchema,))
    predict = Predict("question -> answer", assertions=[Assert(checks.max_words("answer", 3))])
    assert constraint_of(predict, lm, inputs={"question": "q"}) == constraint_of(
        Predict("question -> answer"), lm, inputs={"question": "q"}
    )
    prediction = predict(lm=lm, question="How tall is the tower?")
    assert prediction.answer == "330 metres" and len(prediction.attempts) == 2
    assert "to at most 3 words" in prediction.attempts[0].failures[0].message


def test_on_a_grammar_backend_the_limit_holds_on_the_first_attempt():
    lm = ScriptedLM(["330 metres [1]."])
    prediction = Predict(CitedQA, assertions=[Assert(checks.max_words("answer", 5))])(lm=lm, **INPUTS)
    assert prediction.answer == "330 metres [1]." and len(prediction.attempts) == 1
    assert lm.requests[0].constraint == Regex(short_cited_pattern(3, 5))


def test_chosen_from_takes_its_choices_from_each_call():
    check = checks.chosen_from("answer", "candidates")
    predict = Predict("question, candidates -> answer", assertions=[Assert(check)])
    inputs = {"question": "q", "candidates": ["1889 [1]", "330 metres [1]"]}
    assert constraint_of(predict, inputs=inputs) == Choice(("1889 [1]", "330 metres [1]"))
    assert holds(check, " 1889 [1] ", inputs) and not holds(check, "1890 [1]", inputs)
    assert check(Prediction({"answer": "x"}, inputs=inputs)) == ("Choose the answer from the candidates given.",)
    with pytest.raises(UsageError, match=r"chosen_from reads input 'candidates', but the inputs are question"):
        constraint_of(predict, inputs={"question": "q"})
    with pytest.raises(UsageError, match="input 'candidates' must be a list of strings"):
        constraint_of(predict, inputs={"question": "q", "candidates": "1889"})


class TwoFields(CitedQA):
    confidence: Literal["high", "medium", "low"] = OutputField()


@settings(max_examples=150, deadline=None)
@given(data=st.data(), budget=st.integers(100, 900))
def test_no_reply_of_several_fields_the_grammar_admits_outgrows_the_token_budget(data, budget):
    # A token is at least one character: a reply within max_tokens characters is never cut off.
    predict = Predict(TwoFields, max_tokens=budget)
    reply = data.draw(replies(constraint_of(predict)))
    assert len(reply) <= budget, (budget, len(reply))
