"""Whatever a grammar admits, the checks accept: quotes and cited prose (issue 11, items 8 and 9)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import citations
from citations._markers import marker_spans
from corpora import Passage
from refine import Citations, InputField, OutputField, Predict, ScriptedLM, Signature
from refine.constraints import Quote, Regex, Substring, cited_text_pattern, quote_runs
from refine.errors import UsageError
from refine.signatures._validation import split_quote, validate
from refine.testing import replies

# Markers a passage may hold that citations.parse reads as citations ([7], [1][2], [1-3], [p1]),
# and brackets it does not (【1】, [sic], a link, a line break inside).
PASSAGES = [
    Passage.create("Rules", "Each claim must cite [7]. See the notes [1][2] and the table \u30101\u3011 below."),
    Passage.create("Ranges", "Sources [1-3] agree; the id [p1] names a passage [sic]. Paris is the capital."),
    Passage.create("Code", "Run it:\n```python\nprint([1])\n```\n# Heading\nSee [the docs](https://x.org) [\n2]."),
]


def _extractive(max_length: int | None) -> type[Signature]:
    class Quoted(Signature):
        passages: list[Passage] = InputField()
        question: str = InputField()
        answer: str = OutputField(extractive=True, max_length=max_length)

    return Quoted


def _quote_of(passages: list[Passage], max_length: int | None) -> Quote:
    return Quote(tuple(p.text for p in passages), max_chars=max_length)


# -- item 8: a quote holds no marker ---------------------------------------------------------------


def test_a_quote_cannot_hold_a_marker_the_answer_would_cite() -> None:
    quote = _quote_of(PASSAGES, None)
    assert not quote.matches("Each claim must cite [7]. [1]")  # would cite passage 7
    assert not quote.matches("the notes [1][2] and [1]")
    assert not quote.matches("Sources [1-3] agree; [2]")
    assert not quote.matches("the id [p1] names [2]")
    assert not quote.matches("print([1]) [3]")  # code here, a citation once quoted
    assert quote.matches("Each claim must cite [1]")
    assert quote.matches("and the table \u30101\u3011 below. [1]")  # not a marker: quotable
    assert quote.matches("names a passage [sic]. Paris is the capital. [2]")
    assert quote.matches("Paris is the capital.[2]")


def test_quote_runs_split_a_source_at_its_markers() -> None:
    runs = quote_runs("Each claim must cite [7]. See [1][2] it.")
    assert runs == (("Each ", "claim ", "must ", "cite "), ("See ",), ("it.",))
    assert quote_runs("[1] [2]") == ()
    with pytest.raises(UsageError, match="no letter or digit outside markers"):
        Substring("[1], [2].")
    with pytest.raises(UsageError, match="needs a source with a letter or digit"):
        Quote(("[1]", "..."))


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.sampled_from([None, 12, 40]))
def test_every_quote_the_grammar_admits_validates(data: st.DataObject, max_length: int | None) -> None:
    reply = data.draw(replies(_quote_of(PASSAGES, max_length)))
    inputs = {"passages": PASSAGES, "question": "What must a claim do?"}
    prediction = Predict(_extractive(max_length), lm=ScriptedLM([reply]), max_backtracks=0, strict=False)(**inputs)
    assert prediction.ok, (reply, prediction.violations)
    _, refs, inner = split_quote(reply)
    assert len(refs) == 1 and not inner and marker_spans(reply)[-1][1] == len(reply)


WORDS = ["Paris", "is", "the", "capital", "of", "it's", "3.14", "e.g.", "Dr.", "__init__", "_", "x"]
MARKS = [",", ".", ";", ":", "(", ")", '"', "\u201c", "\u201d", "-", "\u2026", "`", "*", "#"]
BRACKETS = ["[7]", "[1][2]", "[1-3]", "[p1]", "\u30101\u3011", "[sic]", "[see above]", "[1](https://x.org)", "[\n1]"]
BLOCKS = ["```", "```python", "~~~", "# ", "## ", "- ", "1. ", "> ", "---"]
TOKENS = st.sampled_from(WORDS + MARKS + BRACKETS + BLOCKS)
SOURCES = st.lists(st.tuples(TOKENS, st.sampled_from([" ", " ", "", "\n", "\n\n"])), min_size=1, max_size=30).map(
    lambda pairs: "".join(token + gap for token, gap in pairs)
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.data(), st.lists(SOURCES, min_size=1, max_size=3), st.sampled_from([None, 8, 30]))
def test_every_quote_of_any_source_validates(data: st.DataObject, texts: list[str], max_length: int | None) -> None:
    """Sources with markers, brackets, code fences, headings and lists: a quote of them validates."""
    passages = [Passage.create(f"T{i}", text) for i, text in enumerate(texts)]
    if not any(quote_runs(text) for text in texts):
        with pytest.raises(UsageError):
            _quote_of(passages, max_length)
        return
    reply = data.draw(replies(_quote_of(passages, max_length)))
    outputs = {"answer": reply}
    assert validate(_extractive(max_length)(), outputs, {"passages": passages, "question": "q"}) == (), reply


def test_validation_names_a_marker_inside_a_quote_from_an_unconstrained_backend() -> None:
    inputs = {"passages": PASSAGES, "question": "q"}
    reply = "Each claim must cite [7]. [1]"
    lm = ScriptedLM([reply], supports=())  # unconstrained: nothing keeps the model from quoting a marker
    prediction = Predict(_extractive(None), lm=lm, max_backtracks=0, strict=False)(**inputs)
    messages = [v.message for v in prediction.violations]
    assert any("the quote holds [7], which reads as a citation" in m for m in messages), messages
    assert all(v.rule == "quote" for v in prediction.violations)


def test_a_quote_of_two_sentences_is_cited_as_a_whole() -> None:
    # With citations declared per sentence too, the markers after a quote still cite all of it.
    sig = Signature("passages: list[Passage], question -> answer").with_field(
        "answer", extractive=True, citations=Citations(per="sentence")
    )
    reply = "names a passage [sic]. Paris is the capital. [2]"
    prediction = Predict(sig, lm=ScriptedLM([reply]), max_backtracks=0)(passages=PASSAGES, question="q")
    assert prediction.ok and prediction.answer == reply


@pytest.mark.parametrize(
    ("value", "split"),
    [
        ("the capital [1]", ("the capital", (1,), ())),
        ("the capital[1].", ("the capital", (1,), ())),
        ("the capital [1] [p2]", ("the capital", (1, "p2"), ())),
        ("cite [7]. [1]", ("cite [7].", (1,), ("[7]",))),
        ("no marker", ("no marker", (), ())),
        ("[1]", ("", (1,), ())),
    ],
)
def test_split_quote(value: str, split: tuple[object, ...]) -> None:
    assert split_quote(value) == split


# -- item 9: every sentence the cited-text grammar admits is a sentence that cites -----------------


@pytest.mark.parametrize(
    "text",
    [
        "-------- [1].",  # no word: citations.parse finds no sentence
        ":::::::\ufefd [1].",
        "# Cats purr loudly [1].",  # a heading
        "```Cats purr loudly [1].",  # a code fence
        'He said "purr purr" [1].',  # a quotation right before a citation must be in the passage
        'He said "purr purr", [1].',
        "Cats purr\u2026 Dogs bark [1].",  # '…' ends a sentence, which would go uncited
    ],
)
def test_the_cited_text_grammar_refuses_what_the_checker_reads_otherwise(text: str) -> None:
    assert not Regex(cited_text_pattern(3)).matches(text)
    assert not Regex(cited_text_pattern(3, per="answer")).matches(text)


def test_the_cited_text_grammar_still_admits_ordinary_prose() -> None:
    rx = Regex(cited_text_pattern(3))
    assert rx.matches("Cats purr when happy [1]. Dogs bark loudly [3].")
    assert rx.matches('"Cats" purr when happy [1][2].')
    assert rx.matches("- 42 cats purr [2].")
    assert rx.matches("\u00c9t\u00e9 \u00e0 Paris [1].")


def test_with_two_citations_per_sentence_a_passage_counts_once() -> None:
    rx = Regex(cited_text_pattern(3, min_citations=2))
    assert rx.matches("Cats purr when happy [1][3].") and rx.matches("Cats purr when happy [1][2][3].")
    assert not rx.matches("Cats purr when happy [1][1].")  # cites one passage
    assert not rx.matches("Cats purr when happy [2][1].")  # in increasing order only
    with pytest.raises(UsageError, match="min_citations=3 cannot be met with n_passages=2"):
        cited_text_pattern(2, min_citations=3)


def test_the_cited_text_grammar_stays_small() -> None:
    assert len(cited_text_pattern(10)) < 1_000
    assert len(cited_text_pattern(10, per="answer")) < 1_000
    # Two places for the period ("... [1][3]." or "... . [1][3]") write the markers twice.
    assert len(cited_text_pattern(10, min_citations=2)) < 5_000


def test_a_sentence_may_end_before_its_citation_or_after_it() -> None:
    rx = Regex(cited_text_pattern(3))
    assert rx.matches("Cats purr when happy. [1] Dogs bark at strangers [2].")
    assert rx.matches("Cats purr when happy. [1][3]")
    assert not rx.matches("Cats purr when happy. [1].")  # one period per sentence
    assert not rx.matches("Cats purr when happy. [4]")
    assert not rx.matches("Cats purr when happy.")


NUMBERED = [Passage.create(f"T{i}", f"Passage {i} says something.") for i in range(1, 6)]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.integers(1, 5), st.sampled_from(["sentence", "answer"]))
def test_every_cited_text_the_grammar_admits_passes_the_checker(data: st.DataObject, n: int, per: str) -> None:
    k = data.draw(st.integers(1, min(n, 3)))
    text = data.draw(replies(Regex(cited_text_pattern(n, per=per, min_citations=k))))
    passages = NUMBERED[:n]
    report = citations.check(text, passages)
    assert report.ok if per == "sentence" else report.valid, (text, report.feedback())
    sig = Signature("passages: list[Passage], question -> answer").with_field(
        "answer",
        citations=Citations(per=per, min=k),  # type: ignore[arg-type]
    )
    assert validate(sig, {"answer": text}, {"passages": passages, "question": "q"}) == (), text
