"""Queries keep their topic: protected words survive stopword removal, and stopword-only queries keep theirs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from corpora import Passage
from refine.errors import IndexCorrupt, UsageError
from refine.retrieval import BM25Retriever
from refine.retrieval._tokens import TokenConfig, named_stopwords

CORPUS = (
    Passage(id="pass", title='The "pass" statement', text="The pass statement is a null operation."),
    Passage(id="del", title='The "del" statement', text="Deletion of a name removes its binding."),
    Passage(id="with", title='The "with" statement', text="The with statement wraps a block with a context manager."),
    Passage(id="in", title="Membership tests", text="The operator in tests for membership: x in s."),
    Passage(id="tea", title="Green tea", text="Brewed at low temperature, it tastes less bitter."),
)


def ids(retriever: BM25Retriever, query: str) -> list[str]:
    return [hit.passage.id for hit in retriever.search(query)]


# --- protected words --------------------------------------------------------------------------------


def test_english_stopwords_drop_the_topic_of_the_query() -> None:
    plain = BM25Retriever.build(CORPUS)
    # "with" is an English stopword, so "statement" is the only topic left, and every statement ties.
    assert plain._encoder.words("What does the with statement do?") == ["what", "does", "statement", "do"]
    assert ids(plain, "What does the with statement do?")[0] == "pass"


def test_a_protected_word_is_indexed_and_searched() -> None:
    protected = BM25Retriever.build(CORPUS, keep=["with", "in"])
    assert ids(protected, "What does the with statement do?")[0] == "with"
    assert ids(protected, "what does in do")[0] == "in"


def test_keep_is_normalised_to_the_stopwords_it_protects() -> None:
    config = TokenConfig.create(stemmer="english", stopwords="en", keep=["With", "os.path", "IS", "zebra", "with"])
    assert config.keep == ("is", "with")  # lowercased, split, deduplicated; non-stopwords need no protection
    assert TokenConfig.create(stemmer=None, stopwords=None, keep=["with"]).keep == ()
    assert TokenConfig.create(stemmer=None, stopwords=["foo", "bar"], keep=["bar"]).keep == ("bar",)


@pytest.mark.parametrize(
    ("keep", "message"),
    [
        ("with", "keep='with' is a single str; pass a list of words, such as ['with']"),
        (["with", 3], "keep contains 3; every protected word must be a str"),
    ],
)
def test_bad_keep_is_refused(keep: object, message: str) -> None:
    with pytest.raises(UsageError, match="^" + re.escape(message) + "$"):
        BM25Retriever.build(CORPUS, keep=keep)  # type: ignore[arg-type]


def test_repr_names_the_protected_words() -> None:
    assert repr(BM25Retriever.build(CORPUS, keep=["with"])).endswith("stopwords='en', keep=['with'])")
    assert repr(BM25Retriever.build(CORPUS)).endswith("stopwords='en')")


# --- queries of stopwords only ------------------------------------------------------------------------


def test_a_query_of_stopwords_only_keeps_its_words() -> None:
    everything = BM25Retriever.build(CORPUS, stopwords=["the", "a", "is", "of"])
    assert "the" not in everything._encoder.words("the statement")
    assert everything._encoder.words("The is of") == ["the", "is", "of"]
    # Stopwords were not indexed, so they match nothing: the query finds nothing, not every passage.
    assert everything.search("the is of") == ()
    protected = BM25Retriever.build(CORPUS, keep=["with"])
    assert ids(protected, "with")[0] == "with"
    assert ids(protected, "is it with the")[0] == "with"


# --- the manifest records them ------------------------------------------------------------------------


def test_protected_words_are_saved_and_loaded(tmp_path: Path) -> None:
    folder = tmp_path / "index"
    BM25Retriever.build(CORPUS, keep=["with"]).save(folder)
    manifest = json.loads((folder / "refine-index.json").read_text())
    assert manifest["keep"] == ["with"]
    assert "source" not in manifest  # only indexes of shipped corpora name their source
    loaded = BM25Retriever.load(folder)
    assert loaded._config.keep == ("with",)
    assert ids(loaded, "What does the with statement do?")[0] == "with"


def test_an_index_written_before_protected_words_protects_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "index"
    BM25Retriever.build(CORPUS).save(folder)
    path = folder / "refine-index.json"
    manifest = json.loads(path.read_text())
    del manifest["keep"]
    path.write_text(json.dumps(manifest))
    loaded = BM25Retriever.load(folder)
    assert loaded._config.keep == ()
    assert ids(loaded, "pass statement")[0] == "pass"


@pytest.mark.parametrize("keep", ["with", [1], {"with": 1}])
def test_a_bad_keep_in_the_manifest_is_damage(tmp_path: Path, keep: object) -> None:
    folder = tmp_path / "index"
    BM25Retriever.build(CORPUS).save(folder)
    path = folder / "refine-index.json"
    manifest = json.loads(path.read_text())
    manifest["keep"] = keep
    path.write_text(json.dumps(manifest))
    with pytest.raises(IndexCorrupt, match=r"is damaged: refine-index.json has a bad tokenizer setting .*keep="):
        BM25Retriever.load(folder)


# --- python-docs, the shipped corpus ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def python_docs(tmp_path_factory: pytest.TempPathFactory) -> BM25Retriever:
    return BM25Retriever.shipped("python-docs", cache_dir=tmp_path_factory.mktemp("cache"))


def test_the_with_statement_is_found_by_its_keyword(python_docs: BM25Retriever) -> None:
    top = python_docs.search("What does the with statement do?")[0].passage
    assert top.metadata["topic"] == "with", top.id
    assert top.title == 'The "with" statement'


def test_open_is_found_for_opening_a_file(python_docs: BM25Retriever) -> None:
    top = python_docs.search("How do I open a file for reading?")[0].passage
    assert top.id.startswith("python-docs:builtins#") and top.metadata["object"] == "builtins.open", top.id
    assert top.title == "builtins.open"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("What does the nonlocal statement do?", "nonlocal"),
        ("What does the yield statement do?", "yield"),
        ("What is a lambda?", "lambda"),
        ("How do I read a JSON file?", "json.load"),
        ("How do I join paths?", "os.path.join"),
        ("How do I chain iterables?", "itertools.chain"),
    ],
)
def test_more_questions_find_their_topic(python_docs: BM25Retriever, query: str, expected: str) -> None:
    top = python_docs.search(query)[0].passage
    assert expected in (top.metadata.get("topic"), top.metadata.get("object")), top.id


def test_python_docs_protects_keywords_and_drops_question_words(python_docs: BM25Retriever) -> None:
    config = python_docs._config
    assert {"with", "in", "is", "not", "for", "if", "and", "or", "as"} <= set(config.keep)
    assert set(config.keep) <= set(config.stopwords or ())
    assert {"what", "how", "does", "do"} <= set(config.stopwords or ())
    assert set(named_stopwords("en")) <= set(config.stopwords or ())
    assert python_docs._encoder.words("How do I use the with statement?") == ["use", "with", "statement"]
