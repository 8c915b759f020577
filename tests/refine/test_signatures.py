from __future__ import annotations

import pytest

from corpora import Passage
from refine import InputField, OutputField, Signature, SignatureError
from refine.signatures import as_signature


class QA(Signature, instructions="Answer from the passages."):
    question: str = InputField()
    passages: list[Passage] = InputField(description="numbered sources")
    answer: str = OutputField()


def test_inline_and_class_forms_are_equal_values():
    inline = Signature("question, passages: list[Passage] -> answer", instructions="Answer from the passages.")
    inline = inline.with_field("passages", description="numbered sources")
    assert QA() == inline
    assert hash(QA()) == hash(inline)
    assert as_signature(QA) == QA()


def test_inline_types_and_fields():
    sig = Signature("question: str, k: int -> answer: str, confidence: float, tags: list[str]")
    assert [f.name for f in sig.inputs] == ["question", "k"]
    assert [f.type_name for f in sig.outputs] == ["str", "float", "list[str]"]
    assert str(sig) == "question: str, k: int -> answer: str, confidence: float, tags: list[str]"


def test_derived_signatures_are_new_values():
    sig = Signature("question -> answer")
    longer = sig.append("reason", "output", description="why")
    assert [f.name for f in longer.outputs] == ["answer", "reason"]
    assert longer.remove("reason") == sig
    assert sig.with_instructions("Be brief.").instructions == "Be brief."
    assert sig.instructions == ""
    with pytest.raises(AttributeError, match="immutable"):
        sig.foo = 1  # type: ignore[attr-defined]


def test_subclass_inherits_fields():
    class QAWithReason(QA):
        reason: str = OutputField()

    assert [f.name for f in QAWithReason().fields] == ["question", "passages", "answer", "reason"]
    assert QAWithReason().instructions == ""


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("question answer", "exactly one '->'"),
        ("a -> b -> c", "exactly one '->'"),
        ("question ->", "no output field"),
        ("question, , x -> answer", "empty field name"),
        ("q -> a, a", "appears twice"),
        ("q: Foo -> a", "not supported inline"),
        ("q: list[ -> a", "not valid"),
        ("1q -> a", "Python identifier"),
        # Valid aliases at run time that pydantic would read as list[int] and dict[str, int].
        (
            "a: list[int, str] -> b",
            r"^type 'list\[int, str\]' in signature 'a: list\[int, str\] -> b': "
            r"list takes one type, like list\[int\]$",
        ),
        (
            "a -> b: dict[str, int, float]",
            r"^type 'dict\[str, int, float\]' in signature .*: "
            r"dict takes a key type and a value type, like dict\[str, int\]$",
        ),
        ("a: dict[str] -> b", "dict takes a key type and a value type"),
        ("a: list[dict[int, str]] -> b", r"^type 'list\[dict\[int, str\]\]' .*: dict keys must be str, not int"),
        ("a: str[int] -> b", "not supported inline"),
    ],
)
def test_bad_inline_signatures_say_what_to_fix(spec, message):
    with pytest.raises(SignatureError, match=message):
        Signature(spec)


def test_class_fields_must_be_declared():
    with pytest.raises(SignatureError, match=r"Bad.answer must be declared with InputField\(\) or OutputField\(\)"):

        class Bad(Signature):
            answer: str = "x"


def test_missing_field_lookup_lists_fields():
    with pytest.raises(SignatureError, match="no field 'nope'; fields: question, answer"):
        Signature("question -> answer").field("nope")


def test_as_signature_refuses_other_values():
    with pytest.raises(SignatureError, match="not a signature"):
        as_signature(42)  # type: ignore[arg-type]


def test_a_bare_passage_field_survives_json():
    sig = Signature("passage: Passage, question -> answer")
    again = Signature.from_json(sig.to_json())
    assert again == sig and again.field("passage").type is Passage
    assert str(again) == "passage: Passage, question: str -> answer: str"
