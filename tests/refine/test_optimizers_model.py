"""BootstrapFewShot on the embedded model: a tiny trainset, seconds not minutes."""

from __future__ import annotations

from pathlib import Path

import pytest

from refine import Example, Predict, Prediction, Suggest, checks
from refine.optimizers import BootstrapFewShot, RepairDemo
from refine.program_file import load_program, save_program

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
