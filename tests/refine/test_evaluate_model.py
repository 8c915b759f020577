"""refine.evaluate on the real embedded model over real HotpotQA rows: threads, and a SIGKILL mid-run."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import corpora
from refine import BM25Retriever, CitedRAG, metrics
from refine.cli import main
from refine.evaluation import Dataset, EvalReport, evaluate, load_dataset

pytestmark = [pytest.mark.model, pytest.mark.data]

ROWS = 4
K = 2


@pytest.fixture(scope="module")
def hotpotqa() -> Path:
    shared = corpora.shared_data_dir()
    if shared is None:
        pytest.skip("no shared data folder: set REFINE_DATA or run from a checkout next to ../shared/data")
    return shared / "hotpotqa" / "dev397.jsonl"


@pytest.fixture(scope="module")
def data(hotpotqa) -> Dataset:
    return load_dataset(hotpotqa, limit=ROWS)


def run(data: Dataset, lm, threads: int) -> EvalReport:
    rag = CitedRAG(BM25Retriever.build(data.passages), k=K)
    extra = [metrics.em, metrics.cited, metrics.gold_recall, metrics.support_recall()]
    return evaluate(rag, data.examples, metrics.f1, lm=lm, threads=threads, progress=False, metrics=extra)


@pytest.fixture(scope="module")
def sequential(data, embedded_lm) -> EvalReport:
    return run(data, embedded_lm, threads=1)


def _same(report: EvalReport) -> list[dict]:
    """The rows without what timing changes."""
    return [
        {
            "id": r.id,
            "outputs": r.outputs,
            "metric": r.metric,
            "scores": dict(r.scores),
            "attempts": r.attempts,
            "cited": r.cited,
        }
        for r in report.rows
    ]


def test_cited_rag_is_evaluated_on_real_rows(sequential, data):
    assert [row.id for row in sequential.rows] == [e.id for e in data.examples]
    for row in sequential.rows:
        assert row.ok, row.error
        assert row.outputs and row.outputs["answer"].strip()
        assert row.passages and len(row.passages) == K and set(row.cited or ()) <= set(row.passages)
        assert 0.0 <= row.metric <= 1.0 and row.usage.calls == row.attempts >= 1
    assert sequential.usage.prompt_tokens > 0 and sequential.scores["cited"] > 0
    low, high = sequential.interval
    assert low <= sequential.mean <= high


def test_two_threads_give_the_same_rows(sequential, data, embedded_lm):
    threaded = run(data, embedded_lm, threads=2)
    assert _same(threaded) == _same(sequential)


def _eval_argv(hotpotqa: Path, out: Path) -> list[str]:
    return ["eval", "--data", str(hotpotqa), "--limit", str(ROWS), "-k", str(K), "--out", str(out), "--no-progress"]


def test_a_killed_run_loses_no_row_and_resumes(hotpotqa, tmp_path, embedded_lm, sequential):
    out = tmp_path / "rows.jsonl"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "refine.cli", *_eval_argv(hotpotqa, out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        deadline = time.monotonic() + 240
        while not (out.exists() and out.read_bytes().count(b"\n") >= 2):  # the header and one row
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "no row was written in time"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    written = out.read_bytes()
    finished = [json.loads(line) for line in written.split(b"\n")[1:] if line.endswith(b"}")]
    assert 1 <= len(finished) < ROWS, "the run was not killed mid-way"

    status = main([*_eval_argv(hotpotqa, out), "--resume"], lm=embedded_lm, out=io.StringIO())
    assert status == 0
    lines = out.read_text().splitlines()
    header, rows = json.loads(lines[0]), [json.loads(line) for line in lines[1:]]  # every line parses
    assert header["metric"] == "f1"
    assert header["metrics"] == ["em", "cited", "answer_in_cited", "gold_recall", "support_precision", "support_recall"]
    ids = [row["id"] for row in rows]
    expected = [e.id for e in load_dataset(hotpotqa, limit=ROWS).examples]
    assert sorted(ids) == sorted(expected) and len(ids) == len(set(ids)) == ROWS  # each row exactly once
    assert rows[: len(finished)] == finished  # the rows written before the kill are kept as they were
    # Killed and resumed, the run answers as one that ran through.
    assert {row["id"]: row["outputs"] for row in rows} == {row.id: dict(row.outputs or {}) for row in sequential.rows}
