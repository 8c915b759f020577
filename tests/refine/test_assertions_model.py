"""Assertions, backtracking and rollouts on the real embedded model."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

import citations
import corpora
from refine import (
    Assert,
    AssertionFailed,
    BestOfN,
    BM25Retriever,
    CitedQA,
    Module,
    Predict,
    Prediction,
    Refine,
    Suggest,
    check,
    checks,
)
from refine.lm import LMRequest, Message

pytestmark = pytest.mark.model

QUESTIONS = [
    "What does the nonlocal statement do?",
    "How do I catch an exception?",
    "What does the yield statement do?",
    "What is a lambda expression?",
]


@pytest.fixture(scope="module")
def retriever():
    return BM25Retriever.build(corpora.load_corpus("python-docs"))


class Ask(Module):
    """Retrieve, answer under the citation grammar, and insist on a short answer."""

    def __init__(self, retriever, max_backtracks: int = 2) -> None:
        self.retriever = retriever
        self.answer = Predict(CitedQA, max_tokens=96, max_backtracks=max_backtracks)

    def forward(self, question: str) -> Prediction:
        passages = [hit.passage for hit in self.retriever.search(question, k=2)]
        answer = self.answer(passages=passages, question=question)
        return check(answer, Suggest(checks.max_words("answer", 12)), Assert(checks.every_sentence_cited()))


def test_a_retry_reuses_the_whole_previous_prompt_from_the_cache(embedded_lm, retriever):
    passages = [hit.passage for hit in retriever.search(QUESTIONS[0], k=2)]
    # The condition is false for any reply, so the loop is exercised on what the model writes.
    never = Suggest(lambda p: False, "Say it again in other words.")
    predict = Predict(CitedQA, assertions=[never], max_backtracks=1, max_tokens=160, strict=False)
    prediction = predict(lm=embedded_lm, passages=passages, question=QUESTIONS[0])
    first, retry = prediction.attempts
    assert retry.request.messages[: len(first.request.messages)] == first.request.messages
    assert retry.request.seed != first.request.seed and retry.request.temperature >= 0.7
    # The first prompt and the reply came from llama.cpp's KV cache (but for the reply's last token,
    # sampled and never evaluated): only the appended feedback was evaluated. The grammar's forced
    # marker tokens were cached as the tokens the reply's text gives.
    quoted = first.response.prompt_tokens + first.response.completion_tokens
    assert citations.parse(first.response.text)
    assert quoted - 2 <= retry.response.cached_tokens <= quoted
    assert "Say it again in other words." in [v.message for v in prediction.failures]


def test_an_assertion_that_cannot_pass_raises_with_the_real_attempts(embedded_lm):
    predict = Predict("question -> answer", assertions=[Assert(lambda p: False, "Impossible.")], max_backtracks=1)
    with pytest.raises(
        AssertionFailed, match=r"still fails after 2 attempts \(max_backtracks=1\): Impossible\."
    ) as info:
        predict(lm=embedded_lm, question="What is 2 + 2?")
    assert len(info.value.attempts) == 2 and all(a.response.text for a in info.value.attempts)


def test_a_module_gives_the_same_results_from_threads_as_in_sequence(embedded_lm, retriever):
    # Two questions in two threads interleave their calls; one retry each is enough to interleave
    # a retry's cached prefix with the other thread's prompt.
    module = Ask(retriever, max_backtracks=1)
    questions = QUESTIONS[:2]
    sequential = [module(question=q, lm=embedded_lm) for q in questions]
    with ThreadPoolExecutor(max_workers=2) as pool:
        threaded = list(pool.map(lambda q: module(question=q, lm=embedded_lm), questions))
    assert [r.answer for r in threaded] == [r.answer for r in sequential]
    assert [len(r.attempts) for r in threaded] == [len(r.attempts) for r in sequential]
    assert any(len(r.attempts) > 1 for r in sequential)  # the retry path ran
    for result in sequential:
        assert [s.name for s in result.trace] == ["answer"]
        assert all(not v.hard for v in result.failures)  # only the suggestion may be left failing


def test_rollouts_on_the_embedded_model(embedded_lm):
    class Short(Module):
        def __init__(self) -> None:
            self.answer = Predict("question -> answer", max_tokens=24)

        def forward(self, question: str) -> Prediction:
            return self.answer(question=question)

    def reward(inputs, prediction):
        return -len(prediction.answer)

    best = BestOfN(Short(), N=2, reward=reward, threshold=0)(question="Name a colour.", lm=embedded_lm)
    first, second = best.attempts
    assert first.request.messages == second.request.messages and first.request.seed != second.request.seed
    assert best.answer == min((a.outputs["answer"] for a in best.attempts), key=len)

    refined = Refine(Short(), N=2, reward=reward, threshold=0)(question="Name a colour.", lm=embedded_lm)
    first, second = refined.attempts
    assert second.request.messages[: len(first.request.messages)] == first.request.messages
    assert "needs at least 0" in second.request.messages[-1].content


@pytest.mark.parametrize("generated", [True, False], ids=["reply-marked-generated", "reply-unmarked"])
def test_a_seeded_retry_does_not_depend_on_what_ran_before(embedded_lm, retriever, generated):
    passages = [hit.passage for hit in retriever.search(QUESTIONS[2], k=2)]
    predict = Predict(CitedQA, max_tokens=64)
    inputs = {"passages": passages, "question": QUESTIONS[2]}
    first = predict.attempt(embedded_lm, predict.plan(embedded_lm, inputs).request, inputs)
    retry = first.request.with_messages(
        Message("assistant", first.response.text, generated=generated), Message("user", "Shorter, please.")
    ).with_sampling(temperature=0.9, seed=7)
    warm = embedded_lm.complete(retry)  # right after the first call: its prompt is cached
    embedded_lm.complete(LMRequest((Message("user", "Unrelated."),), max_tokens=4))
    cold = embedded_lm.complete(retry)  # evaluated afresh
    assert warm.text == cold.text
    assert cold.cached_tokens < 8
    reused = first.response.prompt_tokens + (first.response.completion_tokens if generated else 0)
    # A reply marked generated is reused as it was decoded, but for its last token (sampled, never
    # evaluated); an unmarked one is evaluated again as part of the prompt.
    assert reused - 4 <= warm.cached_tokens <= reused
