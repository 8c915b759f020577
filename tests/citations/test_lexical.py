from __future__ import annotations

import pytest

from citations import CitationError, LexicalChecker, check
from citations._lexical import terms
from corpora import Passage


def passages(*texts: str) -> list[Passage]:
    return [Passage(id=f"p{i}", title="", text=text) for i, text in enumerate(texts, start=1)]


def test_terms_kinds_and_phrases() -> None:
    found = terms("Angela Merkel was Chief of Protocol of the U.S. in 2005, and she liked 3,700 cats.")
    assert [(t.surface, t.kind) for t in found] == [
        ("Angela", "name"),
        ("Merkel", "name"),
        ("Chief", "name"),
        ("Protocol", "name"),
        ("U.S", "name"),
        ("2005", "number"),
        ("liked", "word"),
        ("3,700", "number"),
        ("cats", "word"),
    ]
    assert [t.phrase for t in found][:5] == [0, 0, 1, 1, 1]
    assert found[7].key == "3700"
    assert found[6].key == "like"


def test_terms_skip_stopwords_and_repeats() -> None:
    assert terms("It is what it is.") == ()
    assert [t.surface for t in terms("cats and cats and Cats")] == ["cats"]


def test_full_partial_and_no_support() -> None:
    checker = LexicalChecker()
    ps = passages("Paris is the capital and most populous city of France.")
    assert checker.score("Paris is the capital of France.", ps) == 1.0
    assert checker.score("The capitals of France: Paris.", ps) == 1.0  # stemming
    assert checker.score("Berlin is the capital of Germany.", ps) < checker.threshold
    assert checker.score("Tokyo hosts sumo tournaments.", ps) == 0.0
    assert checker.score("Yes.", ps) == 1.0
    assert checker.score("Paris is big.", []) == 0.0


def test_numbers_and_names_weigh_more() -> None:
    ps = passages("The tower was finished in 1889 in Paris.")
    wrong_number = LexicalChecker().score("The tower was finished in 1890 in Paris.", ps)
    wrong_word = LexicalChecker().score("The tower was started in 1889 in Paris.", ps)
    assert wrong_number < wrong_word
    assert LexicalChecker(number_weight=1.0).score("The tower was finished in 1890 in Paris.", ps) > wrong_number
    assert LexicalChecker().score("Berlin has 3,700,000 inhabitants.", passages("Berlin: 3700000 inhabitants")) == 1.0


def test_modes() -> None:
    ps = passages("Marie Curie won the Nobel Prize.", "She was born in Warsaw.", "Unrelated text here.")
    claim = "Marie Curie, born in Warsaw, won the Nobel Prize."
    assert LexicalChecker(mode="union").score(claim, ps) == 1.0
    best = LexicalChecker(mode="best").score(claim, ps)
    assert 0.5 < best < 1.0
    assert LexicalChecker(mode="window", window=2).score(claim, ps) == 1.0
    assert LexicalChecker(mode="window", window=5).score(claim, ps) == 1.0


def test_titles_count_unless_disabled() -> None:
    ps = [Passage(id="p1", title="Eiffel Tower", text="It was finished in 1889.")]
    assert LexicalChecker().score("The Eiffel Tower was finished in 1889.", ps) == 1.0
    assert LexicalChecker(include_titles=False).score("The Eiffel Tower was finished in 1889.", ps) < 1.0


def test_missing_names_whole_phrases() -> None:
    ps = passages("Angela Merkel served as Chancellor of Germany from 2005 to 2021.")
    checker = LexicalChecker()
    assert checker.missing("Angela Merkel was Chief of Protocol in 2005.", ps) == ("Chief of Protocol",)
    assert checker.missing("Merkel served in 1999 as a baker.", ps) == ("1999", "baker")
    assert checker.missing("Merkel served.", ps) == ()


def test_feedback_names_what_is_missing() -> None:
    ps = passages("Paris is the capital.", "Angela Merkel served as Chancellor of Germany from 2005 to 2021.")
    report = check("Paris is the capital [1]. Angela Merkel was Chief of Protocol [2].", ps, checker=LexicalChecker())
    assert report.unsupported == (1,)
    assert report.feedback().startswith("Sentence 2 cites [2], which does not mention 'Chief of Protocol';")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"threshold": 1.5}, r"threshold=1.5 must be a number between 0 and 1"),
        ({"threshold": "high"}, r"threshold='high' must be a number between 0 and 1"),
        ({"number_weight": 0}, r"LexicalChecker number_weight=0 must be a positive number"),
        ({"name_weight": -1.0}, r"LexicalChecker name_weight=-1.0 must be a positive number"),
        ({"mode": "all"}, r"LexicalChecker mode='all' must be one of 'union', 'best', 'window'"),
        ({"window": 0}, r"LexicalChecker window=0 must be an int >= 1"),
    ],
)
def test_bad_settings(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(CitationError, match=message):
        LexicalChecker(**kwargs)  # type: ignore[arg-type]


def test_checker_is_a_frozen_value() -> None:
    checker = LexicalChecker(threshold=0.5)
    assert checker == LexicalChecker(threshold=0.5)
    assert repr(checker) == (
        "LexicalChecker(threshold=0.5, number_weight=2.0, name_weight=1.5, mode='union', window=3, include_titles=True)"
    )
    with pytest.raises(AttributeError):
        checker.threshold = 0.1  # type: ignore[misc]
