from __future__ import annotations

import pytest

import corpora
from corpora import Passage
from refine import AssertionFailed, BM25Retriever, CitedRAG, Regex, ScriptedLM, UsageError

PASSAGES = [
    Passage.create("Cats", "Cats purr when they are content."),
    Passage.create("Dogs", "Dogs bark at strangers."),
    Passage.create("Birds", "Birds sing at dawn."),
]


@pytest.fixture
def retriever():
    return BM25Retriever.build(PASSAGES)


def test_constrained_backend_gets_a_citation_grammar(retriever):
    lm = ScriptedLM(["Cats purr when content [1]."])
    result = CitedRAG(retriever, k=2, lm=lm)("Why do cats purr?")
    assert result.ok and result.answer == "Cats purr when content [1]."
    assert result.cited == ((1, PASSAGES[0]),)
    constraint = lm.requests[0].constraint
    assert isinstance(constraint, Regex)
    assert not constraint.matches("Cats purr [3].")  # only one passage matched the query: [1] is all there is
    assert len(result.attempts) == 1 and result.usage.calls == 1


def test_unconstrained_backend_is_retried_with_feedback_when_no_citation_is_valid(retriever):
    lm = ScriptedLM(["Cats purr [4].", "Cats purr when content [1]."], supports=())
    result = CitedRAG(retriever, lm=lm)("Why do cats purr?")
    assert result.ok and result.answer == "Cats purr when content [1]."
    first, second = lm.requests
    assert first.constraint is None
    assert second.messages[: len(first.messages)] == first.messages
    assert second.messages[-2].content == "Cats purr [4]."
    assert "[4]" in second.messages[-1].content
    assert [a.ok for a in result.attempts] == [False, True]
    assert [v.message for v in result.attempts[0].failures] == ["Sentence 1 cites [4], but only [1] exists; cite [1]."]


def test_uncited_answer_gets_feedback_and_is_reported_when_retries_run_out(retriever):
    lm = ScriptedLM(["Cats purr.", "Still no citation."], supports=())
    result = CitedRAG(retriever, lm=lm, max_backtracks=1)("Why do cats purr?")
    assert not result.ok
    assert result.answer == "Still no citation."
    assert "cites no" in lm.requests[1].messages[-1].content or "cites nothing" in lm.requests[1].messages[-1].content
    assert len(result.attempts) == 2
    assert result.violations and all(v.rule == "citations" and not v.hard for v in result.violations)


def test_strict_rag_raises_when_citations_still_fail(retriever):
    lm = ScriptedLM(["Cats purr.", "Still no citation.", "Nope."], supports=())
    with pytest.raises(AssertionFailed, match=r"still fails after 3 attempts \(max_backtracks=2\): .*cites nothing"):
        CitedRAG(retriever, lm=lm, strict=True)("Why do cats purr?")


def test_bad_questions_and_settings(retriever):
    rag = CitedRAG(retriever, lm=ScriptedLM([]))
    with pytest.raises(UsageError, match="question='  ' is empty"):
        rag("  ")
    with pytest.raises(UsageError, match="no passage matches question='zebra'"):
        rag("zebra")
    with pytest.raises(UsageError, match=r"question='zebrazebra.*\.\.\. \(5000 characters\); rephrase it") as info:
        rag("zebra" * 1000)
    assert len(str(info.value)) < 200
    with pytest.raises(UsageError, match="k=0 must be >= 1"):
        CitedRAG(retriever, k=0)


@pytest.mark.model
def test_embedded_model_answers_with_valid_citations(embedded_lm):
    retriever = BM25Retriever.build(corpora.load_corpus("python-docs"))
    result = CitedRAG(retriever, lm=embedded_lm)("What does the nonlocal statement do?")
    retrieved = {p.id for p in result.passages}
    assert result.answer.strip()
    assert result.report.cited_passages, result.answer
    assert {p.id for p in result.report.cited_passages} <= retrieved
    assert not result.report.invalid
    assert len(result.attempts) == 1  # the grammar makes a retry unnecessary
