from __future__ import annotations

import pytest

from corpora import Passage
from refine import ParseError, Signature, SignatureError
from refine.adapter import Demo, format_passages, parse_reply, render_messages

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
