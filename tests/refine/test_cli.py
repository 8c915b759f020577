from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from refine import ScriptedLM
from refine.cli import main

DOCS = {"cats.md": "# Cats\n\nCats purr when they are content.\n", "dogs.txt": "Dogs bark at strangers.\n"}


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in DOCS.items():
        (folder / name).write_text(text)
    return folder


def run(argv: list[str], lm=None) -> tuple[int, str]:
    out = io.StringIO()
    return main(argv, lm=lm, out=out), out.getvalue()


def test_ask_prints_answer_and_cited_sources(docs):
    status, out = run(["ask", "Why do cats purr?", "--corpus", str(docs)], ScriptedLM(["Cats purr when content [1]."]))
    assert status == 0
    answer, sources = out.split("\nSources:\n")
    assert answer.strip() == "Cats purr when content [1]."
    assert sources.splitlines()[0] == "  [1] Cats  (cats.md#0)"
    assert "Cats purr when they are content." in sources


def test_ask_json(docs):
    status, out = run(["ask", "Why do cats purr?", "--corpus", str(docs), "--json"], ScriptedLM(["Cats purr [1]."]))
    data = json.loads(out)
    assert status == 0 and data["valid"] is True
    assert data["answer"] == "Cats purr [1]."
    assert [(s["n"], s["id"], s["cited"]) for s in data["sources"]] == [(1, "cats.md#0", True)]
    assert data["attempts"] == 1 and data["usage"]["calls"] == 1


def test_index_then_ask_the_saved_index(docs, tmp_path):
    index = tmp_path / "index"
    status, out = run(["index", str(docs), "--out", str(index)])
    assert status == 0 and out == f"indexed 2 passages from {docs} into {index}\n"
    status, out = run(["ask", "Do dogs bark?", "--corpus", str(index)], ScriptedLM(["Dogs bark at strangers [1]."]))
    assert status == 0 and "(dogs.txt#0)" in out


def _corrupt(index: Path) -> None:
    victim = next(p for p in sorted(index.iterdir()) if p.suffix == ".npy")
    victim.write_bytes(victim.read_bytes()[:10])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ask", "  "], "the question is empty"),
        (["ask", "q", "--corpus", "nope"], "unknown corpus 'nope'"),
        (["ask", "q", "--corpus", "/no/such/file.jsonl"], "/no/such/file.jsonl"),
        (["ask", "q", "-k", "0"], "k=0 must be >= 1"),
        (["ask", "q", "--model", "/no/model.gguf"], "model file '/no/model.gguf' does not exist"),
        (["index", "/no/such/folder", "--out", "x"], "/no/such/folder"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv, message, capsys):
    status = main(argv, out=io.StringIO())
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("refine: error: ") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_corrupt_and_foreign_index_folders(docs, tmp_path, capsys):
    index = tmp_path / "index"
    assert main(["index", str(docs), "--out", str(index)], out=io.StringIO()) == 0
    _corrupt(index)
    assert main(["ask", "q", "--corpus", str(index)], lm=ScriptedLM([]), out=io.StringIO()) == 2
    err = capsys.readouterr().err
    assert "refine index" in err and err.count("\n") == 1
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "data.bin").write_bytes(b"\0\1")
    assert main(["ask", "q", "--corpus", str(foreign)], lm=ScriptedLM([]), out=io.StringIO()) == 2
    assert "is not a refine index" in capsys.readouterr().err


@pytest.mark.model
def test_refine_ask_end_to_end_on_the_embedded_model(embedded_lm):
    """The README's main command, as a user runs it: a fresh process, the shipped corpus, the real model."""
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    proc = subprocess.run(
        [sys.executable, "-m", "refine.cli", "ask", "What does the nonlocal statement do?", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    data = json.loads(proc.stdout)
    cited = [s for s in data["sources"] if s["cited"]]
    assert data["valid"] and cited
    for source in cited:
        assert f"[{source['n']}]" in data["answer"]
