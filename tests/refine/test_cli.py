from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import citations
from refine import ContextOverflow, ScriptedLM
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
    assert sources.splitlines()[0] == "  [1] cats.md#0  Cats  (cited)"
    assert "Cats purr when they are content." in sources
    assert "Weak:" not in sources


def test_ask_says_in_one_line_when_the_cited_passage_does_not_say_it(docs):
    status, out = run(["ask", "Why do cats purr?", "--corpus", str(docs)], ScriptedLM(["Dogs fly to the moon [1]."]))
    assert status == 0
    (weak,) = [line for line in out.splitlines() if line.startswith("Weak:")]
    assert weak.startswith("Weak: the passages cited for sentence 1 do not say it (lexical check)")


def test_ask_extractive_answers_with_a_verbatim_quote(docs):
    lm = ScriptedLM(["Cats purr when they are content. [1]"])
    status, out = run(["ask", "Why do cats purr?", "--corpus", str(docs), "--mode", "extractive"], lm)
    assert status == 0 and out.startswith("Cats purr when they are content. [1]")
    assert "verbatim" in " ".join(m.content for m in lm.requests[0].messages)


def test_ask_short_answers_with_a_span_it_chose(docs):
    lm = ScriptedLM(["Dogs [1]"])
    status, out = run(["ask", "Who barks at strangers?", "--corpus", str(docs), "--mode", "short"], lm)
    assert status == 0 and out.startswith("Dogs [1]")
    assert lm.requests[0].constraint.options == ("Dogs [1]",)


@pytest.mark.model
def test_a_short_answer_on_the_embedded_model_is_a_cited_span(embedded_lm):
    status, out = run(["ask", "When was Python's json module added?", "--mode", "short", "--json"], embedded_lm)
    result = json.loads(out)
    assert status == 0 and result["valid"], result
    assert len(citations.strip_markers(result["answer"]).split()) <= 6, result["answer"]


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
    assert status == 0 and "[1] dogs.txt#0  dogs  (cited)" in out


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
        (["ask", "yield \udcff"], "the question holds the byte(s) b'\\xff', which are not UTF-8, at character 6"),
        (["ask", "q", "--model", "/"], "model path '/' is a folder, not a model file"),
        (["ask", "q", "--lm", "gpt"], "lm='gpt' names no known backend 'gpt'"),
        (["ask", "q", "--lm", "ollama:"], "names no model; use ollama:MODEL[@HOST]"),
        (["ask", "q", "--lm", "llamacpp", "--model", "x.gguf"], "pass llamacpp:PATH.gguf to --lm"),
        (["ask", "q", "--lm", "llamacpp:/no/model.gguf"], "model file '/no/model.gguf' does not exist"),
        (["eval", "--data", "/no/data.jsonl", "--out", "rows.jsonl", "--lm", "nope"], "names no known backend"),
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
    assert main(["ask", "q", "--corpus", str(index)], lm=ScriptedLM([]), out=io.StringIO()) == 3  # a runtime failure
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


def test_an_empty_or_foreign_corpus_folder_says_what_it_lacks(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["ask", "q", "--corpus", str(empty)], lm=ScriptedLM([]), out=io.StringIO()) == 2
    err = capsys.readouterr().err
    assert f"--corpus folder '{empty}' is not a refine index (no refine-index.json) and is empty" in err
    (empty / "notes.pdf").write_bytes(b"%PDF")
    assert main(["ask", "q", "--corpus", str(empty)], lm=ScriptedLM([]), out=io.StringIO()) == 2
    assert "holds no .txt or .md files; pass a folder of your .txt/.md files" in capsys.readouterr().err


def _raise(error: BaseException):
    def reply(request):
        raise error

    return reply


@pytest.mark.parametrize(
    ("lm", "status", "stderr"),
    [
        (ScriptedLM(["Cats purr when content [1]."]), 0, ""),
        (ScriptedLM(["Cats purr.", "Cats purr.", "Cats purr."], supports=()), 1, ""),
        (ScriptedLM([]), 3, "refine: error: ScriptedLM ran out of replies"),
        (ScriptedLM([_raise(KeyboardInterrupt())]), 130, "refine: interrupted\n"),
    ],
    ids=["valid", "uncited", "runtime-failure", "interrupted"],
)
def test_exit_status_says_what_happened(docs, capsys, lm, status, stderr):
    assert main(["ask", "Why do cats purr?", "--corpus", str(docs)], lm=lm, out=io.StringIO()) == status
    assert capsys.readouterr().err.startswith(stderr)


def test_help_documents_the_exit_status(capsys):
    with pytest.raises(SystemExit):
        main(["ask", "--help"])
    assert "3 a failure while running" in " ".join(capsys.readouterr().out.split())


def test_a_prompt_too_long_for_the_context_names_the_flags(docs, capsys):
    overflow = ContextOverflow("too long", prompt_tokens=9000, max_tokens=512, n_ctx=8192)
    argv = ["ask", "Why do cats purr?", "--corpus", str(docs), "-k", "50"]
    assert main(argv, lm=ScriptedLM([_raise(overflow)]), out=io.StringIO()) == 2
    err = capsys.readouterr().err
    assert "the prompt has 9000 tokens and the answer may take 512 more, but the model's context holds 8192" in err
    assert "pass a smaller -k than 50, or a larger --n-ctx than 8192" in err and "shorter question" not in err


def test_non_utf8_bytes_in_the_question_are_one_line_not_a_traceback():
    """As a shell passes them: bytes in argv, decoded by Python with surrogateescape."""
    proc = subprocess.run(
        [sys.executable, "-m", "refine.cli", "ask", b"yield \xff"], capture_output=True, timeout=120, check=False
    )
    assert proc.returncode == 2
    assert proc.stderr.decode() == (
        "refine: error: the question holds the byte(s) b'\\xff', which are not UTF-8, at character 6; "
        "pass it as UTF-8 text (check the terminal's encoding)\n"
    )


@pytest.mark.model
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ask", "What does yield do?", "-k", "10000"], "pass a smaller -k than 10000, or a larger --n-ctx than 8192"),
        (["ask", "yield " * 20_000, "-k", "1"], "pass a shorter question (it has about 20001 tokens), or a larger"),
    ],
    ids=["many-passages", "long-question"],
)
def test_a_prompt_too_long_for_the_embedded_model(embedded_lm, argv, message, capsys):
    assert main(argv, lm=embedded_lm, out=io.StringIO()) == 2
    err = capsys.readouterr().err
    assert err.startswith("refine: error: the prompt has ") and message in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (OSError(28, "No space left on device", "/data/index/data.csc.index.npy"), 3),
        (PermissionError(13, "Permission denied", "/data/index"), 2),
    ],
    ids=["disk-full", "permission"],
)
def test_a_disk_error_while_indexing_is_one_line(docs, tmp_path, monkeypatch, capsys, error, status):
    from refine.retrieval import BM25Retriever

    def fail(self, folder):
        raise error

    monkeypatch.setattr(BM25Retriever, "save", fail)
    out = tmp_path / "index"
    assert main(["index", str(docs), "--out", str(out)], out=io.StringIO()) == status
    fixes = {2: "pass a folder path you can write to", 3: "make room on the disk, or pass --out on another one"}
    fix = fixes[status]
    said = f"refine: error: cannot write the index to --out '{out}': {error.strerror}; {fix}\n"
    assert capsys.readouterr().err == said


def test_an_index_out_that_cannot_be_made_names_out_not_a_staging_folder(docs, capsys):
    assert main(["index", str(docs), "--out", "/proc/refine-x6"], out=io.StringIO()) == 2
    err = capsys.readouterr().err
    assert err == "refine: error: cannot write the index to --out '/proc/refine-x6': No such file or directory; " \
        "pass a folder path you can write to\n"


def test_a_file_name_that_is_not_utf8_is_named_as_the_problem(tmp_path, capsys):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.txt").write_text("Cats purr.")
    os.close(os.open(os.fsencode(folder) + b"/caf\xe9.txt", os.O_CREAT | os.O_WRONLY))
    assert main(["index", str(folder), "--out", str(tmp_path / "index")], out=io.StringIO()) == 2
    err = capsys.readouterr().err
    assert "the file name b'caf\\xe9.txt' in folder" in err and "is not UTF-8" in err and err.count("\n") == 1


def test_optimize_on_data_without_passages_names_the_flag(tmp_path, capsys):
    train = tmp_path / "train.jsonl"
    train.write_text('{"id": "q1", "question": "What?", "answers": ["x"]}\n')
    argv = ["optimize", "--train", str(train), "--save", str(tmp_path / "p.json")]
    assert main(argv, lm=ScriptedLM([]), out=io.StringIO()) == 2
    err = capsys.readouterr().err
    fix = "pass --corpus with the corpus to search"
    assert err == f"refine: error: --train {train} holds no passages to retrieve from; {fix}\n"


class _ClosedPipe(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_a_reader_that_goes_away_stops_refine_quietly(docs, capsys):
    argv = ["ask", "Why do cats purr?", "--corpus", str(docs)]
    assert main(argv, lm=ScriptedLM(["Cats purr when content [1]."]), out=_ClosedPipe()) == 141
    assert capsys.readouterr().err == ""


@pytest.mark.model
def test_refine_ask_into_a_pipe_closed_early(embedded_lm):
    """`refine ask ... | head -1`, when the reader has left before the answer is written."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "refine.cli", "ask", "What does the yield statement do?", "-k", "1"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=300,
            check=False,
        )
    finally:
        os.close(write_end)
    assert (proc.returncode, proc.stderr) == (141, "")


def test_a_backend_that_cannot_be_reached_is_a_runtime_failure_named_in_one_line(capsys):
    # Nothing listens on port 9 of loopback: refused, retried with backoff, then one line and exit 3.
    status = main(["ask", "What does the with statement do?", "--lm", "ollama:tiny@127.0.0.1:9"], out=io.StringIO())
    err = capsys.readouterr().err
    assert status == 3 and "127.0.0.1:9" in err and err.count("\n") == 1


@pytest.mark.model
def test_an_extractive_answer_on_the_embedded_model_quotes_a_cited_passage(embedded_lm):
    status, out = run(["ask", "How do I open a file for reading?", "--mode", "extractive", "--json"], embedded_lm)
    result = json.loads(out)
    assert status == 0 and result["valid"], result
    (cited,) = [s for s in result["sources"] if s["cited"]]
    quote = citations.strip_markers(result["answer"])
    assert quote and (quote in cited["text"] or citations.match_quote(quote, cited["text"])), (quote, cited["text"])
