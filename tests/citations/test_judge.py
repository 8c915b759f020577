from __future__ import annotations

import pytest

from citations import CheckerError, CitationError, LMJudge, check
from citations._judge import JUDGE_CHOICES, judge_prompt, read_verdict
from corpora import Passage

PASSAGES = [
    Passage(id="p1", title="Paris", text="Paris is the capital of France."),
    Passage(id="p2", title="", text="The Seine flows through Paris."),
]


def test_prompt_numbers_the_passages_and_states_the_claim() -> None:
    prompt = judge_prompt("Paris is the capital of France.", PASSAGES)
    assert "[1] Paris: Paris is the capital of France.\n[2] The Seine flows through Paris." in prompt
    assert "Claim: Paris is the capital of France." in prompt
    assert prompt.endswith("Do the passages support the claim? Answer yes or no.")
    assert "(no passages)" in judge_prompt("x", [])


def test_prompt_cuts_long_passages() -> None:
    long = [Passage(id=f"p{i}", title="", text="word " * 1000) for i in range(3)]
    prompt = judge_prompt("x", long, max_chars=900)
    assert len(prompt) < 1400
    assert prompt.count("...") == 3


def test_prompt_leaves_out_passages_that_do_not_fit() -> None:
    many = [Passage(id=f"p{i}", title="", text="word " * 100) for i in range(50)]
    prompt = judge_prompt("x", many, max_chars=1000)
    assert "[9] " in prompt and "[10] " not in prompt
    assert "(41 more passages not shown)" in prompt
    assert len(prompt) < 1500


@pytest.mark.parametrize(
    ("reply", "score"),
    [("yes", 1.0), ("Yes.", 1.0), (" YES it is", 1.0), ("no", 0.0), ("No", 0.0), ("not supported", 0.0), (0.25, 0.25)],
)
def test_read_verdict(reply: str | float, score: float) -> None:
    assert read_verdict(reply) == score


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ("maybe", r"the judge replied 'maybe', which is neither yes nor no; constrain the LM to the choices"),
        ("", r"the judge replied '', which is neither yes nor no"),
        (1.5, r"returned 1.5; a probability of 'yes' must be in \[0, 1\]"),
        (None, r"returned None; it must return 'yes', 'no' or a float in \[0, 1\]"),
        (True, r"returned True"),
    ],
)
def test_read_verdict_rejects_other_replies(reply: object, message: str) -> None:
    with pytest.raises(CheckerError, match=message):
        read_verdict(reply)  # type: ignore[arg-type]


def test_judge_asks_once_per_claim_and_feeds_the_report() -> None:
    prompts: list[str] = []

    def ask(prompt: str) -> str:
        prompts.append(prompt)
        return "yes" if "capital" in prompt.split("Claim:")[1] else "no"

    judge = LMJudge(ask)
    report = check("Paris is the capital [1]. Paris is in Spain [2]. Nothing.", PASSAGES, checker=judge)
    assert len(prompts) == 2
    assert report.unsupported == (1,)
    assert "Sentence 2 cites [2], which does not support it (score 0.00 < 0.50)" in report.feedback()
    assert judge.score("x", []) == 0.0
    assert JUDGE_CHOICES == ("yes", "no")


def test_judge_settings_are_checked() -> None:
    with pytest.raises(CitationError, match=r"LMJudge ask='yes' must be a callable"):
        LMJudge("yes")  # type: ignore[arg-type]
    with pytest.raises(CitationError, match=r"threshold=2 must be a number between 0 and 1"):
        LMJudge(lambda prompt: "yes", threshold=2)
    with pytest.raises(CitationError, match=r"LMJudge max_chars=10 must be an int >= 200"):
        LMJudge(lambda prompt: "yes", max_chars=10)


def test_judge_repr_names_the_callable() -> None:
    def ask(prompt: str) -> str:
        return "yes"

    assert repr(LMJudge(ask)) == (
        "LMJudge(ask=test_judge_repr_names_the_callable.<locals>.ask, threshold=0.5, max_chars=6000)"
    )
