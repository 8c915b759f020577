"""Property tests of signatures as values: every signature survives its JSON, by its schemas."""

from __future__ import annotations

import enum
import itertools
from typing import Annotated, Any, Literal

import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpora import Passage
from refine import Citations, CitedQA, Signature, SignatureError
from refine.signatures import FieldSpec

_names = itertools.count()
NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
TEXT = st.text(max_size=20)
# pydantic turns a docstring into a description with inspect.cleandoc; an all-blank one becomes "".
DOCS = st.none() | st.text(min_size=1, max_size=20).filter(str.strip)
# Words that are keywords somewhere: JSON schema's, pydantic's, Python's, Enum's.
AWKWARD = st.sampled_from(
    ["required", "default", "title", "json", "schema", "model_dump_x", "_hidden", "my-key", "mro"]
)
ATOMS = st.one_of(st.text(max_size=8), AWKWARD, st.integers(-5, 5), st.booleans(), st.none())
LITERAL_VALUES = st.one_of(
    st.lists(st.text(max_size=8) | AWKWARD, min_size=1, max_size=4, unique=True),
    st.lists(st.integers(-5, 5), min_size=1, max_size=4, unique=True),
    st.lists(st.booleans(), min_size=1, max_size=2, unique=True),
    st.lists(ATOMS, min_size=1, max_size=4, unique_by=lambda v: (type(v), v)),
)
PATTERNS = st.sampled_from([r"^[A-Z]{3}$", r"[a-z]+", r"\d{4}-\d{2}", "yes|no"])
SCALARS = st.sampled_from([str, int, float, bool])


def _fresh(prefix: str) -> str:
    return f"{prefix}{next(_names)}"


@st.composite
def literals(draw: st.DrawFn) -> Any:
    return Literal[tuple(draw(LITERAL_VALUES))]


@st.composite
def enums(draw: st.DrawFn) -> Any:
    values = draw(
        st.one_of(
            st.lists(st.text(min_size=1, max_size=8) | AWKWARD, min_size=1, max_size=4, unique=True),
            st.lists(st.integers(0, 9), min_size=1, max_size=4, unique=True),
        )
    )
    made = enum.Enum(_fresh("Enum"), {f"m{i}": v for i, v in enumerate(values)})  # type: ignore[misc]
    made.__doc__ = draw(DOCS)
    return made


@st.composite
def constrained(draw: st.DrawFn) -> Any:
    """A scalar or list with valid ``Field`` constraints, as ``OutputField(...)`` or ``Annotated`` write them."""
    base = draw(st.sampled_from([str, int, float, list[str]]))
    if base is str:
        low, high = sorted(draw(st.lists(st.integers(0, 20), min_size=2, max_size=2)))
        options = {"min_length": low, "max_length": high, "pattern": draw(PATTERNS)}
    elif base == list[str]:
        low, high = sorted(draw(st.lists(st.integers(0, 5), min_size=2, max_size=2)))
        options = {"min_length": low, "max_length": high}
    else:
        low, high = sorted(draw(st.lists(st.integers(-100, 100), min_size=2, max_size=2)))
        options = {"ge": low, "le": high, "gt": low - 1, "lt": high + 1}
    chosen = draw(st.lists(st.sampled_from(sorted(options)), min_size=1, unique=True))
    return Annotated[base, pydantic.Field(**{k: options[k] for k in chosen})]


@st.composite
def models(draw: st.DrawFn, inner: st.SearchStrategy[Any]) -> Any:
    """A pydantic model with aliased (and awkwardly named) fields, titles, descriptions, defaults,
    default factories, an ``extra`` policy and sometimes a title of its own."""
    fields: dict[str, Any] = {}
    keys = draw(st.lists(NAMES | AWKWARD, min_size=1, max_size=3, unique=True))
    for i, key in enumerate(keys):
        tp = draw(inner)
        info: dict[str, Any] = {"alias": key}  # the key in JSON; the attribute is f0, f1...
        if draw(st.booleans()):
            info["description"] = draw(st.text(min_size=1, max_size=12))
        if draw(st.booleans()):
            info["title"] = draw(st.text(min_size=1, max_size=12))
        how = draw(st.sampled_from(["required", "default", "factory"]))
        if how == "default" and tp in (str, int, bool):
            info["default"] = draw(st.from_type(tp).filter(lambda v: not isinstance(v, str) or len(v) < 8))
        elif how == "factory" or how == "default":
            info["default_factory"] = list if (getattr(tp, "__origin__", None) is list) else (lambda: None)
        fields[f"f{i}"] = (tp, pydantic.Field(**info))
    config = pydantic.ConfigDict(extra=draw(st.sampled_from(["ignore", "forbid", "allow"])))
    if draw(st.booleans()):
        config["title"] = draw(st.text(min_size=1, max_size=12))
    doc = draw(DOCS)
    return pydantic.create_model(_fresh("Model"), __config__=config, __doc__=doc, **fields)


def _containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        inner.map(lambda t: list[t]),  # type: ignore[valid-type]
        inner.map(lambda t: dict[str, t]),  # type: ignore[valid-type]
        st.lists(inner, min_size=1, max_size=3).map(lambda ts: tuple[tuple(ts)]),
        SCALARS.map(lambda t: set[t]),  # type: ignore[valid-type]
        inner.map(lambda t: t | None),
        st.tuples(inner, st.text(min_size=1, max_size=12)).map(
            lambda pair: Annotated[pair[0], pydantic.Field(description=pair[1])]
        ),
        models(inner),
    )


class Tree(pydantic.BaseModel):
    """A model that contains itself."""

    label: str
    children: list[Tree] = []


LEAVES = st.one_of(SCALARS, literals(), enums(), constrained(), st.just(Passage), st.just(Tree))
TYPES = st.recursive(LEAVES, _containers, max_leaves=4)
Opaque = type("Opaque", (), {})  # an input type with no JSON schema: only its name is kept


@st.composite
def fields(draw: st.DrawFn, name: str) -> FieldSpec:
    kind = draw(st.sampled_from(["input", "output"]))
    description = draw(TEXT)
    if kind == "output" and draw(st.booleans()):
        # A field that cites: str, possibly constrained as an extractive quote may be.
        tp = draw(st.sampled_from([str, Annotated[str, pydantic.Field(max_length=40)]]))
        rule = draw(st.sampled_from(["citations", "extractive", "both"]))
        most = 1 if rule == "both" else 3  # a verbatim quote cites its one passage once
        cites = Citations(
            per=draw(st.sampled_from(["answer", "sentence"])), min=draw(st.integers(1, most)), source="passages"
        )
        return FieldSpec(
            name, kind, tp, description, cites if rule != "extractive" else None, extractive=rule != "citations"
        )
    tp = draw(st.one_of(TYPES, st.just(list[Passage]), st.just(Opaque))) if kind == "input" else draw(TYPES)
    return FieldSpec(name, kind, tp, description)


@st.composite
def signatures(draw: st.DrawFn) -> Signature:
    names = draw(st.lists(NAMES, min_size=1, max_size=5, unique=True))
    specs = [draw(fields(name)) for name in names]
    return Signature(instructions=draw(st.text(max_size=30)), fields=specs)


SETTINGS = settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(signatures())
def test_every_signature_survives_its_json(signature: Signature) -> None:
    again = Signature.from_json(signature.to_json())
    assert [f.json_schema for f in again.fields] == [f.json_schema for f in signature.fields]
    assert again == signature and hash(again) == hash(signature)
    assert [(f.name, f.kind, f.citations, f.extractive) for f in again.fields] == [
        (f.name, f.kind, f.citations, f.extractive) for f in signature.fields
    ]
    assert again.to_json() == signature.to_json()
    assert Signature.from_json(again.to_json()) == again


# -- inline types -----------------------------------------------------------------------------------
INLINE_LEAVES = st.sampled_from(["str", "int", "float", "bool", "Passage", "list", "dict"])
INLINE_TYPES = st.recursive(
    INLINE_LEAVES,
    lambda inner: inner.map(lambda t: f"list[{t}]") | inner.map(lambda t: f"dict[str, {t}]"),
    max_leaves=3,
)


@given(st.lists(st.tuples(NAMES, INLINE_TYPES), min_size=2, max_size=4, unique_by=lambda t: t[0]))
def test_inline_signatures_survive_json_and_their_own_text(fields: list[tuple[str, str]]) -> None:
    *inputs, (out, out_type) = fields
    spec = ", ".join(f"{n}: {t}" for n, t in inputs) + f" -> {out}: {out_type}"
    sig = Signature(spec)
    assert [f.type_name for f in sig.fields] == [t for _, t in fields]
    assert Signature(str(sig)) == sig
    assert Signature.from_json(sig.to_json()) == sig


@given(INLINE_TYPES, st.lists(INLINE_TYPES, max_size=3).filter(lambda args: len(args) != 1))
def test_inline_list_with_other_than_one_argument_is_refused(item: str, others: list[str]) -> None:
    text = f"list[{', '.join(others)}]" if others else f"list[{item}, {item}]"
    with pytest.raises(SignatureError, match=r"list takes one type, like list\[int\]"):
        Signature(f"a: {text} -> b")


@given(st.lists(INLINE_TYPES, min_size=1, max_size=4).filter(lambda args: len(args) != 2))
def test_inline_dict_with_other_than_two_arguments_is_refused(args: list[str]) -> None:
    with pytest.raises(SignatureError, match=r"dict takes a key type and a value type, like dict\[str, int\]"):
        Signature(f"a -> b: dict[{', '.join(args)}]")


def test_a_model_titled_with_what_no_class_name_can_hold_survives_its_json() -> None:
    # Found by the property above: create_model refuses a class named "\x00".
    titled = pydantic.create_model("Titled", __config__=pydantic.ConfigDict(title="\x00 a title"), a=(str, ...))
    signature = Signature(fields=[FieldSpec("x", "input"), FieldSpec("y", "output", titled)])
    again = Signature.from_json(signature.to_json())
    assert again == signature and again.to_json() == signature.to_json()


def test_list_of_passages_comes_back_as_passages() -> None:
    again = Signature.from_json(CitedQA().to_json())
    assert again.fields[0].type == list[Passage]
