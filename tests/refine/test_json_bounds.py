"""JSON schemas bounded to fit a reply's budget (refine._json_bounds)."""

from __future__ import annotations

import json

import pydantic
from hypothesis import given, settings
from hypothesis import strategies as st

from refine.constraints import JsonSchema
from refine.signatures._json_bounds import fit_schema, longest_json
from refine.testing import replies


class Item(pydantic.BaseModel):
    name: str
    tags: list[str]
    count: int = 1


class Tree(pydantic.BaseModel):
    label: str
    children: list[Tree] = []


def test_unbounded_strings_and_lists_have_no_longest_until_fitted():
    schema = pydantic.TypeAdapter(list[Item]).json_schema()
    assert longest_json(schema) is None
    fitted = fit_schema(schema, 400)
    longest = longest_json(fitted)
    assert longest is not None and longest <= 400
    assert fitted["$defs"]["Item"]["additionalProperties"] is False


def test_bounds_the_schema_states_are_only_tightened_and_minimums_kept():
    schema = {"type": "array", "items": {"type": "string", "minLength": 30, "maxLength": 50}, "maxItems": 2}
    fitted = fit_schema(schema, 10)  # cannot fit: as small as the schema allows
    assert fitted["items"] == {"type": "string", "minLength": 30, "maxLength": 30}
    assert fitted["maxItems"] == 1
    assert fit_schema(schema, 10_000) == {**schema, "items": {**schema["items"], "maxLength": 50}}


def test_a_recursive_schema_has_no_longest():
    assert longest_json(fit_schema(Tree.model_json_schema(), 500)) is None


def test_a_choice_counts_its_longest_option():
    assert longest_json({"enum": ["a", "abc"]}) == len('"abc"')
    assert longest_json({"type": "boolean"}) == 5


@settings(max_examples=60, deadline=None)
@given(st.data(), st.integers(40, 600))
def test_json_under_a_fitted_schema_is_never_longer_than_its_longest(data, budget):
    fitted = fit_schema(pydantic.TypeAdapter(list[Item]).json_schema(), budget)
    longest = longest_json(fitted)
    text = data.draw(replies(JsonSchema.of(fitted)))
    compact = json.dumps(json.loads(text), separators=(", ", ": "), ensure_ascii=False)
    assert longest is not None and len(compact) - 4 * compact.count("\\u") <= longest
