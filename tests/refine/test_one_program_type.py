"""Every program is a Module: called with keyword inputs, it returns a Prediction with its history."""

from __future__ import annotations

import pytest

from corpora import Passage
from refine import (
    Assert,
    AssertionFailed,
    BestOfN,
    BM25Retriever,
    CitedAnswer,
    CitedRAG,
    Hit,
    Module,
    Predict,
    Prediction,
    Refine,
    ScriptedLM,
    UsageError,
)

PASSAGES = [
    Passage.create("Cats", "Cats purr when they are content."),
    Passage.create("Dogs", "Dogs bark at strangers."),
]


def test_cited_rag_is_a_module_whose_answer_is_a_prediction():
    rag = CitedRAG(BM25Retriever.build(PASSAGES), k=2)
    assert isinstance(rag, Module) and [name for name, _ in rag.named_predictors()] == ["predict"]
    result = rag(question="Why do cats purr?", lm=ScriptedLM(["Cats purr when content [1]."]))
    assert isinstance(result, Prediction) and isinstance(result, CitedAnswer)
    assert result.answer == "Cats purr when content [1]." and result.plain == "Cats purr when content."
    assert result.valid and result.cited == ((1, PASSAGES[0]),) and result.hits[0].passage == PASSAGES[0]
    assert result.usage.calls == 1 and [step.name for step in result.trace] == ["predict"]
    assert result.inputs == {"question": "Why do cats purr?"}


def test_cited_rag_takes_a_search_function_or_the_passages_themselves():
    asked = []

    def search(query: str, k: int) -> list[Passage]:
        asked.append((query, k))
        return PASSAGES[:k]

    result = CitedRAG(search, k=1)(question="Why?", lm=ScriptedLM(["Cats purr [1]."]))
    assert asked == [("Why?", 1)] and result.passages == (PASSAGES[0],) and result.hits == ()
    given = CitedRAG()(question="Why?", passages=PASSAGES, lm=ScriptedLM(["Dogs bark [2]."]))
    assert given.passages == tuple(PASSAGES) and given.valid
    hits = [Hit(p, 1.0, i) for i, p in enumerate(PASSAGES, 1)]
    assert CitedRAG()(question="Why?", passages=hits, lm=ScriptedLM(["Dogs bark [2]."])).hits == tuple(hits)
    with pytest.raises(UsageError, match=r"needs passages= with each question"):
        CitedRAG()(question="Why?", lm=ScriptedLM([]))
    with pytest.raises(UsageError, match=r"expected a list of Passages or Hits"):
        CitedRAG(lambda q, k: ["not a passage"])(question="Why?", lm=ScriptedLM([]))


class Answer(Module):
    def __init__(self) -> None:
        self.answer = Predict("question -> answer")

    def forward(self, question: str) -> Prediction:
        return self.answer(question=question)


def reward(inputs, prediction) -> float:
    return 1.0 if prediction.answer == "good" else 0.0


def test_rollouts_are_modules_that_take_a_predictor_too():
    best = BestOfN(Predict("question -> answer"), N=3, reward=reward, threshold=1.0)
    assert isinstance(best, Module) and [n for n, _ in best.named_predictors()] == ["module"]
    result = best(question="q", lm=ScriptedLM(["bad", "good"]))
    assert result.answer == "good" and result.usage.calls == 2
    refined = Refine(Answer(), N=2, reward=reward, threshold=1.0)
    assert refined(question="q", lm=ScriptedLM(["bad", "good"])).answer == "good"


def test_a_rollout_cannot_be_a_step_of_another_program():
    class Outer(Module):
        def __init__(self) -> None:
            self.inner = BestOfN(Answer(), N=2, reward=reward, threshold=1.0)

        def forward(self, question: str) -> Prediction:
            return self.inner(question=question)

    with pytest.raises(UsageError, match="cannot be a step of another program"):
        Outer()(question="q", lm=ScriptedLM(["good"]))


def test_a_failed_call_reports_its_usage():
    strict = Predict("question -> answer", assertions=[Assert(lambda p: p.answer == "yes", "say yes")])
    with pytest.raises(AssertionFailed) as caught:
        strict(question="q", lm=ScriptedLM(["no", "no", "no"]))
    assert caught.value.usage.calls == 3


def test_a_predictor_in_a_module_uses_its_own_lm_over_the_programs():
    own = ScriptedLM(["mine"])

    class Uses(Module):
        def __init__(self) -> None:
            self.step = Predict("question -> answer", lm=own)

        def forward(self, question: str) -> Prediction:
            return self.step(question=question)

    assert Uses()(question="q", lm=ScriptedLM(["the run's"])).answer == "mine"
