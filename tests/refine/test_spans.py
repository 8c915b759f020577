"""Answer candidates from passages, and SpanRAG, which answers by choosing one."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import citations
from corpora import Passage
from refine import ScriptedLM, UsageError
from refine.constraints import Choice
from refine.rag import AnswerCandidate, SpanRAG, answer_candidates, question_kind

PASSAGES = [
    Passage.create(
        "Nobel Prize in Physics", "The first Nobel Prize in Physics was awarded in 1901 to Wilhelm Röntgen."
    ),
    Passage.create("OPEC", "OPEC has 14 member countries. It was founded on 14 September 1960 in Baghdad."),
    Passage.create("Reading F.C.", "Reading Football Club is owned by Xiu Li Dai and Yongge Dai."),
]


def texts(question, passages=PASSAGES, **options):
    return [c.text for c in answer_candidates(question, passages, **options)]


def test_the_question_says_what_kind_of_span_answers_it():
    assert question_kind("When was OPEC founded?") == "date"
    assert question_kind("how many countries are in opec") == "number"
    assert question_kind("who owns reading football club") == "name"
    assert question_kind("what is the main mineral in batteries") == "any"


def test_spans_of_the_kind_asked_come_from_the_best_matching_sentences():
    assert texts("who got the first nobel prize in physics") == ["Wilhelm Röntgen"]
    assert texts("when was opec founded")[0] == "14 September 1960"
    assert texts("how many member countries does opec have")[:1] == ["14"]
    assert texts("who owns reading football club") == ["Xiu Li Dai and Yongge Dai", "Xiu Li Dai", "Yongge Dai"]


def test_a_span_that_restates_the_question_is_not_offered():
    assert "Nobel Prize in Physics" not in texts("what prize did wilhelm röntgen win in 1901")
    assert texts("a question none of whose words the passages hold: zyxwv") == []


def test_a_candidate_carries_the_marker_of_its_passage():
    (first, *_) = answer_candidates("when was opec founded", PASSAGES)
    assert first == AnswerCandidate("14 September 1960", 2) and first.option == "14 September 1960 [2]"
    with pytest.raises(UsageError, match="limit=0 and sentences=4 must both be >= 1"):
        answer_candidates("q", PASSAGES, limit=0)


@settings(max_examples=60, deadline=None)
@given(question=st.text(min_size=1, max_size=60), text=st.text(min_size=1, max_size=300))
def test_every_candidate_is_a_verbatim_span_of_the_passage_its_marker_names(question, text):
    passages = [Passage.create("t", text), *PASSAGES]
    for c in answer_candidates(question, passages):
        assert c.text and c.text in passages[c.number - 1].text
        assert citations.check(c.option, passages).valid


def test_span_rag_decodes_a_choice_among_the_candidates_and_cites_by_construction():
    lm = ScriptedLM(["14 September 1960 [2]"])
    answer = SpanRAG(lambda q, k: PASSAGES[:k], lm=lm)("When was OPEC founded?")
    assert answer.answer == "14 September 1960 [2]" and answer.valid and answer.plain == "14 September 1960"
    constraint = lm.requests[0].constraint
    assert isinstance(constraint, Choice) and "14 September 1960 [2]" in constraint.options
    assert "1901 [1]" not in constraint.options  # not about OPEC's founding


def test_span_rag_without_candidates_quotes_a_few_words():
    lm = ScriptedLM(["Xiu Li Dai [3]"])
    answer = SpanRAG(lm=lm)("zyxwv qwerty", passages=PASSAGES)
    assert answer.answer == "Xiu Li Dai [3]" and answer.valid
    assert lm.requests[0].constraint.max_words == 5
