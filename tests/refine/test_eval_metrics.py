"""The (example, prediction) metrics of refine.metrics."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import citations
from corpora import Passage
from refine import BM25Retriever, CitedQA, CitedRAG, Predict, Prediction, ScriptedLM, UsageError, metrics
from refine.example import Example

PASSAGES = [
    Passage.create("Paris", "Paris is the capital of France."),
    Passage.create("Berlin", "Berlin is the capital of Germany."),
]
EXAMPLE = Example(
    question="What is the capital of France?", answers=("Paris", "City of Paris"), gold_ids=(PASSAGES[0].id,), id="q1"
).with_inputs("question")


def predicted(answer: str) -> Prediction:
    """A plain prediction of CitedQA, given the passages as an input."""
    predict = Predict(CitedQA, lm=ScriptedLM([f"Answer: {answer}"]), strict=False)
    return predict(passages=PASSAGES, question=EXAMPLE.question)


def rag_answer(answer: str):
    rag = CitedRAG(BM25Retriever.build(PASSAGES), k=2, lm=ScriptedLM([f"Answer: {answer}"]), strict=False)
    return rag(question=EXAMPLE.question)


def test_em_and_f1_strip_the_markers():
    prediction = predicted("The city of Paris [1].")
    assert metrics.em(EXAMPLE, prediction) == 1.0  # "city of paris" after normalisation
    assert metrics.f1(EXAMPLE, prediction) == 1.0
    partial = predicted("Paris, in France [1].")
    assert metrics.em(EXAMPLE, partial) == 0.0
    assert metrics.f1(EXAMPLE, partial) == 0.5  # "paris in france" against "paris"
    one_answer = Example(question="q", answer="Paris", id="x").with_inputs("question")
    assert metrics.em(one_answer, prediction) == 0.0
    assert metrics.em(one_answer, Prediction({"answer": "Paris [1]."})) == 1.0


@pytest.mark.parametrize("make", [predicted, rag_answer], ids=["prediction with passages", "CitedRAG"])
def test_citation_metrics(make):
    good = make("Paris is the capital of France [1].")
    assert metrics.cited(EXAMPLE, good) is True
    assert metrics.citation_validity(EXAMPLE, good) == 1.0
    assert metrics.citation_coverage(EXAMPLE, good) == 1.0
    assert metrics.answer_in_cited(EXAMPLE, good) is True
    assert metrics.gold_precision(EXAMPLE, good) == 1.0 and metrics.gold_recall(EXAMPLE, good) == 1.0
    assert metrics.support_recall()(EXAMPLE, good) == 1.0
    assert metrics.support_precision()(EXAMPLE, good) == 1.0
    # The other passage is cited: valid, but neither gold nor holding the answer.
    berlin = 1 + [p.title for p in metrics.citation_report(good).passages].index("Berlin")
    other = make(f"Berlin is the capital of Germany [{berlin}].")
    assert metrics.cited(EXAMPLE, other) is True and metrics.answer_in_cited(EXAMPLE, other) is False
    assert metrics.gold_recall(EXAMPLE, other) == 0.0


def test_citation_report_is_taken_from_the_prediction_when_it_has_one():
    answer = rag_answer("Paris [1].")
    assert metrics.citation_report(answer) is answer.report
    plain = predicted("Paris [1].")
    assert metrics.citation_report(plain).cited_passages == (PASSAGES[0],)


def test_answer_in_cited_matches_whole_words():
    example = EXAMPLE.with_values(answers=("Pari",))
    assert metrics.answer_in_cited(example, predicted("Paris is the capital [1].")) is False


def test_mistakes_say_what_is_missing():
    no_answers = Example(question="q", id="q9").with_inputs("question")
    with pytest.raises(UsageError, match=r"example 'q9' has no gold answers: it needs a label 'answers'"):
        metrics.em(no_answers, predicted("Paris [1]."))
    with pytest.raises(UsageError, match=r"example 'q9' has no gold passages: it needs a label 'gold_ids'"):
        metrics.gold_recall(no_answers, predicted("Paris [1]."))
    other = Prediction({"title": "x"})
    with pytest.raises(UsageError, match=r"reads the prediction's answer \(a str\), but the prediction has no answer"):
        metrics.f1(EXAMPLE, other)
    with pytest.raises(UsageError, match="needs the passages the answer was given"):
        metrics.cited(EXAMPLE, Prediction({"answer": "Paris [1]."}))
    with pytest.raises(UsageError, match="checker=3 is not a SupportChecker"):
        metrics.support_recall(3)  # type: ignore[arg-type]


def test_metric_names():
    assert metrics.metric_name(metrics.f1) == "f1"
    assert metrics.metric_name(metrics.support_recall()) == "support_recall"
    assert metrics.metric_name(lambda e, p: 1.0) == "lambda"
    assert repr(metrics.support_precision(citations.LexicalChecker())) == "metrics.support_precision"


words = st.lists(st.sampled_from(["paris", "the", "city", "of", "a", "france", "Paris,", "x"]), max_size=6)


@given(words, words)
def test_f1_is_bounded_and_symmetric(a, b):
    first, second = " ".join(a), " ".join(b)
    score = metrics.token_f1(first, [second])
    assert 0.0 <= score <= 1.0
    assert score == pytest.approx(metrics.token_f1(second, [first]))
    if metrics.exact_match(first, [second]):
        assert score == 1.0


@given(words, st.lists(words, max_size=3))
def test_f1_is_the_best_over_the_golds(a, golds):
    texts = [" ".join(g) for g in golds]
    assert metrics.token_f1(" ".join(a), texts) == max((metrics.token_f1(" ".join(a), [t]) for t in texts), default=0.0)
