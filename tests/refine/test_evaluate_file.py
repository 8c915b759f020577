"""The rows file of refine.evaluate: streamed, resumed, refused when foreign, safe at any cut."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refine import Predict, ScriptedLM, UsageError, metrics
from refine.evaluation import evaluate
from refine.evaluation._file import FORMAT_VERSION
from refine.example import Example

EXAMPLES = [Example(question=f"Question {i}?", answers=[f"A{i}"], id=f"q{i}").with_inputs("question") for i in range(6)]


def reply(request) -> str:
    text = " ".join(m.content for m in request.messages)
    number = next(i for i in range(6) if f"Question {i}?" in text)
    return f"Answer: A{number}" if number % 3 else "Answer: wrong"


def run(out: Path, examples=EXAMPLES, **options):
    lm = ScriptedLM([reply] * 50)
    report = evaluate(Predict("question -> answer"), examples, metrics.em, lm=lm, progress=False, out=out, **options)
    return report, lm


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_rows_stream_after_a_header(tmp_path):
    out = tmp_path / "rows.jsonl"
    report, _ = run(out)
    header, *rows = lines(out)
    assert header == {
        "refine_eval": FORMAT_VERSION,
        "metric": "em",
        "metrics": [],
        "program": "Predict(Signature('question: str -> answer: str'))",
    }
    assert [row["id"] for row in rows] == [f"q{i}" for i in range(6)]
    assert rows[1]["outputs"] == {"answer": "A1"} and rows[1]["metric"] == 1.0 and rows[0]["metric"] == 0.0
    assert report.out == str(out)


def test_resume_skips_the_rows_already_there(tmp_path):
    out = tmp_path / "rows.jsonl"
    first, _ = run(out, EXAMPLES[:4])
    again, lm = run(out, resume=True)
    assert len(lm.requests) == 2  # only q4 and q5 were asked
    assert again.resumed == 4 and [row.id for row in again.rows] == [f"q{i}" for i in range(6)]
    assert again.rows[:4] == first.rows  # rows read back equal the rows written
    assert [row["id"] for row in lines(out)[1:]] == [f"q{i}" for i in range(6)]
    done, lm = run(out, resume=True)
    assert lm.requests == [] and done.mean == again.mean


def test_an_existing_run_is_not_overwritten(tmp_path):
    out = tmp_path / "rows.jsonl"
    run(out, EXAMPLES[:2])
    with pytest.raises(UsageError, match=r"already holds a run \(2 rows of metric em of Predict.*pass resume=True"):
        run(out)


def test_a_run_of_something_else_is_not_resumed(tmp_path):
    out = tmp_path / "rows.jsonl"
    run(out, EXAMPLES[:2])
    with pytest.raises(UsageError, match=r"holds a run of metric em of Predict.*not of metric f1 of Predict"):
        evaluate(Predict("question -> answer"), EXAMPLES, metrics.f1, lm=ScriptedLM([]), out=out, resume=True)
    with pytest.raises(UsageError, match=r"not of metric em of Predict\(Signature\('question: str -> reply: str'\)\)"):
        evaluate(Predict("question -> reply"), EXAMPLES, metrics.em, lm=ScriptedLM([]), out=out, resume=True)


def test_foreign_files_are_refused(tmp_path):
    out = tmp_path / "rows.jsonl"
    out.write_text('{"id": "doc1", "text": "a corpus, not a run"}\n')
    with pytest.raises(UsageError, match="is not an evaluation file written by refine"):
        run(out, resume=True)
    out.write_text('{"refine_eval": 99}\n')
    with pytest.raises(UsageError, match="was written in evaluation format 99; this refine reads format 1"):
        run(out, resume=True)
    run(out := tmp_path / "edited.jsonl", EXAMPLES[:2])
    out.write_text(out.read_text() + "not json\n")
    with pytest.raises(UsageError, match=r"line 4 is not an evaluation row \(JSONDecodeError"):
        run(out, resume=True)
    with pytest.raises(UsageError, match="is a folder"):
        run(tmp_path, resume=True)
    with pytest.raises(UsageError, match=r"folder '.*nowhere' does not exist"):
        run(tmp_path / "nowhere" / "rows.jsonl")


def test_a_file_being_written_by_another_run_is_refused(tmp_path):
    out = tmp_path / "rows.jsonl"
    with open(out, "w") as other:
        fcntl.flock(other, fcntl.LOCK_EX)
        with pytest.raises(UsageError, match="is being written by another evaluation right now"):
            run(out)


def test_an_empty_file_is_a_new_run(tmp_path):
    out = tmp_path / "rows.jsonl"
    out.touch()
    report, _ = run(out)
    assert len(report.rows) == 6 and len(lines(out)) == 7


def _complete_file() -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "rows.jsonl"
        run(out)
        return out.read_bytes()


COMPLETE = _complete_file()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(0, len(COMPLETE)))
def test_a_run_cut_at_any_byte_resumes_to_every_row_once(tmp_path, cut):
    # What a SIGKILL mid-write leaves: the file up to some byte. Resuming must drop a torn line,
    # keep every whole one, and end with each row exactly once.
    out = tmp_path / f"cut{cut}.jsonl"
    out.write_bytes(COMPLETE[:cut])
    kept = COMPLETE[:cut].count(b"\n") - 1  # whole rows left (the header is the first line)
    report, lm = run(out, resume=True)
    assert len(lm.requests) == 6 - max(kept, 0)
    rows = lines(out)[1:]
    assert sorted(row["id"] for row in rows) == [f"q{i}" for i in range(6)]
    assert [row.id for row in report.rows] == [f"q{i}" for i in range(6)]
    assert report.mean == pytest.approx(4 / 6)
    os.remove(out)


@pytest.mark.parametrize("device", ["/dev/full", "/dev/zero", "/dev/null"])
def test_out_must_be_a_regular_file_not_a_device(device: str) -> None:
    examples = [Example(question="q?", answers=["a"], id="x").with_inputs("question")]
    with pytest.raises(UsageError, match=rf"out='{device}' is a character device; rows go to a regular file"):
        evaluate(Predict("question -> answer"), examples, metrics.em, lm=ScriptedLM(["a"]), out=device, progress=False)


def test_a_pipe_is_refused_without_waiting_for_a_reader(tmp_path: Path) -> None:
    fifo = tmp_path / "rows.jsonl"
    os.mkfifo(fifo)
    examples = [Example(question="q?", answers=["a"], id="x").with_inputs("question")]
    with pytest.raises(UsageError, match=r"is a pipe; rows go to a regular file"):
        evaluate(Predict("question -> answer"), examples, metrics.em, lm=ScriptedLM(["a"]), out=fifo, progress=False)


def test_a_write_error_names_the_file_and_keeps_the_rows_before(tmp_path: Path) -> None:
    # A file-size limit (ulimit -f) in a child process: the header and some rows fit, the rest do not.
    out = tmp_path / "rows.jsonl"
    code = f"""
import resource
from refine import Example, Predict, RuntimeFailure, ScriptedLM, evaluate, metrics
resource.setrlimit(resource.RLIMIT_FSIZE, (1500, 1500))
examples = [Example(question="q%d?" % i, answers=["a"], id="x%d" % i).with_inputs("question") for i in range(50)]
program, lm = Predict("question -> answer"), ScriptedLM(["a"] * 50)
try:
    evaluate(program, examples, metrics.em, lm=lm, out={str(out)!r}, progress=False)
except RuntimeFailure as exc:
    print(exc)
"""
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, timeout=120)
    assert f"cannot write to out='{out}': File too large; the rows written so far are kept" in done.stdout, done
    lines = out.read_bytes().splitlines()
    assert 1 < len(lines) < 50 and all(json.loads(line) for line in lines)
