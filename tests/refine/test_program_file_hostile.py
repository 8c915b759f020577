"""A crafted program file is refused with one ProgramFileError naming the file, never a crash; and
settings from a file get the bounds settings from code get (issue 29)."""

from __future__ import annotations

import contextlib
import copy
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refine import CitedRAG, Predict, ProgramFileError, ScriptedLM, UsageError
from refine.cli import main
from refine.program._files import _digest

FIXTURE = Path(__file__).parents[1] / "fixtures" / "program-dc6c09a.json"
BASE = json.loads(FIXTURE.read_text())


def _with(mutate: Any) -> dict[str, Any]:
    document = copy.deepcopy(BASE)
    mutate(document)
    document["digest"] = _digest(document)  # as an attacker would: the digest says nothing then
    return document


def _setting(name: str, value: Any) -> dict[str, Any]:
    return _with(lambda d: d["predictors"][0]["settings"].__setitem__(name, value))


def _deep(depth: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(depth):
        schema = {"type": "array", "items": schema}
    return _with(lambda d: d["predictors"][0]["signature"]["fields"][2].__setitem__("schema", schema))


RAW = json.dumps(BASE)
CRAFTED = {
    "NaN": RAW.replace('"temperature": 0.0', '"temperature": NaN'),
    "Infinity": RAW.replace('"temperature": 0.0', '"temperature": -Infinity'),
    "1e400": RAW.replace('"temperature": 0.0', '"temperature": 1e400'),
    "5000 digits": RAW.replace('"max_backtracks": 2', '"max_backtracks": ' + "9" * 5000),
    "lone surrogate": RAW.replace('"program": "CitedRAG"', '"program": "\\ud800"'),
    "600 deep": json.dumps(_deep(600)),
    "max_backtracks=1e9": json.dumps(_setting("max_backtracks", 10**9)),
    "max_tokens=1e12": json.dumps(_setting("max_tokens", 10**12)),
    "temperature=1e308": json.dumps(_setting("temperature", 1e308)),
}


@pytest.mark.parametrize("case", sorted(CRAFTED))
def test_a_crafted_file_is_a_program_file_error_naming_it(case: str, tmp_path: Path) -> None:
    path = tmp_path / "program.json"
    path.write_text(CRAFTED[case])
    with pytest.raises(ProgramFileError, match=rf"program file '{path}' is damaged: ") as info:
        CitedRAG().load(path)
    assert info.value.path == str(path)


@pytest.mark.parametrize("case", ["NaN", "600 deep", "max_tokens=1e12"])
def test_refine_ask_says_it_in_one_line_and_exits_2(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = tmp_path / "program.json"
    path.write_text(CRAFTED[case])
    code = main(["ask", "What does yield do?", "--program", str(path)], lm=ScriptedLM([]))
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and f"'{path}'" in err, err


def test_settings_from_code_have_the_same_bounds() -> None:
    for name, value, bound in (("max_backtracks", 101, 100), ("max_tokens", 2**21, 2**20), ("temperature", 11.0, 10)):
        with pytest.raises(UsageError, match=rf"{name}={value!r} must be <= {bound}"):
            Predict("question -> answer", **{name: value})


def _places(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _places(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _places(item, (*path, i))
    return found


PLACES = [p for p in _places(BASE) if p]
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(alphabet=st.characters(codec=None), max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(PLACES), JSON, st.booleans())
def test_any_json_value_anywhere_loads_or_is_a_program_file_error(place, value, redigest) -> None:
    document = copy.deepcopy(BASE)
    target = document
    for key in place[:-1]:
        target = target[key]
    target[place[-1]] = value
    if redigest:
        with contextlib.suppress(ValueError, UnicodeEncodeError):  # a value no digest covers: left as it is
            document["digest"] = _digest(document)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "program.json"
        path.write_text(json.dumps(document, allow_nan=True), encoding="utf-8", errors="surrogatepass")
        try:
            CitedRAG().load(path)
        except ProgramFileError as exc:
            assert exc.path == str(path)
