from __future__ import annotations

import pytest

import citations
from corpora import Passage
from refine import Assert, Prediction, Suggest, UsageError, checks
from refine.program._assertions import violations_of

PASSAGES = [
    Passage.create("Eiffel", "The Eiffel Tower is 330 metres tall and was finished in 1889."),
    Passage.create("Paris", "Paris is the capital of France."),
]


def problems(check, answer, **inputs):
    return check(Prediction({"answer": answer}, inputs={"passages": PASSAGES, **inputs}))


def test_non_empty_ignores_citation_markers():
    assert problems(checks.non_empty(), "Paris [2].") == ()
    assert problems(checks.non_empty(), " [1] ") == ("The answer is empty; write one.",)


def test_length_limits_count_words_and_characters_without_markers():
    assert problems(checks.max_words("answer", 3), "Paris is big [2].") == ()
    assert problems(checks.max_words("answer", 2), "Paris is big [2].") == (
        "Shorten the answer to at most 2 words (it has 3).",
    )
    assert problems(checks.max_chars("answer", 5), "Paris [2]") == ()
    assert problems(checks.max_chars("answer", 4), "Paris [2]") == (
        "Shorten the answer to at most 4 characters (it has 5).",
    )
    with pytest.raises(UsageError, match="limit=0 must be a whole number >= 1"):
        checks.max_words("answer", 0)


def test_pattern_and_choices():
    assert problems(checks.matches("answer", r"\d{4}"), " 1889 ") == ()
    assert problems(checks.matches("answer", r"\d{4}", hint="be a year"), "soon") == (
        "The answer 'soon' should be a year.",
    )
    with pytest.raises(UsageError, match=r"pattern='\(' is not a regular expression"):
        checks.matches("answer", "(")
    assert problems(checks.one_of("answer", ["Yes", "No"]), " yes ") == ()
    assert problems(checks.one_of("answer", ["Yes", "No"]), "maybe") == (
        "The answer 'maybe' must be one of 'Yes', 'No'.",
    )
    with pytest.raises(UsageError, match="options=\\(\\) must be a non-empty list"):
        checks.one_of("answer", [])


def test_distinct_from_earlier_values_in_an_input_or_given():
    check = checks.distinct_from("query", "past_queries")
    pred = Prediction({"query": "Eiffel Tower height"}, inputs={"past_queries": ["height of the Eiffel Tower"]})
    assert check(pred) == ()  # 3 of 5 words shared
    pred = Prediction({"query": "eiffel tower height"}, inputs={"past_queries": ["Eiffel Tower height?"]})
    assert check(pred) == ("The query repeats an earlier one ('Eiffel Tower height?'); write a different one.",)
    assert checks.distinct_from("query", ["Eiffel Tower height"])(pred) != ()
    with pytest.raises(UsageError, match="distinct_from reads input 'past_queries', but the inputs are question"):
        check(Prediction({"query": "x"}, inputs={"question": "q"}))


def test_citation_checks_against_the_passages_given():
    assert problems(checks.citations_valid(), "Paris is the capital [2].") == ()
    assert problems(checks.citations_valid(), "Paris is the capital [3].") == (
        "Sentence 1 cites [3], but only [1]..[2] exist; cite one of [1]..[2].",
        "The answer cites no passage; end each sentence with the passage it uses, like [1].",
    )
    assert problems(checks.every_sentence_cited(), "Paris is the capital [2]. It is big.")[0].startswith(
        'Sentence 2 ("It is big.") cites nothing'
    )
    assert problems(checks.every_sentence_cited(), "") == (
        "The answer has no sentences; write one that cites a passage, like [1].",
    )


def test_citations_supported_uses_the_checker():
    check = checks.citations_supported(citations.LexicalChecker())
    assert problems(check, "The Eiffel Tower is 330 metres tall [1].") == ()
    (problem,) = problems(check, "The Eiffel Tower is in Rome and painted green [2].")
    assert problem.startswith("Sentence 1 cites [2]")
    with pytest.raises(UsageError, match="is not a citations support checker"):
        checks.citations_supported("lexical")  # type: ignore[arg-type]


def test_numbers_must_appear_in_a_cited_passage():
    check = checks.numbers_cited()
    assert problems(check, "It is 330 metres tall [1].") == ()
    assert problems(check, "It is 330 metres tall [2].") == (
        "The answer says 330, which no passage it cites contains; use the figure the cited passage gives.",
    )
    assert problems(check, "Paris is the capital [2].") == ()


def test_checks_name_missing_fields_and_inputs():
    with pytest.raises(UsageError, match="check reads field 'answer', but the prediction has query"):
        checks.non_empty()(Prediction({"query": "x"}))
    with pytest.raises(UsageError, match="reads passages from input 'passages', but the inputs are question"):
        checks.citations_valid()(Prediction({"answer": "x [1]"}, inputs={"question": "q"}))


def test_a_check_makes_a_rule_with_its_own_feedback():
    rule = Suggest(checks.max_words("answer", 1))
    (violation,) = violations_of(rule, Prediction({"answer": "two words"}))
    assert (violation.field, violation.rule, violation.hard) == ("answer", "max_words", False)
    assert violation.message == "Shorten the answer to at most 1 word (it has 2)."
    (violation,) = violations_of(Assert(checks.max_words("answer", 1), "Be brief"), Prediction({"answer": "two words"}))
    assert violation.message == "Be brief: Shorten the answer to at most 1 word (it has 2)." and violation.hard


def test_no_repetition_quotes_the_words_said_twice():
    repeated = "Cats purr when they are content [1]. Cats purr when they are content [2]."
    assert problems(checks.no_repetition(), repeated) == (
        "The answer says 'cats purr when they are' twice; say each thing once.",
    )
    assert problems(checks.no_repetition(), "Cats purr when they are content [1]. Dogs bark [2].") == ()
    assert problems(checks.no_repetition(n=2), "the cat and the cat") == (
        "The answer says 'the cat' twice; say each thing once.",
    )
    with pytest.raises(UsageError, match="n=0 must be a whole number >= 1"):
        checks.no_repetition(n=0)
