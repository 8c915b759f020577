"""A program's learnable state is plain data, and each citation rule is written once."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from corpora import Passage
from refine import Demo, Hit, Predict, Prediction, ScriptedLM, Signature, UsageError, checks
from refine.signatures import Citations, InputField, OutputField, validate

scalars = st.one_of(st.integers(-3, 3), st.floats(-3, 3, allow_nan=False), st.booleans(), st.text(max_size=3))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner))


@given(st.dictionaries(st.sampled_from("abc"), values), st.dictionaries(st.sampled_from("abc"), values))
def test_equal_demos_hash_alike(a, b):
    if Demo(a) == Demo(b):
        assert hash(Demo(a)) == hash(Demo(b))


def test_a_demo_of_an_int_equals_and_hashes_like_one_of_a_float():
    assert Demo({"a": 1}) == Demo({"a": 1.0})
    assert hash(Demo({"a": 1})) == hash(Demo({"a": 1.0}))
    assert len({Demo({"a": [1]}), Demo({"a": [1.0]})}) == 1


def test_predict_is_immutable_and_changes_by_with_methods():
    p = Predict("question -> answer")
    demo = Demo({"question": "2+2?", "answer": "4"})
    with pytest.raises(AttributeError, match="with_demos"):
        p.demos = (demo,)  # type: ignore[misc]
    taught = p.with_demos([demo]).with_instructions("Answer in one word.")
    assert p.demos == () and taught.demos == (demo,)
    assert taught.signature.instructions == "Answer in one word."
    assert p.signature.instructions != taught.signature.instructions
    assert copy.copy(p) is p and copy.deepcopy(p) is p
    assert p.named_predictors() == [("self", p)]
    with pytest.raises(UsageError, match=r"refine\.Demo"):
        p.with_demos([{"question": "x"}])  # type: ignore[list-item]


def test_demos_reach_the_prompt():
    lm = ScriptedLM(["4"])
    Predict("question -> answer").with_demos([Demo({"question": "1+1?", "answer": "2"})])(lm=lm, question="2+2?")
    text = " ".join(m.content for m in lm.requests[0].messages)
    assert "1+1?" in text


class Cited(Signature):
    passages: list[Passage] = InputField()
    question: str = InputField()
    answer: str = OutputField(citations=Citations(per="sentence"))


PASSAGES = [Passage.create("Paris", "Paris is the capital of France."), Passage.create("Rome", "Rome is in Italy.")]
ANSWERS = ["Paris is the capital [1].", "Paris is the capital [3].", "Paris is the capital. Rome is in Italy [2].", ""]


@pytest.mark.parametrize("answer", ANSWERS)
@pytest.mark.parametrize("given_as", ["passages", "hits"])
def test_declared_citations_and_the_check_agree(answer, given_as):
    given = PASSAGES if given_as == "passages" else [Hit(p, 1.0, i) for i, p in enumerate(PASSAGES, 1)]
    inputs = {"passages": given, "question": "q"}
    declared = [v.message for v in validate(Cited(), {"answer": answer}, inputs)]
    check = checks.every_sentence_cited()(Prediction({"answer": answer}, inputs=inputs))
    assert declared == list(check)


def test_a_repair_demo_is_shown_the_way_a_retry_is():
    from refine.history import RepairDemo

    repair = RepairDemo({"question": "Capital of Italy?", "answer": "Rome"}, "The city of Rome", "Use at most 2 words.")
    lm = ScriptedLM(["Lima"])
    Predict("question -> answer").with_demos([repair])(lm=lm, question="Capital of Peru?")
    _, shown, failed, feedback, fixed, asked = lm.requests[0].messages
    assert "Capital of Italy?" in shown.content
    assert (failed.role, failed.content, failed.generated) == ("assistant", "The city of Rome", False)
    assert feedback.content == "Use at most 2 words.\nWrite the whole reply again, fixing this."
    assert (fixed.role, fixed.content) == ("assistant", "Rome") and "Capital of Peru?" in asked.content
