from __future__ import annotations

import copy
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refine import UsageError
from refine.example import Example


def test_values_inputs_and_labels():
    example = Example(question="Capital of France?", answers=["Paris"], id="q1").with_inputs("question")
    assert example.id == "q1"
    assert example.question == example["question"] == "Capital of France?"
    assert example.answers == ("Paris",)  # frozen as it came in
    assert dict(example.inputs) == {"question": "Capital of France?"}
    assert dict(example.labels) == {"answers": ("Paris",)}
    assert example.keys() == ("question", "answers") and "answers" in example and len(example) == 2
    assert example.get("missing", 3) == 3


def test_with_methods_return_new_examples():
    base = Example(question="q", answer="a")
    named = base.with_inputs("question").with_id("q7")
    assert base.id is None and base.input_keys == ()
    assert named.id == "q7" and named.input_keys == ("question",)
    changed = named.with_values(answer="b", extra=[1, {"x": [2]}])
    assert changed.answer == "b" and changed.input_keys == ("question",) and named.answer == "a"
    assert changed.extra == (1, {"x": (2,)})
    with pytest.raises(TypeError):
        changed.extra[1]["x"] = 3  # nested dicts are read-only too


def test_immutable():
    example = Example(question="q", id="q1")
    with pytest.raises(AttributeError, match=r"Example is immutable; use example.with_values\(question=...\)"):
        example.question = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Example(question="q", id=""), r"Example id='' must be a non-empty str, e.g. id='q1'"),
        (lambda: Example(question="q", id=7), r"Example id=7 must be a non-empty str"),
        (lambda: Example(inputs="x"), r"Example value 'inputs' clashes with Example.inputs; rename it"),
        (lambda: Example(question="q").with_inputs("query"), r"'query' not among the example's values \('question'\)"),
        (lambda: Example(question="q").with_inputs("question", "question"), "names a key twice"),
        (lambda: Example(question="q").with_id(" "), r"with_id\(' '\): an id must be a non-empty str"),
    ],
)
def test_mistakes_are_named(make, message):
    with pytest.raises(UsageError, match=message):
        make()


def test_missing_value_names_those_there_are():
    example = Example(question="q", id="q1")
    with pytest.raises(AttributeError, match="example 'q1' has no value 'answer'; it has question"):
        _ = example.answer
    with pytest.raises(KeyError, match="example 'q1' has no value 'answer'"):
        _ = example["answer"]


def test_repr_rebuilds_the_example():
    example = Example(question="What?", answers=["a", "b"], id="q1").with_inputs("question")
    assert repr(example) == "Example(id='q1', question='What?', answers=('a', 'b')).with_inputs('question')"
    assert eval(repr(example)) == example
    long = Example(text="x" * 200)
    assert len(repr(long)) < 100 and "..." in repr(long)


def test_copies_and_pickles():
    example = Example(question="q", meta={"tags": ["a"]}, id="q1").with_inputs("question")
    assert copy.copy(example) == example == copy.deepcopy(example)
    again = pickle.loads(pickle.dumps(example))
    assert again == example and again.input_keys == ("question",) and hash(again) == hash(example)


def test_equality_counts_id_and_inputs():
    a = Example(question="q", answer="x", id="1")
    assert a != a.with_id("2")
    assert a != a.with_inputs("question")
    assert a.with_inputs("question", "answer") == a.with_inputs("answer", "question")
    assert Example(n=1) == Example(n=1.0) and hash(Example(n=1)) == hash(Example(n=1.0))
    assert Example(xs=[1, 2]) == Example(xs=(1, 2)) and hash(Example(xs=[1, 2])) == hash(Example(xs=(1, 2)))


class _Unhashable:
    __hash__ = None  # type: ignore[assignment]

    def __eq__(self, other):
        return isinstance(other, _Unhashable)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats(-3, 3, allow_nan=False) | st.text(max_size=3),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=2), children, max_size=3),
    max_leaves=8,
)
values = st.dictionaries(st.sampled_from(["a", "b", "question"]), json_values | st.just(_Unhashable()), max_size=3)


@given(values, values)
def test_hash_agrees_with_equality(first, second):
    a, b = Example(**first), Example(**second)
    if a == b:
        assert hash(a) == hash(b)
    assert a == Example(**first) and hash(a) == hash(Example(**first))


@given(values)
def test_an_integer_valued_float_is_the_same_value(first):
    # 1 == 1.0 and True == 1: examples that differ only so are equal, so they must hash alike.
    floated = {key: float(value) if type(value) is int else value for key, value in first.items()}
    assert Example(**first) == Example(**floated)
    assert hash(Example(**first)) == hash(Example(**floated))
