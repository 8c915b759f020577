from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpora import Passage
from refine import ParseError, Predict, ScriptedLM, Signature, SignatureError
from refine.history import Demo
from refine.signatures import format_passages, parse_reply, render_messages

PASSAGES = [Passage.create("Cats", "Cats purr."), Passage.create("Dogs", "Dogs bark.")]


def test_render_numbers_passages_and_orders_turns():
    sig = Signature("question, passages -> answer", instructions="Cite [n].")
    demo = Demo({"question": "Who barks?", "passages": PASSAGES, "answer": "Dogs [2]."})
    messages = render_messages(sig, {"question": "Who purrs?", "passages": PASSAGES}, [demo])
    assert [m.role for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[0].content.startswith("Cite [n].")
    assert "Reply with the answer only." in messages[0].content
    assert messages[2].content == "Dogs [2]."
    assert messages[3].content == "Question: Who purrs?\n\nPassages:\n[1] Cats\nCats purr.\n\n[2] Dogs\nDogs bark."
    assert format_passages(PASSAGES).startswith("[1] Cats")


def test_render_reports_missing_and_unexpected_inputs():
    sig = Signature("question, passages -> answer")
    with pytest.raises(SignatureError, match=r"missing input 'passages'.*pass passages=\.\.\."):
        render_messages(sig, {"question": "q"})
    with pytest.raises(SignatureError, match="unexpected input 'extra'"):
        render_messages(sig, {"question": "q", "passages": PASSAGES, "extra": 1})


def test_parse_single_output_takes_whole_reply():
    sig = Signature("question -> answer")
    assert parse_reply(sig, "  Paris.  ") == {"answer": "Paris."}
    assert parse_reply(sig, "Answer: Paris.") == {"answer": "Paris."}


def test_parse_multiple_typed_outputs():
    sig = Signature("question -> answer, confidence: float, tags: list[str]")
    reply = 'Answer: Paris\nis the capital.\nConfidence: 0.9\nTags: ["geo", "fr"]'
    assert parse_reply(sig, reply) == {"answer": "Paris\nis the capital.", "confidence": 0.9, "tags": ["geo", "fr"]}


def test_parse_errors_are_typed_and_name_the_field():
    sig = Signature("question -> answer, confidence: float")
    with pytest.raises(ParseError, match="lacks field 'confidence'") as info:
        parse_reply(sig, "Answer: Paris")
    assert info.value.field == "confidence"
    with pytest.raises(ParseError, match="field 'confidence' should be float, got 'high'") as info:
        parse_reply(sig, "Answer: Paris\nConfidence: high")
    assert info.value.text == "Answer: Paris\nConfidence: high"
    with pytest.raises(ParseError, match="reply is empty"):
        parse_reply(Signature("q -> a"), "   ")


@pytest.mark.parametrize("reply", ["An\u017fwer: Paris\nConfidence: 0.9", "Answer: Paris\nConf\u0131dence: 0.9"])
def test_a_label_that_matches_only_under_unicode_folding_is_a_parse_error(reply):
    sig = Signature("question -> answer, confidence: float")
    with pytest.raises(ParseError, match="lacks field"):
        parse_reply(sig, reply)


def test_a_folded_label_is_retried_with_feedback_and_keeps_its_attempts():
    lm = ScriptedLM(["An\u017fwer: Paris\nConfidence: 0.9", "Answer: Paris\nConfidence: 0.9"], supports=())
    prediction = Predict("question -> answer, confidence: float", lm=lm)(question="Capital of France?")
    assert prediction.answer == "Paris" and len(prediction.attempts) == 2
    assert "lacks field 'answer'" in prediction.attempts[0].feedback


def test_deeply_nested_json_is_a_parse_error():
    sig = Signature("question -> answer, tags: list[str]")
    with pytest.raises(ParseError, match="nested too deeply"):
        parse_reply(sig, "[" * 100_000, format="json")
    with pytest.raises(ParseError):
        parse_reply(sig, "Answer: a\nTags: " + "[" * 100_000)


SIGNATURES = [
    Signature("question -> answer"),
    Signature("question -> answer, confidence: float"),
    Signature("question -> answer, n: int, ok: bool, tags: list[str], extra: dict[str, int]"),
]
LABEL_TEXT = st.lists(
    st.one_of(
        st.text(max_size=12),
        st.sampled_from(
            ["Answer:", "answer :", "ANSWER:", "An\u017fwer:", "Conf\u0131dence:", "N:", "Ok:", "Tags:", "Extra:"]
        ),
        st.sampled_from(["\n", " ", "[", "{", "}", "]", '"', "0.9", "true", "[1, 2]", '{"a": 1}', "\u212a"]),
    ),
    max_size=12,
).map("".join)


@given(st.sampled_from(SIGNATURES), LABEL_TEXT, st.sampled_from(["fields", "json"]))
@settings(max_examples=400, deadline=None)
def test_any_reply_parses_or_raises_parse_error(sig, text, fmt):
    try:
        values = parse_reply(sig, text, format=fmt)
    except ParseError as exc:
        assert exc.text == text
    else:
        assert set(values) == {f.name for f in sig.outputs}


def test_an_echoed_label_is_dropped_only_when_the_rest_still_fits_the_grammar():
    from refine.constraints import Regex, cited_text_pattern

    sig = Signature("question -> answer")
    grammar = Regex(cited_text_pattern(1))
    assert parse_reply(sig, "Answer: Paris is the capital [1].", constraint=grammar) == {
        "answer": "Paris is the capital [1]."
    }
    # "--- [1]." has no word: the grammar admitted the reply with its label, so the label stays.
    assert grammar.matches("Answer:--------- [1].")
    assert parse_reply(sig, "Answer:--------- [1].", constraint=grammar) == {"answer": "Answer:--------- [1]."}
    assert parse_reply(sig, "Answer:--------- [1].") == {"answer": "--------- [1]."}  # free text: as before
