"""Bad input to signatures and program constructors, tried as a hostile user would (issue 11).

Each is a usage error raised when the program is defined, naming the value and the fix.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Annotated, Any, Literal

import pydantic
import pytest

from corpora import Passage
from refine import (
    BestOfN,
    BM25Retriever,
    CitedRAG,
    InputField,
    Module,
    OutputField,
    Predict,
    Refine,
    Signature,
    SignatureError,
    UsageError,
)
from refine.signatures import FieldSpec


def _class_with(annotation: Any, declared: Any) -> type[Signature]:
    return type("Bad", (Signature,), {"__annotations__": {"x": annotation}, "x": declared})


# -- field types and constraints -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("annotation", "declared", "message"),
    [
        (
            str,
            OutputField(pattern="(["),
            "output field 'x' has type str: pattern='([' is not a valid regular expression "
            "(unterminated character set at position 1); fix it, like pattern=r'^[A-Z]{3}$'",
        ),
        (
            str,
            OutputField(
                pattern=r"\pL"
            ),  # pydantic's regex engine takes it; Python's re, which checks replies, does not
            r"output field 'x' has type str: pattern='\\pL' is not a valid regular expression (bad escape \p",
        ),
        (
            Literal[()],
            OutputField(),
            "output field 'x' has type Literal[]: Literal[] has no values; list the choices, like Literal['yes', 'no']",
        ),
        (
            Literal[()],
            InputField(),
            "input field 'x' has type Literal[]: Literal[] has no values",
        ),
        (
            list[Literal[()]],
            OutputField(),
            "output field 'x' has type list[Literal[]]: Literal[] has no values",
        ),
        (
            str,
            OutputField(min_length=5, max_length=2),
            "output field 'x' has type str: min_length=5 > max_length=2: no value fits; make min_length <= max_length",
        ),
        (
            float,
            OutputField(ge=1, le=0),
            "output field 'x' has type float: ge=1 > le=0: no value fits; make ge <= le",
        ),
        (
            Annotated[int, pydantic.Field(gt=3, lt=3)],
            OutputField(),
            "output field 'x' has type int: gt=3 >= lt=3: no value fits; make gt < lt",
        ),
        (
            str,
            OutputField(min_length="3"),
            "output field 'x' has type str: min_length='3' must be an int >= 0, like min_length=1",
        ),
        (
            str,
            OutputField(max_length=-1),
            "output field 'x' has type str: max_length=-1 must be an int >= 0, like max_length=1",
        ),
        (
            float,
            OutputField(ge="0"),
            "output field 'x' has type float: ge='0' must be a number, like ge=0",
        ),
        (
            list[str],
            OutputField(pattern="[a-z]+"),  # pydantic would drop it from the schema without a word
            "output field 'x' has type list[str]: pattern='[a-z]+' does not apply to list[str]; "
            "it constrains a str, so remove it",
        ),
        (
            str,
            OutputField(ge=0),
            "output field 'x' has type str: ge=0 does not apply to str; it constrains an int or float, so remove it",
        ),
        (
            Annotated[float, pydantic.Field(multiple_of=0)],
            OutputField(),
            "output field 'x' has type float: multiple_of=0 must be a number > 0, like multiple_of=1",
        ),
        (
            list[Annotated[str, pydantic.StringConstraints(pattern="[")]],
            OutputField(),
            "output field 'x' has type list[str]: pattern='[' is not a valid regular expression",
        ),
        (
            list[int, str],
            OutputField(),
            "output field 'x' has type list[int, str]: list takes one type, like list[int]",
        ),
        (
            dict[str, int, float],
            InputField(),
            "input field 'x' has type dict[str, int, float]: "
            "dict takes a key type and a value type, like dict[str, int]",
        ),
        (
            dict[int, str],
            OutputField(),
            "output field 'x' has type dict[int, str]: dict keys must be str, not int: "
            "JSON object keys are strings; use dict[str, ...]",
        ),
    ],
)
def test_bad_field_types_are_refused_when_the_class_is_defined(annotation, declared, message):
    with pytest.raises(SignatureError, match=f"^{re.escape(message)}"):
        _class_with(annotation, declared)


def test_what_only_pydantic_refuses_is_still_a_signature_error():
    # Python's re takes a lookahead; pydantic's engine does not.
    with pytest.raises(
        SignatureError,
        match=r"^output field 'x' has type str, which pydantic cannot build a schema for: .*look-around.*"
        r"; fix the type or its constraints$",
    ):
        _class_with(str, OutputField(pattern="(?=a)b"))

    @dataclasses.dataclass
    class Hidden:  # a broken type inside a dataclass: pydantic asserts rather than raising
        mood: Literal[()]

    for kind in ("input", "output"):
        with pytest.raises(
            SignatureError, match=rf"^{kind} field 'h' has type Hidden, which pydantic cannot build a schema for: "
        ):
            FieldSpec("h", kind, Hidden)  # type: ignore[arg-type]


def test_an_input_type_without_a_schema_is_still_fine():
    opaque = type("Opaque", (), {})
    assert FieldSpec("thing", "input", opaque).json_schema == {"x-python-type": "Opaque"}


def test_an_extractive_field_cannot_require_two_citations():
    from refine import Citations

    with pytest.raises(SignatureError, match=r"'quote' is extractive with Citations\(min=2\), but a verbatim quote"):

        class Quoted(Signature):
            passages: list[Passage] = InputField()
            quote: str = OutputField(extractive=True, citations=Citations(per="answer", min=2))


# -- numeric and boolean options -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_backtracks": "2"}, "max_backtracks='2' must be an int >= 0, e.g. max_backtracks=2"),
        ({"max_backtracks": 2.5}, "max_backtracks=2.5 must be an int >= 0, e.g. max_backtracks=2"),
        ({"max_backtracks": True}, "max_backtracks=True must be an int >= 0, e.g. max_backtracks=1"),
        ({"max_backtracks": None}, "max_backtracks=None must be an int >= 0, e.g. max_backtracks=0"),
        ({"max_backtracks": -1}, "max_backtracks=-1 must be >= 0"),
        ({"max_tokens": "512"}, "max_tokens='512' must be an int >= 1, e.g. max_tokens=512"),
        ({"max_tokens": 0}, "max_tokens=0 must be >= 1"),
        ({"temperature": "0.5"}, "temperature='0.5' must be a finite number >= 0, e.g. temperature=0.5"),
        ({"temperature": float("nan")}, "temperature=nan must be a finite number >= 0, e.g. temperature=0.0"),
        ({"temperature": float("inf")}, "temperature=inf must be a finite number >= 0, e.g. temperature=0.0"),
        ({"temperature": False}, "temperature=False must be a finite number >= 0, e.g. temperature=0.0"),
        ({"temperature": -1}, "temperature=-1 must be >= 0"),
        ({"strict": "yes"}, "strict='yes' must be True or False"),
        ({"strict": 1}, "strict=1 must be True or False"),
        ({"constrained": None}, "constrained=None must be True or False"),
    ],
)
def test_predict_refuses_bad_options_by_name(options, message):
    with pytest.raises(UsageError, match=f"^{re.escape(message)}$"):
        Predict("question -> answer", **options)


def test_predict_keeps_good_options():
    predict = Predict("question -> answer", max_backtracks=0, max_tokens=1, temperature=1, strict=False)
    assert (predict.max_backtracks, predict.max_tokens, predict.temperature, predict.strict) == (0, 1, 1.0, False)
    assert isinstance(predict.temperature, float)


@pytest.fixture
def retriever():
    return BM25Retriever.build([Passage.create("Cats", "Cats purr when they are content.")])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"k": "3"}, "k='3' must be an int >= 1, e.g. k=3"),
        ({"k": True}, "k=True must be an int >= 1, e.g. k=1"),
        ({"k": 0}, "k=0 must be >= 1"),
        ({"max_backtracks": "2"}, "max_backtracks='2' must be an int >= 0, e.g. max_backtracks=2"),
        ({"max_tokens": 0.5}, "max_tokens=0.5 must be an int >= 1, e.g. max_tokens=1"),
        ({"strict": "no"}, "strict='no' must be True or False"),
        ({"constrained": 0}, "constrained=0 must be True or False"),
    ],
)
def test_cited_rag_refuses_bad_options_by_name(retriever, options, message):
    with pytest.raises(UsageError, match=f"^{re.escape(message)}$"):
        CitedRAG(retriever, **options)


def test_cited_rag_refuses_a_retriever_without_search():
    expected = r"^retriever=\[\] has no search\(query, k\) method and is not a function \(query, k\) -> passages"
    with pytest.raises(UsageError, match=expected):
        CitedRAG([])  # type: ignore[arg-type]


class One(Module):
    def __init__(self) -> None:
        self.answer = Predict("question -> answer")

    def forward(self, question: str) -> Any:
        return self.answer(question=question)


def reward(inputs: Any, prediction: Any) -> float:
    return 1.0


@pytest.mark.parametrize("rollout", [BestOfN, Refine])
@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"N": "3"}, "N='3' must be an int >= 1, e.g. N=3"),
        ({"N": 2.0}, "N=2.0 must be an int >= 1, e.g. N=2"),
        ({"N": 0}, "N=0 must be >= 1"),
        ({"threshold": "high"}, "threshold='high' must be a number, e.g. threshold=0.0"),
        ({"threshold": float("nan")}, "threshold=nan must be a number, e.g. threshold=0.0"),
        ({"threshold": None}, "threshold=None must be a number, e.g. threshold=0.0"),
    ],
)
def test_rollouts_refuse_bad_options_by_name(rollout, options, message):
    settings = {"N": 2, "threshold": 1.0, **options}
    with pytest.raises(UsageError, match=f"^{re.escape(message)}$"):
        rollout(One(), reward=reward, **settings)


def test_an_infinite_threshold_is_a_legitimate_keep_the_best():
    assert BestOfN(One(), N=2, reward=reward, threshold=float("inf")).threshold == float("inf")
