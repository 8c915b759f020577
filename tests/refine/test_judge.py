from __future__ import annotations

import pytest

import citations
from corpora import Passage
from refine import Choice, ScriptedLM
from refine.rag import lm_judge

PARIS = [Passage.create("Paris", "Paris is the capital of France.")]


def test_judge_asks_with_a_yes_no_constraint():
    lm = ScriptedLM(["yes", "no"])
    judge = lm_judge(lm)
    assert judge.score("Paris is the capital of France.", PARIS) == 1.0
    assert judge.score("Paris is in Spain.", PARIS) == 0.0
    assert lm.requests[0].constraint == Choice(("yes", "no"))
    report = citations.check("Paris is the capital of France [1].", PARIS, checker=lm_judge(ScriptedLM(["no"])))
    assert report.unsupported == (0,)


@pytest.mark.model
def test_judge_on_the_embedded_model_answers_yes_or_no(embedded_lm):
    score = lm_judge(embedded_lm).score("Paris is the capital of France.", PARIS)
    assert score in (0.0, 1.0)
