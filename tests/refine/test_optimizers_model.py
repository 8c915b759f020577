"""BootstrapFewShot on the embedded model: a tiny trainset, seconds not minutes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from refine import Example, Predict, Prediction, Suggest, checks
from refine.history import RepairDemo
from refine.optimizers import BootstrapFewShot
from refine.program import load_program, save_program

pytestmark = pytest.mark.model


def test_bootstrap_on_the_embedded_model_keeps_its_own_passing_traces(embedded_lm, tmp_path: Path):
    train = [
        Example(question=q, id=f"t{i}").with_inputs("question")
        for i, q in enumerate(["What is the capital of France?", "What colour is the sky?", "What is 2 + 2?"])
    ]
    program = Predict(
        "question -> answer", max_tokens=24, assertions=[Suggest(checks.max_words("answer", 12))], max_backtracks=1
    )
    optimizer = BootstrapFewShot(
        lambda example, prediction: bool(prediction.answer.strip()),
        max_bootstrapped_demos=2,
        max_labeled_demos=0,
        repair_demos=1,
        progress=False,
    )
    compiled = optimizer.optimize(program, train, lm=embedded_lm)
    report = compiled.report
    assert len(report.outcomes) == 3 and report.usage.calls >= 1
    kept = [o for o in report.outcomes if o.kept]
    plain = [d for d in compiled.program.demos if not isinstance(d, RepairDemo)]
    assert len(plain) == min(len(kept), 2) and len(compiled.program.demos) - len(plain) <= 1
    for demo in compiled.program.demos:
        assert demo.values["question"] in {e.question for e in train}
        assert checks.max_words("answer", 12)(Prediction(demo.values)) == ()  # the kept traces kept the rule
    again = optimizer.compile(program, train, lm=embedded_lm)
    assert again.demos == compiled.program.demos  # reproducible for a seed
    path = save_program(compiled.program, tmp_path / "program.json")
    loaded = load_program(program, path)
    assert loaded.demos == compiled.program.demos
    answer = loaded(question="What is the capital of Italy?", lm=embedded_lm)
    assert answer.answer.strip()
    assert embedded_lm.n_ctx >= 256  # the window trimming reads, the model's own


@pytest.mark.data
def test_refine_optimize_then_ask_with_the_program_on_real_hotpotqa(embedded_lm, tmp_path: Path):
    import io

    import corpora
    from refine.cli import main

    shared = corpora.shared_data_dir()
    if shared is None:
        pytest.skip("no shared data folder: set REFINE_DATA or run from a checkout next to ../shared/data")
    saved = tmp_path / "program.json"
    out = io.StringIO()
    train = str(shared / "hotpotqa" / "dev397.jsonl")
    argv = ["optimize", "--train", train, "--limit", "5", "--save", str(saved), "--optimizer", "labeled"]
    assert main([*argv, "--no-progress"], lm=embedded_lm, out=out) == 0
    # Labelled demos cite the retrieved passage that holds the gold answer; not every question has one.
    assert "LabeledFewShot: kept " in out.getvalue()
    demos = json.loads(saved.read_text())["predictors"][0]["demos"]
    assert demos
    for demo in demos:
        answer, marker = demo["values"]["answer"].rsplit(" [", 1)
        cited = demo["values"]["passages"][int(marker.rstrip("].")) - 1]
        assert answer.lower() in cited["text"].lower()
    rows = tmp_path / "rows.jsonl"
    argv = ["eval", "--data", train, "--limit", "1", "--out", str(rows), "--program", str(saved), "--no-progress"]
    assert main(argv, lm=embedded_lm, out=io.StringIO()) == 0
    assert len(rows.read_text().splitlines()) == 2
