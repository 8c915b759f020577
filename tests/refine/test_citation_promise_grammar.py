"""The grammar guidance decodes under admits what ``matches`` admits (no model: grammars only)."""

from __future__ import annotations

import functools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refine.constraints import Quote, Regex, Substring, cited_text_pattern, quote_runs
from refine.lm._guidance import _node, grammar_for
from refine.testing import replies

pytest.importorskip("guidance")

SOURCES = [
    "Each claim must cite [7]. See the notes [1][2] and the table \u30101\u3011 below.",
    "Sources [1-3] agree; the id [p1] names a passage. Paris is the capital [sic] of France.",
    "Run it:\n```python\nprint([1])\n```\n# Heading\n__init__ is _ here.",
]

WORDS = ["Paris", "is", "the", "e.g.", "_", "x", ",", ".", ":", '"', "\u2026", "`", "#", "(", "-"]
BRACKETS = ["[7]", "[1][2]", "[1-3]", "[p1]", "\u30101\u3011", "[sic]", "[1](https://x.org)", "```", "# ", "- "]
TOKENS = st.sampled_from([*WORDS, *BRACKETS])
ANY_SOURCE = st.one_of(
    st.sampled_from(SOURCES),
    st.lists(st.tuples(TOKENS, st.sampled_from([" ", "", "\n"])), min_size=1, max_size=20)
    .map(lambda pairs: "".join(token + gap for token, gap in pairs))
    .filter(quote_runs),
)


@functools.lru_cache(maxsize=64)
def _grammar(constraint: Quote | Substring):  # type: ignore[no-untyped-def]
    return _node(constraint)


def _admits(constraint: Quote | Substring, text: str) -> bool:
    return _grammar(constraint).match(text) is not None


def _cuts(text: str) -> st.SearchStrategy[str]:
    """Any slice of ``text``: most are not whole chunks, or span a marker."""
    return st.tuples(st.integers(0, len(text)), st.integers(0, len(text))).map(lambda ends: text[min(ends) : max(ends)])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])  # compiles grammars
@given(
    st.data(),
    st.lists(ANY_SOURCE, min_size=1, max_size=3),
    st.sampled_from([None, 10, 25]),
)
def test_the_quote_grammar_and_matches_agree(data: st.DataObject, sources: list[str], max_chars: int | None) -> None:
    quote = Quote(tuple(sources), max_chars=max_chars)
    admitted = data.draw(replies(quote))
    assert _admits(quote, admitted), admitted
    i = data.draw(st.integers(1, len(sources) + 1))
    cut = data.draw(_cuts(sources[(i - 1) % len(sources)]))
    candidate = cut + data.draw(st.sampled_from(["", " ", "  "])) + f"[{i}]"
    assert _admits(quote, candidate) == quote.matches(candidate), candidate


@settings(max_examples=100, deadline=None)
@given(ANY_SOURCE, st.data())
def test_the_substring_grammar_and_matches_agree(source: str, data: st.DataObject) -> None:
    substring = Substring(source)
    assert _admits(substring, data.draw(replies(substring)))
    cut = data.draw(_cuts(source))
    assert _admits(substring, cut) == substring.matches(cut), cut


def test_a_quote_can_stop_where_its_source_goes_on_with_a_bracket() -> None:
    # As two lexemes, the lexer kept "the capital " going into "[sic]" and refused the marker.
    quote = Quote((SOURCES[1],))
    assert quote.matches("the capital [1]") and _admits(quote, "the capital [1]")
    assert not _admits(quote, "names a passage. Paris is the capital [sic] of [2]")
    assert all(run for run in quote_runs(SOURCES[1]))


@pytest.mark.parametrize(("n", "per", "k"), [(1, "sentence", 1), (5, "answer", 1), (10, "sentence", 2)])
def test_the_cited_text_grammar_compiles_and_refuses_sentences_without_words(n: int, per: str, k: int) -> None:
    pattern = cited_text_pattern(n, per=per, min_citations=k)
    grammar = grammar_for(Regex(pattern), max_tokens=512, temperature=0.0, stop=())
    markers = "[1][2]" if k == 2 else "[1]"
    assert grammar.match(f"Cats purr when happy {markers}.") is not None
    for text in (f"-------- {markers}.", f":::::::\ufefd {markers}.", f"# Cats purr loudly {markers}."):
        assert grammar.match(text) is None, text
    # Rust's \w holds combining marks and joiners; Python's does not, nor does citations.parse.
    for text in (f"\u0301\u0301\u0301--------- {markers}.", f"\u200d\u200d\u200d--------- {markers}."):
        assert grammar.match(text) is None and not Regex(pattern).matches(text), text
    assert grammar.match(f"\u00e9t\u00e9 \u0663 \u65e5\u672c {markers}.") is not None  # any script


def test_free_text_is_not_blank_under_the_grammar_either() -> None:
    grammar = grammar_for(None, max_tokens=16, temperature=0.0, stop=())
    for blank in (" ", "\n\t", "\x85", "\x1c\u3000"):
        assert grammar.match(blank) is None and not blank.strip()
    assert grammar.match(" a\n") is not None
