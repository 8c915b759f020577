"""BM25 retrieval: ranking, arguments, save/load, and every way an index folder can be damaged."""

from __future__ import annotations

import json
import logging
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import refine.retrieval
from corpora import Passage
from refine.errors import IndexCorrupt, UsageError
from refine.retrieval import BM25Retriever, Hit
from refine.retrieval._store import _file_entry
from refine.retrieval._tokens import TokenConfig, make_tokenizer

CORPUS = (
    Passage(id="cats", title="Cats", text="Cats purr when they are content and sleep most of the day."),
    Passage(id="dogs", title="Dogs", text="Dogs bark at strangers and love long walks."),
    Passage(id="marathon", title="Marathon", text="A marathon is a long run of about forty-two kilometres."),
    Passage(id="python", title="Python", text="Python is a programming language with readable syntax."),
    Passage(id="tea", title="Green tea", text="Brewed at low temperature, it tastes less bitter."),
    Passage(id="owls", title="Owls", text="Owls hunt at night and turn their heads far around."),
)


def ids(hits: tuple[Hit, ...]) -> list[str]:
    return [hit.passage.id for hit in hits]


@pytest.fixture(scope="module")
def retriever() -> BM25Retriever:
    return BM25Retriever.build(CORPUS)


@pytest.fixture()
def saved(tmp_path: Path, retriever: BM25Retriever) -> Path:
    folder = tmp_path / "index"
    retriever.save(folder)
    return folder


def rebuild_hint(folder: Path) -> str:
    return f"; rebuild it with `refine index PATH --out {folder}`"


def damaged(folder: Path, problem: str) -> str:
    return "^" + re.escape(f"index folder '{folder}' is damaged: {problem}{rebuild_hint(folder)}") + "$"


# --- the public surface ---------------------------------------------------------------------------


def test_public_api_is_exactly_documented() -> None:
    assert refine.retrieval.__all__ == ["BM25Retriever", "Hit"]


def test_hit_is_frozen() -> None:
    hit = Hit(passage=CORPUS[0], score=1.5, rank=1)
    with pytest.raises(AttributeError):
        hit.rank = 2  # type: ignore[misc]


def test_retriever_reports_size_and_passages(retriever: BM25Retriever) -> None:
    assert len(retriever) == len(CORPUS)
    assert retriever.passages == CORPUS
    assert repr(retriever).startswith("BM25Retriever(passages=6, terms=")


# --- ranking ---------------------------------------------------------------------------------------


def test_passage_mentioning_the_query_terms_ranks_first(retriever: BM25Retriever) -> None:
    hits = retriever.search("why do cats purr?")
    assert ids(hits) == ["cats"]
    assert hits[0].rank == 1 and hits[0].score > 0


def test_stemming_matches_inflected_forms(retriever: BM25Retriever) -> None:
    assert ids(retriever.search("running"))[0] == "marathon"  # the text says "run"
    assert ids(retriever.search("barking dog"))[0] == "dogs"


def test_without_stemming_inflected_forms_do_not_match() -> None:
    plain = BM25Retriever.build(CORPUS, stemmer=None)
    assert plain.search("running") == ()
    assert ids(plain.search("run")) == ["marathon"]


def test_title_counts(retriever: BM25Retriever) -> None:
    # "green" appears only in the title of the tea passage.
    assert ids(retriever.search("green")) == ["tea"]


def test_hits_are_sorted_with_consecutive_ranks(retriever: BM25Retriever) -> None:
    hits = retriever.search("long walks at night", k=5)
    assert [hit.rank for hit in hits] == list(range(1, len(hits) + 1))
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)
    assert ids(hits)[0] in {"dogs", "owls"}
    assert set(ids(hits)) == {"dogs", "owls", "marathon"}


def test_ties_go_to_the_earlier_passage() -> None:
    twins = [Passage(id=f"t{i}", title="", text="identical words here") for i in range(5)]
    retriever = BM25Retriever.build(twins)
    assert ids(retriever.search("identical", k=3)) == ["t0", "t1", "t2"]


def test_repeated_query_words_count_once(retriever: BM25Retriever) -> None:
    assert retriever.search("owls owls owls") == retriever.search("owls")


# --- k and queries ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("k", "message"),
    [
        (0, "k=0 must be >= 1"),
        (-3, "k=-3 must be >= 1"),
        ("3", "k='3' must be an int >= 1, e.g. k=3"),
        (2.0, "k=2.0 must be an int >= 1, e.g. k=2"),
        (True, "k=True must be an int >= 1, e.g. k=1"),
        (None, "k=None must be an int >= 1, e.g. k=1"),
    ],
)
def test_bad_k_is_refused(retriever: BM25Retriever, k: object, message: str) -> None:
    with pytest.raises(UsageError, match=f"^{re.escape(message)}$"):
        retriever.search("cats", k=k)  # type: ignore[arg-type]


def test_k_limits_and_larger_k_returns_every_match(retriever: BM25Retriever) -> None:
    query = "cats dogs marathon python tea owls"
    assert len(retriever.search(query, k=1)) == 1
    assert len(retriever.search(query, k=4)) == 4
    everything = retriever.search(query, k=1_000)
    assert sorted(ids(everything)) == sorted(p.id for p in CORPUS)


def test_k_may_be_a_numpy_int(retriever: BM25Retriever) -> None:
    """As every other int option (refine._options.check_int): an index computed with numpy will do."""
    query = "cats dogs marathon python tea owls"
    assert retriever.search(query, k=np.int64(2)) == retriever.search(query, k=2)


def test_default_k_is_five(retriever: BM25Retriever) -> None:
    assert len(retriever.search("cats dogs marathon python tea owls")) == 5


@pytest.mark.parametrize("query", ["", "   \n", "?!", "the and of a", "xyzzy plugh", "é"])
def test_query_without_indexed_terms_returns_nothing(retriever: BM25Retriever, query: str) -> None:
    assert retriever.search(query) == ()


def test_empty_passages_never_match_an_empty_query() -> None:
    retriever = BM25Retriever.build([Passage(id="blank", title="", text=""), *CORPUS])
    assert retriever.search("") == ()
    assert retriever.search("the") == ()
    assert ids(retriever.search("owls")) == ["owls"]


def test_query_must_be_a_string(retriever: BM25Retriever) -> None:
    with pytest.raises(UsageError, match=re.escape("query=['cats'] must be a str")):
        retriever.search(["cats"])  # type: ignore[arg-type]


def test_concurrent_searches_agree(retriever: BM25Retriever) -> None:
    queries = ["cats", "running", "long walks", "python syntax", "bitter tea", "night owls"] * 20
    expected = [retriever.search(q) for q in queries]
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(retriever.search, queries)) == expected


words = st.sampled_from(["apple", "banana", "cherry", "date", "elder", "fig", "grape", "the", "of"])


@settings(max_examples=50, deadline=None)
@given(
    texts=st.lists(st.lists(words, max_size=8).map(" ".join), min_size=1, max_size=12),
    query=st.lists(words, max_size=4).map(" ".join),
    k=st.integers(min_value=1, max_value=15),
)
def test_search_invariants(texts: list[str], query: str, k: int) -> None:
    passages = [Passage(id=f"p{i}", title="", text=text) for i, text in enumerate(texts)]
    hits = BM25Retriever.build(passages).search(query, k=k)
    terms = set(query.split()) - {"the", "of"}
    matching = [p for p in passages if terms & set(p.text.split())]
    assert len(hits) == min(k, len(matching))
    assert [hit.rank for hit in hits] == list(range(1, len(hits) + 1))
    assert all(hit.score > 0 for hit in hits)
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)


# --- building --------------------------------------------------------------------------------------


def test_build_refuses_an_empty_corpus() -> None:
    with pytest.raises(UsageError, match=re.escape("passages=() is empty; an index needs at least one Passage")):
        BM25Retriever.build([])


def test_build_refuses_non_passages() -> None:
    with pytest.raises(UsageError, match=re.escape("passages[1]='dogs bark' is a str, not a Passage")):
        BM25Retriever.build([CORPUS[0], "dogs bark"])  # type: ignore[list-item]
    with pytest.raises(UsageError, match="must be an iterable of Passage, got a str"):
        BM25Retriever.build("cats purr")  # type: ignore[arg-type]


def test_build_refuses_duplicate_ids() -> None:
    with pytest.raises(UsageError, match=re.escape("passage id='cats' appears at positions 0 and 2")):
        BM25Retriever.build([CORPUS[0], CORPUS[1], CORPUS[0]])


def test_build_refuses_unknown_stemmer_and_stopwords() -> None:
    with pytest.raises(UsageError, match=r"^stemmer='klingon' is not a PyStemmer algorithm; use one of arabic, "):
        BM25Retriever.build(CORPUS, stemmer="klingon")
    with pytest.raises(UsageError, match=r"^stopwords='xx' is not a known stopword list; use a language"):
        BM25Retriever.build(CORPUS, stopwords="xx")


def test_custom_stopwords_and_none() -> None:
    custom = BM25Retriever.build(CORPUS, stopwords=["owls"])
    assert custom.search("owls") == ()
    keep_all = BM25Retriever.build(CORPUS, stopwords=None)
    assert ids(keep_all.search("the"))[0] == "cats"  # "the" is indexed now


def test_query_encoding_matches_index_tokenization() -> None:
    config = TokenConfig.create(stemmer="english", stopwords="en")
    texts = [f"{p.title}\n{p.text}" for p in pydoc_passages()[:500]] + ["Running RUNS runner's, the end."]
    tokenizer = make_tokenizer(config)
    indexed = tokenizer.tokenize(texts, update_vocab=True, show_progress=False, return_as="ids")
    retriever = BM25Retriever.build([Passage(id=str(i), title="", text=t) for i, t in enumerate(texts)])
    empty_id = tokenizer.get_vocab_dict()[""]
    for text, doc_ids in zip(texts, indexed, strict=True):
        assert set(retriever._encoder.encode(text)) == set(doc_ids) - {empty_id}


def test_progress_only_when_asked_or_large(capsys: pytest.CaptureFixture[str]) -> None:
    BM25Retriever.build(CORPUS)
    BM25Retriever.build(CORPUS, show_progress=False)
    assert capsys.readouterr() == ("", "")
    BM25Retriever.build(CORPUS, show_progress=True)
    out, err = capsys.readouterr()
    assert out == ""
    assert "Tokenizing passages" in err and "Building BM25 index" in err


def test_build_logs_time_and_size(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="refine.retrieval"):
        BM25Retriever.build(CORPUS)
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("refine.retrieval")]
    assert any(re.fullmatch(r"indexed 6 passages \(\d+ terms, [\d.]+ MB of scores\) in [\d.]+s", m) for m in messages)


# --- save and load ---------------------------------------------------------------------------------

QUERIES = ["why do cats purr?", "running", "green", "long walks at night", "the", "xyzzy"]


@pytest.mark.parametrize("mmap", [True, False])
def test_round_trip_gives_identical_results(saved: Path, retriever: BM25Retriever, mmap: bool) -> None:
    loaded = BM25Retriever.load(saved, mmap=mmap)
    assert loaded.passages == retriever.passages
    assert len(loaded) == len(retriever)
    for query in QUERIES:
        assert loaded.search(query, k=6) == retriever.search(query, k=6)


def test_folder_layout(saved: Path) -> None:
    assert sorted(p.name for p in saved.iterdir()) == sorted(
        [
            "data.csc.index.npy",
            "indices.csc.index.npy",
            "indptr.csc.index.npy",
            "params.index.json",
            "vocab.index.json",
            "passages.jsonl",
            "passages.offsets.npy",
            "refine-index.json",
        ]
    )
    manifest = json.loads((saved / "refine-index.json").read_text())
    assert manifest["format"] == "refine-bm25" and manifest["version"] == 2 and manifest["count"] == 6
    assert (manifest["stemmer"], manifest["stopwords"]) == ("english", "en")
    assert (manifest["digest"], manifest["block_size"]) == ("blake2b-128", 1 << 20)
    assert set(manifest["files"]) == {p.name for p in saved.iterdir()} - {"refine-index.json"}
    for name, entry in manifest["files"].items():
        assert entry["size"] == (saved / name).stat().st_size
        assert [len(digest) for digest in entry["blocks"]] == [32]  # one block each, 128-bit blake2b


def test_round_trip_keeps_metadata_settings_and_odd_characters(tmp_path: Path) -> None:
    passages = [
        Passage(id="a", title="Line\u2028separator", text="caf\u00e9 text\nwith a newline", metadata={"page": 3}),
        Passage(id="b", title="", text="plain words"),
    ]
    built = BM25Retriever.build(passages, stemmer=None, stopwords=["plain"])
    built.save(tmp_path / "odd")
    loaded = BM25Retriever.load(tmp_path / "odd")
    assert [dict(p.metadata) for p in loaded.passages] == [{"page": 3}, {}]
    assert [p.title for p in loaded.passages] == ["Line\u2028separator", ""]
    assert loaded.search("plain") == ()  # the custom stopword survived
    assert ids(loaded.search("café")) == ["a"]


def test_save_replaces_an_older_index(tmp_path: Path, retriever: BM25Retriever) -> None:
    folder = tmp_path / "index"
    BM25Retriever.build(CORPUS[:2]).save(folder)
    retriever.save(folder)
    assert len(BM25Retriever.load(folder)) == 6


def test_save_refuses_a_foreign_non_empty_folder(tmp_path: Path, retriever: BM25Retriever) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match=re.escape(f"folder='{tmp_path}' is not empty and holds no refine index")):
        retriever.save(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_save_refuses_the_folder_it_is_mapped_from(saved: Path) -> None:
    loaded = BM25Retriever.load(saved, mmap=True)
    with pytest.raises(UsageError, match=re.escape(f"folder='{saved}' is the folder this index is memory-mapped")):
        loaded.save(saved)
    BM25Retriever.load(saved, mmap=False).save(saved)  # a copy in memory may overwrite its source
    assert loaded.search("cats") == BM25Retriever.load(saved).search("cats")


def test_load_refuses_non_bool_mmap(saved: Path) -> None:
    with pytest.raises(UsageError, match=re.escape("mmap='yes' must be True or False")):
        BM25Retriever.load(saved, mmap="yes")  # type: ignore[arg-type]


# --- damaged and foreign folders -------------------------------------------------------------------


def test_missing_folder(tmp_path: Path) -> None:
    folder = tmp_path / "nowhere"
    expected = f"index folder '{folder}' does not exist; build one with `refine index PATH --out DIR`"
    with pytest.raises(IndexCorrupt, match=f"^{re.escape(expected)}$"):
        BM25Retriever.load(folder)


def test_file_instead_of_folder(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(IndexCorrupt, match=re.escape("is a file, not a folder")):
        BM25Retriever.load(tmp_path / "file")


def test_foreign_folder(tmp_path: Path) -> None:
    (tmp_path / "random.bin").write_bytes(bytes(range(256)))
    (tmp_path / "params.index.json").write_text("{}")
    expected = (
        f"'{tmp_path}' is not a refine index (no refine-index.json); build one with `refine index PATH --out DIR`"
    )
    with pytest.raises(IndexCorrupt, match=f"^{re.escape(expected)}$"):
        BM25Retriever.load(tmp_path)


def test_plain_bm25s_folder_is_foreign(tmp_path: Path, retriever: BM25Retriever) -> None:
    retriever._bm25.save(tmp_path / "bm25s-only", show_progress=False)
    with pytest.raises(IndexCorrupt, match=re.escape("is not a refine index (no refine-index.json)")):
        BM25Retriever.load(tmp_path / "bm25s-only")


@pytest.mark.parametrize(
    "name",
    [
        "data.csc.index.npy",
        "indices.csc.index.npy",
        "indptr.csc.index.npy",
        "params.index.json",
        "vocab.index.json",
        "passages.jsonl",
    ],
)
def test_deleted_file(saved: Path, name: str) -> None:
    (saved / name).unlink()
    with pytest.raises(IndexCorrupt, match=damaged(saved, f"{name} is missing")):
        BM25Retriever.load(saved)


def test_deleted_manifest_looks_foreign(saved: Path) -> None:
    (saved / "refine-index.json").unlink()
    with pytest.raises(IndexCorrupt, match=re.escape("is not a refine index (no refine-index.json)")):
        BM25Retriever.load(saved)


@pytest.mark.parametrize("name", ["data.csc.index.npy", "vocab.index.json", "passages.jsonl"])
def test_truncated_file(saved: Path, name: str) -> None:
    path = saved / name
    size = path.stat().st_size
    path.write_bytes(path.read_bytes()[: size // 2])
    problem = f"{name} has {size // 2} bytes but refine-index.json says {size} (truncated or modified)"
    with pytest.raises(IndexCorrupt, match=damaged(saved, problem)):
        BM25Retriever.load(saved)


def reseal(folder: Path, name: str) -> None:
    """Make the manifest agree with ``name`` as it is now, as a buggy writer would have."""
    manifest = json.loads((folder / "refine-index.json").read_text())
    set_manifest(folder, files={name: _file_entry(folder / name, manifest["block_size"])})


def set_manifest(folder: Path, **changes: object) -> None:
    path = folder / "refine-index.json"
    manifest = json.loads(path.read_text())
    for key, value in changes.items():
        if key == "files":
            manifest["files"].update(value)
        else:
            manifest[key] = value
    path.write_text(json.dumps(manifest))


@pytest.mark.parametrize("mmap", [True, False])
@pytest.mark.parametrize("name", ["data.csc.index.npy", "indptr.csc.index.npy"])
def test_truncated_array_that_the_manifest_agrees_with(saved: Path, name: str, mmap: bool) -> None:
    """Even when the sizes and digests were edited to match, numpy's failure becomes IndexCorrupt."""
    path = saved / name
    path.write_bytes(path.read_bytes()[:100])
    reseal(saved, name)
    with pytest.raises(IndexCorrupt, match=r"^index folder '.*' is damaged: bm25s cannot load it \(ValueError: "):
        BM25Retriever.load(saved, mmap=mmap)


@pytest.mark.parametrize("mmap", [True, False])
@pytest.mark.parametrize("name", ["data.csc.index.npy", "params.index.json"])
def test_empty_file_that_the_manifest_agrees_with(saved: Path, name: str, mmap: bool) -> None:
    (saved / name).write_bytes(b"")
    reseal(saved, name)
    with pytest.raises(IndexCorrupt, match=r"^index folder '.*' is damaged: bm25s cannot load it \("):
        BM25Retriever.load(saved, mmap=mmap)


def test_garbage_vocab_that_the_manifest_agrees_with(saved: Path) -> None:
    (saved / "vocab.index.json").write_text("not json")
    reseal(saved, "vocab.index.json")
    with pytest.raises(IndexCorrupt, match=r"is damaged: bm25s cannot load it \(JSONDecodeError: "):
        BM25Retriever.load(saved)


def test_edited_passages(saved: Path) -> None:
    path = saved / "passages.jsonl"
    path.write_text(path.read_text().replace("Cats purr", "Cats hiss"))  # same length
    size = path.stat().st_size
    problem = f"passages.jsonl bytes 0..{size - 1} do not match their digest in refine-index.json (modified)"
    with pytest.raises(IndexCorrupt, match=damaged(saved, problem)):
        BM25Retriever.load(saved, mmap=False)
    mapped = BM25Retriever.load(saved)  # checks the file as hits read it
    with pytest.raises(IndexCorrupt, match=damaged(saved, problem)):
        mapped.search("cats")
    with pytest.raises(IndexCorrupt, match=damaged(saved, problem)):
        _ = mapped.passages


def test_count_mismatch(saved: Path) -> None:
    set_manifest(saved, count=7)
    problem = "the BM25 index holds num_docs=6 but refine-index.json says count=7"
    with pytest.raises(IndexCorrupt, match=damaged(saved, problem)):
        BM25Retriever.load(saved)


def test_offsets_that_disagree_with_the_passages(saved: Path) -> None:
    np.save(saved / "passages.offsets.npy", np.array([0, 5, 9, 20, 30, 40, 50], dtype=np.int64))
    reseal(saved, "passages.offsets.npy")
    size = (saved / "passages.jsonl").stat().st_size
    problem = f"passages.offsets.npy does not split the {size} bytes of passages.jsonl into 6 lines"
    with pytest.raises(IndexCorrupt, match=damaged(saved, problem)):
        BM25Retriever.load(saved)


def test_passages_that_disagree_with_the_arrays(saved: Path, tmp_path: Path) -> None:
    """passages.jsonl and its manifest entries from a different index: the arrays give it away."""
    other = tmp_path / "other"
    BM25Retriever.build(CORPUS[:4]).save(other)
    manifest = json.loads((other / "refine-index.json").read_text())
    for name in ("passages.jsonl", "passages.offsets.npy"):
        shutil.copy(other / name, saved / name)
    files = {name: manifest["files"][name] for name in ("passages.jsonl", "passages.offsets.npy")}
    set_manifest(saved, count=4, files=files)
    problem = "the BM25 index holds num_docs=6 but refine-index.json says count=4"
    with pytest.raises(IndexCorrupt, match=damaged(saved, problem)):
        BM25Retriever.load(saved)


@pytest.mark.parametrize("version", [1, 3, "2"])
def test_wrong_manifest_version(saved: Path, version: object) -> None:
    set_manifest(saved, version=version)
    expected = f"index folder '{saved}' has version={version!r}, but this refine reads version 2{rebuild_hint(saved)}"
    with pytest.raises(IndexCorrupt, match=f"^{re.escape(expected)}$"):
        BM25Retriever.load(saved)


def test_wrong_manifest_format(saved: Path) -> None:
    set_manifest(saved, format="faiss")
    expected = f"'{saved}' is not a refine BM25 index (format='faiss', expected 'refine-bm25'){rebuild_hint(saved)}"
    with pytest.raises(IndexCorrupt, match=f"^{re.escape(expected)}$"):
        BM25Retriever.load(saved)


def test_manifest_that_is_not_json(saved: Path) -> None:
    (saved / "refine-index.json").write_text('{"format": "refine-bm25", ')
    with pytest.raises(IndexCorrupt, match=r"is damaged: refine-index.json cannot be read \(JSONDecodeError: "):
        BM25Retriever.load(saved)


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"count": "6"}, "refine-index.json has count='6', expected a int"),
        ({"digest": "sha256"}, "refine-index.json has digest='sha256', expected 'blake2b-128'"),
        ({"block_size": 0}, "refine-index.json has block_size=0, expected a positive int"),
        ({"block_size": "1"}, "refine-index.json has block_size='1', expected a int"),
        (
            {"files": {"params.index.json": {"size": 3}}},
            "refine-index.json does not list the size and block digests of params.index.json",
        ),
        (
            {"files": {"vocab.index.json": 12}},
            "refine-index.json does not list the size and block digests of vocab.index.json",
        ),
        (
            {"stemmer": "klingon"},
            "refine-index.json has a bad tokenizer setting (UsageError: stemmer='klingon'",
        ),
    ],
)
def test_manifest_with_bad_fields(saved: Path, changes: dict[str, object], problem: str) -> None:
    set_manifest(saved, **changes)
    with pytest.raises(IndexCorrupt, match=re.escape(problem)):
        BM25Retriever.load(saved)


# --- a real corpus ---------------------------------------------------------------------------------


def pydoc_passages() -> list[Passage]:
    """Python's own reference topics, one passage per paragraph."""
    from pydoc_data.topics import topics

    passages = []
    for topic, body in sorted(topics.items()):
        paragraphs = [" ".join(p.split()) for p in body.split("\n\n")]
        for number, paragraph in enumerate(p for p in paragraphs if p):
            passages.append(Passage(id=f"{topic}-{number}", title=topic, text=paragraph, metadata={"topic": topic}))
    return passages


def test_pydoc_topics_find_the_nonlocal_statement(tmp_path: Path) -> None:
    passages = pydoc_passages()
    assert len(passages) > 2_000
    retriever = BM25Retriever.build(passages)
    query = "What does the nonlocal statement do?"
    top = retriever.search(query, k=3)
    assert "nonlocal" in [hit.passage.metadata["topic"] for hit in top]
    retriever.save(tmp_path / "pydoc")
    assert BM25Retriever.load(tmp_path / "pydoc").search(query, k=10) == retriever.search(query, k=10)
