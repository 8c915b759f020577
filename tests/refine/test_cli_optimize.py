"""`refine optimize`: compile cited RAG on a data set, print what was kept, save a program file
that `refine ask --program` and `refine eval --program` load; bad input exits 2 before the model."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from refine import Predict, ScriptedLM
from refine.cli import main

ROWS = [
    {
        "_id": f"h{i}",
        "question": f"Which river flows through {city}?",
        "answer": river,
        "context": [[river, [f"The {river} flows through {city}."]], ["Elbe", ["The Elbe flows through Dresden."]]],
        "supporting_facts": [[river, 0]],
    }
    for i, (city, river) in enumerate([("Paris", "Seine"), ("Basel", "Rhine"), ("Vienna", "Danube"), ("Rome", "Tiber")])
]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "hotpot.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in ROWS))
    return path


def run(argv: list[str], backend: ScriptedLM) -> tuple[int, str]:
    out = io.StringIO()
    quiet = [] if argv[0] == "ask" else ["--no-progress"]
    return main([*argv, *quiet], lm=backend, out=out), out.getvalue()


def test_optimize_keeps_the_passing_traces_and_saves_a_program_ask_and_eval_load(data, tmp_path, capsys):
    saved = tmp_path / "program.json"
    # Two of four answers pass f1 >= 0.5: those two traces become the demos.
    replies = ["The Seine flows [1].", "It is the Elbe [2].", "The Danube river [1].", "It is the Elbe [2]."]
    status, printed = run(
        ["optimize", "--train", str(data), "--save", str(saved), "--metric", "f1", "-k", "2"], ScriptedLM(replies)
    )
    assert status == 0, capsys.readouterr().err
    assert "kept 2 of 4 examples" in printed and "demos predict" in printed and "not kept (2)" in printed
    assert f"--program {saved}" in printed
    document = json.loads(saved.read_text())
    (predictor,) = document["predictors"]
    assert predictor["name"] == "predict" and len(predictor["demos"]) == 2
    assert {d["values"]["question"] for d in predictor["demos"]} == {ROWS[0]["question"], ROWS[2]["question"]}

    backend = ScriptedLM(["The Seine flows [1]."] * 4)
    out = tmp_path / "rows.jsonl"
    status, _ = run(["eval", "--data", str(data), "--out", str(out), "--program", str(saved), "--limit", "1"], backend)
    assert status == 0
    prompt = "\n".join(m.content for m in backend.requests[0].messages)
    assert ROWS[2]["question"] in prompt  # the demo is in the prompt of a question it is not

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "cats.txt").write_text("Cats purr when they are content.")
    asked = ScriptedLM(["Cats purr when content [1]."])
    status, printed = run(["ask", "Why do cats purr?", "--corpus", str(docs), "--program", str(saved)], asked)
    assert status == 0 and "Cats purr" in printed
    assert ROWS[0]["question"] in "\n".join(m.content for m in asked.requests[0].messages)


def test_random_search_reports_every_candidate(data, tmp_path):
    saved = tmp_path / "program.json"
    argv = ["optimize", "--train", str(data), "--save", str(saved), "--optimizer", "random-search"]
    status, printed = run(
        [*argv, "--limit", "2", "--candidates", "4", "-k", "2"], ScriptedLM(["The Seine flows [1]."] * 200)
    )
    assert status == 0
    assert printed.count("candidate ") >= 4 and "<- best" in printed and saved.is_file()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--limit", "0"], "--limit 0 must be >= 1"),
        (["--demos", "-1"], "--demos -1 must be >= 0"),
        (["--candidates", "0"], "--candidates 0 must be >= 1"),
        (["--optimizer", "labeled", "--lm", "nope:x"], "nope"),
    ],
)
def test_bad_numbers_exit_2_before_any_lm_call(data, tmp_path, capsys, argv, message):
    backend = ScriptedLM([])
    status, _ = run(["optimize", "--train", str(data), "--save", str(tmp_path / "p.json"), *argv], backend)
    err = capsys.readouterr().err
    assert status == 2 and message in err and err.count("\n") == 1 and not backend.requests


def test_bad_paths_exit_2_with_the_fix(data, tmp_path, capsys):
    status, _ = run(["optimize", "--train", str(data), "--save", str(tmp_path)], ScriptedLM([]))
    assert status == 2 and "is a folder; pass a file path such as" in capsys.readouterr().err
    status, _ = run(["optimize", "--train", str(data), "--save", str(tmp_path / "no" / "p.json")], ScriptedLM([]))
    assert status == 2 and "does not exist; create it" in capsys.readouterr().err
    (tmp_path / "broken.json").write_text('{"format": "refine-program"')
    out = tmp_path / "rows.jsonl"
    status, _ = run(
        ["eval", "--data", str(data), "--out", str(out), "--program", str(tmp_path / "broken.json")], ScriptedLM([])
    )
    err = capsys.readouterr().err
    assert status == 2 and "broken.json' is damaged: not JSON" in err


def test_a_program_of_another_shape_is_refused_by_name(data, tmp_path, capsys):
    Predict("question -> answer").save(tmp_path / "other.json")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "cats.txt").write_text("Cats purr when they are content.")
    argv = ["ask", "Why?", "--corpus", str(tmp_path / "docs"), "--program", str(tmp_path / "other.json")]
    status, _ = run(argv, ScriptedLM([]))
    err = capsys.readouterr().err
    assert status == 2 and "has no predictor 'predict', which the program has" in err


def test_labeled_demos_cite_the_retrieved_passage_that_holds_the_answer(data, tmp_path):
    saved = tmp_path / "program.json"
    backend = ScriptedLM([])
    status, printed = run(["optimize", "--train", str(data), "--save", str(saved), "--optimizer", "labeled"], backend)
    assert status == 0 and not backend.requests and "kept 4 of 4 examples" in printed
    for demo in json.loads(saved.read_text())["predictors"][0]["demos"]:
        answer, marker = demo["values"]["answer"].rsplit(" [", 1)
        assert answer in demo["values"]["passages"][int(marker[0]) - 1]["text"]
