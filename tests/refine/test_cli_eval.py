"""`refine eval`: cited RAG over a data set's pooled corpus, a table, rows in a file; bad input exits 2."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

import corpora
from refine import ScriptedLM
from refine.cli import main

ROWS = [
    {
        "_id": "h1",
        "question": "Which river flows through Paris?",
        "answer": "Seine",
        "context": [["Seine", ["The Seine flows through Paris."]], ["Rhine", ["The Rhine flows through Basel."]]],
        "supporting_facts": [["Seine", 0]],
    },
    {
        "_id": "h2",
        "question": "Which river flows through Basel?",
        "answer": "Rhine",
        "context": [["Rhine", ["The Rhine flows through Basel."]], ["Elbe", ["The Elbe flows through Dresden."]]],
        "supporting_facts": [["Rhine", 0]],
    },
]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "hotpot.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in ROWS))
    return path


def lm() -> ScriptedLM:
    # The citation grammar wants sentences of 8 characters or more: no one-word answer.
    return ScriptedLM(["Seine river [1]."] * 10)


def run(argv: list[str], backend=None) -> tuple[int, str]:
    out = io.StringIO()
    return main(["eval", *argv, "--no-progress"], lm=backend or lm(), out=out), out.getvalue()


def test_eval_prints_the_table_and_writes_the_rows(data, tmp_path, capsys):
    out = tmp_path / "rows.jsonl"
    status, table = run(["--data", str(data), "--out", str(out), "--metric", "f1", "-k", "2"])
    assert status == 0
    assert "2 rows" in table and "│ f1 " in table and "0.333  [" in table and "support_recall" in table
    header, *rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert header["metric"] == "f1" and "em" in header["metrics"] and "gold_recall" in header["metrics"]
    assert [row["id"] for row in rows] == ["h1", "h2"]
    assert rows[0]["cited"] and set(rows[0]["cited"]) <= set(rows[0]["passages"])
    assert capsys.readouterr().err == ""


def test_eval_resumes(data, tmp_path):
    out = tmp_path / "rows.jsonl"
    assert run(["--data", str(data), "--out", str(out), "--limit", "1"])[0] == 0
    backend = lm()
    status, table = run(["--data", str(data), "--out", str(out), "--resume"], backend)
    assert status == 0 and len(backend.requests) == 1 and "1 rows resumed" in table


def test_eval_retrieves_from_another_corpus(data, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "rivers.md").write_text("# Rivers\n\nThe Seine flows through Paris.\n")
    out = tmp_path / "rows.jsonl"
    assert run(["--data", str(data), "--out", str(out), "--corpus", str(docs)])[0] == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()[1:]]
    assert rows[0]["passages"] == ["rivers.md#0"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--limit", "0"], "--limit 0 must be >= 1"),
        (["--threads", "0"], "--threads 0 must be >= 1"),
        (["-k", "0"], "-k 0 must be >= 1"),
    ],
)
def test_bad_numbers_exit_2_with_one_line(data, tmp_path, capsys, argv, message):
    status, _ = run(["--data", str(data), "--out", str(tmp_path / "rows.jsonl"), *argv])
    assert status == 2
    assert capsys.readouterr().err == f"refine: error: {message}\n"


def test_bad_files_exit_2_with_one_line(data, tmp_path, capsys):
    out = tmp_path / "rows.jsonl"
    assert run(["--data", str(tmp_path / "missing.jsonl"), "--out", str(out)])[0] == 2
    assert "no such file" in capsys.readouterr().err
    assert run(["--data", str(data), "--out", str(out)])[0] == 0
    assert run(["--data", str(data), "--out", str(out)])[0] == 2
    err = capsys.readouterr().err
    assert (
        err == f"refine: error: --out {out} already holds rows; pass --resume to continue that run, or another --out\n"
    )
    assert run(["--data", str(data), "--out", str(tmp_path / "no" / "rows.jsonl")])[0] == 2
    assert "does not exist; create it or pass another --out" in capsys.readouterr().err
    plain = tmp_path / "plain.jsonl"
    plain.write_text('{"id": "1", "question": "Which river?", "answers": ["Seine"]}\n')
    assert run(["--data", str(plain), "--out", str(tmp_path / "p.jsonl")])[0] == 2
    assert "holds no passages to retrieve from; pass --corpus" in capsys.readouterr().err
    for err in capsys.readouterr().err.splitlines():
        assert err.startswith("refine: error: ")


def test_ask_still_works(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "cats.md").write_text("# Cats\n\nCats purr when they are content.\n")
    out = io.StringIO()
    status = main(["ask", "Why do cats purr?", "--corpus", str(docs)], lm=ScriptedLM(["Cats purr [1]."]), out=out)
    assert status == 0 and "Sources:" in out.getvalue()


@pytest.mark.data
def test_eval_on_real_hotpotqa_rows(tmp_path):
    shared = corpora.shared_data_dir()
    if shared is None:
        pytest.skip("no shared data folder: set REFINE_DATA or run from a checkout next to ../shared/data")
    out = tmp_path / "rows.jsonl"
    backend = ScriptedLM(["Answer: It is there [1]."] * 3)
    status, table = run(
        ["--data", str(shared / "hotpotqa" / "dev397.jsonl"), "--limit", "3", "--out", str(out)], backend
    )
    assert status == 0 and "3 rows" in table
    assert len(out.read_text().splitlines()) == 4


def test_ctrl_c_exits_130_keeping_the_rows(data, tmp_path, capsys):
    def interrupt(request):
        raise KeyboardInterrupt  # as the model does at its next decoding step

    out = tmp_path / "rows.jsonl"
    status, table = run(["--data", str(data), "--out", str(out)], ScriptedLM(["Seine river [1].", interrupt]))
    assert status == 130 and "1 rows" in table
    assert capsys.readouterr().err == (
        "refine: interrupted after 1 of 2 rows; the same command with --resume continues\n"
    )
    assert len(out.read_text().splitlines()) == 2
