"""Programs saved as versioned, fingerprinted JSON; every problem a ProgramFileError naming file and fix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpora import Passage
from refine import Assert, CitedRAG, Demo, InputField, Module, OutputField, Predict, ScriptedLM, Signature, checks
from refine.errors import ProgramFileError
from refine.history import RepairDemo
from refine.program import load_program, save_program
from refine.program._files import FORMAT, program_to_json


class Typed(Signature, instructions="Answer."):
    passages: list[Passage] = InputField()
    question: str = InputField()
    answer: str = OutputField()
    confidence: Literal["high", "low"] = OutputField()
    score: float = OutputField()


class TwoStep(Module):
    def __init__(self) -> None:
        self.search = Predict("question -> query")
        self.answer = Predict("query -> answer", assertions=[Assert(checks.non_empty("answer"))])

    def forward(self, question: str):
        return self.answer(query=self.search(question=question).query)


def test_a_predictor_round_trips_with_typed_demos_repairs_and_settings(tmp_path: Path):
    passages = [Passage.create("Paris", "Paris is the capital.", metadata={"n": 1})]
    values = {"passages": passages, "question": "q?", "answer": "Paris [1].", "confidence": "high", "score": 0.5}
    predict = Predict(Typed, max_backtracks=1, max_tokens=99, temperature=0.3, strict=False).with_demos(
        [Demo(values), RepairDemo(values, "Paris", "cite a passage")]
    )
    path = save_program(predict, tmp_path / "program.json")
    loaded = load_program(Predict(Typed), path)
    assert loaded.signature == predict.signature and loaded.demos == predict.demos
    assert (loaded.max_backtracks, loaded.max_tokens, loaded.temperature, loaded.strict) == (1, 99, 0.3, False)
    assert loaded.demos[0].values["passages"][0].metadata == {"n": 1}
    document = json.loads(path.read_text())
    assert document["format"] == FORMAT and document["version"] == 1 and document["refine_version"]
    assert document["digest"].startswith("blake2b-128:")


def test_predict_load_from_the_class_keeps_passages_as_passages(tmp_path: Path):
    passages = [Passage.create("Paris", "Paris is the capital.")]
    demo = Demo({"passages": passages, "question": "q?", "answer": "Paris [1].", "confidence": "high", "score": 0.5})
    path = save_program(Predict(Typed).with_demos([demo]), tmp_path / "program.json")
    assert load_program(Predict, path).demos == (demo,)


def test_a_module_loads_into_its_own_structure_keeping_its_code(tmp_path: Path):
    taught = TwoStep()
    object.__setattr__(taught, "search", taught.search.with_demos([Demo({"question": "q", "query": "x"})]))
    object.__setattr__(taught, "answer", taught.answer.with_instructions("Be brief."))
    path = save_program(taught, tmp_path / "two.json")
    fresh = TwoStep()
    loaded = load_program(fresh, path)
    assert loaded.search.demos == taught.search.demos and fresh.search.demos == ()
    assert loaded.answer.signature.instructions == "Be brief."
    assert loaded.answer.assertions == fresh.answer.assertions  # assertions are code: kept from the program
    assert load_program(TwoStep, path).search.demos == taught.search.demos
    result = loaded(question="q?", lm=ScriptedLM(["query", "answer"]))
    assert result.answer == "answer"


def test_a_structure_mismatch_names_the_predictor(tmp_path: Path):
    path = save_program(TwoStep(), tmp_path / "two.json")
    with pytest.raises(ProgramFileError, match=r"does not fit the program: it has no predictor 'predict'") as info:
        load_program(CitedRAG(), path)
    assert info.value.predictor == "predict" and info.value.path == str(path)
    other = save_program(Predict("question -> answer, extra"), tmp_path / "one.json")
    with pytest.raises(ProgramFileError, match=r"predictor 'self' was saved with signature .*extra"):
        load_program(Predict("question -> answer"), other)
    with pytest.raises(ProgramFileError, match=r"holds a program of predictors search, answer, not one Predict"):
        load_program(Predict, path)


def test_a_newer_format_version_gets_a_clear_error(tmp_path: Path):
    document = program_to_json(Predict("question -> answer"))
    document["version"] = 9
    path = tmp_path / "new.json"
    path.write_text(json.dumps(document))
    with pytest.raises(
        ProgramFileError, match=r"has format version 9 .* newer than the version 1 .*pip install -U refine"
    ):
        load_program(Predict, path)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{not json", r"is damaged: not JSON \(Expecting property name"),
        ('{"format": "refine-bm25"}', r"is not a refine program file \(format='refine-bm25'"),
        ("[1, 2]", r"is not a refine program file \(format='list'"),
        ("\udcff", r"is damaged: not UTF-8"),
    ],
)
def test_a_corrupt_file_names_the_file_and_what_is_wrong(tmp_path: Path, text: str, problem: str):
    path = tmp_path / "bad.json"
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    with pytest.raises(ProgramFileError, match=rf"program file '{path}' {problem}"):
        load_program(Predict, path)


def test_a_file_changed_after_it_was_written_fails_its_digest(tmp_path: Path):
    path = save_program(
        Predict("question -> answer").with_demos([Demo({"question": "q", "answer": "a"})]), tmp_path / "p.json"
    )
    path.write_text(path.read_text().replace('"a"', '"b"'))
    with pytest.raises(ProgramFileError, match=r"is damaged: its digest .* does not match its content"):
        load_program(Predict, path)
    cut = tmp_path / "cut.json"
    cut.write_bytes(path.read_bytes()[:40])
    with pytest.raises(ProgramFileError, match=r"is damaged: not JSON"):
        load_program(Predict, cut)
    with pytest.raises(ProgramFileError, match=r"cannot read program file .*missing.json"):
        load_program(Predict, tmp_path / "missing.json")


def test_a_damaged_demo_value_names_the_predictor_and_field(tmp_path: Path):
    document = program_to_json(
        Predict(Typed).with_demos(
            [Demo({"passages": [], "question": "q", "answer": "a", "confidence": "high", "score": 1.0})]
        )
    )
    document["predictors"][0]["demos"][0]["values"]["confidence"] = "medium"
    from refine.program._files import _digest

    document["digest"] = _digest(document)
    path = tmp_path / "p.json"
    path.write_text(json.dumps(document))
    with pytest.raises(ProgramFileError, match=r"predictor 'self' demos\[0\] value 'confidence'='medium' is not"):
        load_program(Predict, path)


def test_values_that_are_not_json_are_refused_at_save(tmp_path: Path):
    predict = Predict("question -> answer").with_demos([Demo({"question": object(), "answer": "a"})])
    with pytest.raises(
        ValueError, match=r"predictor 'self' demos\[0\]\.values\['question'\]=.* cannot be written as JSON"
    ):
        save_program(predict, tmp_path / "p.json")
    assert not list(tmp_path.iterdir())


def test_a_module_class_that_needs_arguments_says_how_to_load(tmp_path: Path):
    class Needs(Module):
        def __init__(self, k: int) -> None:
            self.predict = Predict("question -> answer")

    path = save_program(Needs(1), tmp_path / "p.json")
    with pytest.raises(
        ValueError, match=r"Needs\(\) cannot be built without arguments .*Needs\(\.\.\.\)\.load\(path\)"
    ):
        load_program(Needs, path)
    assert Needs(2).load(path).predict.signature == Needs(1).predict.signature


def test_programs_save_and_load_themselves(tmp_path: Path):
    """program.save(path); Predict.load(path) and MyModule.load(path) build; program.load(path) fills a copy."""
    demo = Demo({"question": "q", "query": "x"})
    taught = TwoStep().map_predictors(lambda name, p: p.with_demos([demo]) if name == "search" else p)
    assert taught.save(tmp_path / "two.json") == tmp_path / "two.json"
    assert TwoStep.load(tmp_path / "two.json").search.demos == (demo,)
    fresh = TwoStep()
    assert fresh.load(tmp_path / "two.json").search.demos == (demo,) and fresh.search.demos == ()
    predict = Predict("question -> answer").with_demos([Demo({"question": "q", "answer": "a"})])
    predict.save(tmp_path / "one.json")
    built = Predict.load(tmp_path / "one.json")
    assert built.signature == predict.signature and built.demos == predict.demos
    assert Predict("question -> answer").load(tmp_path / "one.json").demos == predict.demos
    with pytest.raises(ProgramFileError, match=r"not one Predict; load it into the program .*TwoStep\(\.\.\.\)\.load"):
        Predict.load(tmp_path / "two.json")
    with pytest.raises(ValueError, match=r"cannot load a program into <class 'int'>"):
        load_program(int, tmp_path / "one.json")


def test_program_file_error_is_a_usage_error_in_the_one_tree():
    from refine import errors

    assert issubclass(errors.ProgramFileError, errors.UsageError) and errors.ProgramFileError is ProgramFileError


names = st.sampled_from(["question", "context", "answer", "notes", "score"])
texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)


@st.composite
def predictors(draw: st.DrawFn) -> Predict:
    inputs = draw(st.lists(st.sampled_from(["question", "context"]), min_size=1, max_size=2, unique=True))
    outputs = draw(st.lists(st.sampled_from(["answer", "notes"]), min_size=1, max_size=2, unique=True))
    typed = {"answer": "str", "notes": draw(st.sampled_from(["str", "int", "list[str]"]))}
    spec = f"{', '.join(inputs)} -> {', '.join(f'{o}: {typed[o]}' for o in outputs)}"
    value = {"str": texts, "int": st.integers(-(10**12), 10**12), "list[str]": st.lists(texts, max_size=3)}

    def demo(repair: bool) -> Demo:
        values = {n: draw(texts) for n in inputs} | {o: draw(value[typed[o]]) for o in outputs}
        if repair:
            return RepairDemo(values, draw(texts), "fix " + draw(texts), draw(st.sampled_from(["fields", "json"])))
        return Demo(values)

    demos = [demo(draw(st.booleans())) for _ in range(draw(st.integers(0, 3)))]
    return Predict(
        Signature(spec, instructions=draw(texts)),
        demos=demos,
        max_backtracks=draw(st.integers(0, 5)),
        max_tokens=draw(st.integers(1, 4096)),
        temperature=draw(st.floats(0, 2, allow_nan=False)),
        strict=draw(st.booleans()),
        constrained=draw(st.booleans()),
    )


class Pair(Module):
    def __init__(self, first: Predict, rest: list[Predict]) -> None:
        self.first = first
        self.rest = rest

    def forward(self, **inputs: object):
        return self.first(**inputs)


@settings(max_examples=60, deadline=None)
@given(predictors(), st.lists(predictors(), max_size=2))
def test_save_then_load_gives_back_every_predictor(
    tmp_path_factory: pytest.TempPathFactory, first: Predict, rest: list[Predict]
):
    path = tmp_path_factory.mktemp("round") / "program.json"
    program = Pair(first, rest)
    save_program(program, path)
    blank = Pair(first.with_demos([]), [p.with_demos([]) for p in rest])
    loaded = load_program(blank, path)
    for (name, want), (got_name, got) in zip(program.named_predictors(), loaded.named_predictors(), strict=True):
        assert name == got_name
        assert got.signature == want.signature and got.demos == want.demos
        for key in ("max_backtracks", "max_tokens", "temperature", "strict", "constrained"):
            assert getattr(got, key) == getattr(want, key)
