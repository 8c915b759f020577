"""Same-size damage to any file of a saved index: IndexCorrupt naming the file, never a wrong ranking.

Sizes do not change, so only the block digests in the manifest can tell. Files read whole at load
are checked at load; with mmap the score arrays and passages.jsonl are checked block by block
when a search first reads them, and without mmap at load.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import bm25s
import numpy as np
import pytest

from corpora import Passage
from refine.errors import IndexCorrupt
from refine.retrieval import BM25Retriever, _store

CORPUS = (
    Passage(id="cats", title="Cats", text="Cats purr when they are content and sleep most of the day."),
    Passage(id="dogs", title="Dogs", text="Dogs bark at strangers and love long walks."),
    Passage(id="marathon", title="Marathon", text="A marathon is a long run of about forty-two kilometres."),
    Passage(id="python", title="Python", text="Python is a programming language with readable syntax."),
    Passage(id="tea", title="Green tea", text="Brewed at low temperature, it tastes less bitter."),
    Passage(id="owls", title="Owls", text="Owls hunt at night and turn their heads far around."),
)
EVERY_TERM = " ".join(f"{p.title} {p.text}" for p in CORPUS)
FILES = (
    "data.csc.index.npy",
    "indices.csc.index.npy",
    "indptr.csc.index.npy",
    "vocab.index.json",
    "params.index.json",
    "passages.jsonl",
    "passages.offsets.npy",
)


@pytest.fixture()
def saved(tmp_path: Path) -> Path:
    folder = tmp_path / "index"
    BM25Retriever.build(CORPUS).save(folder)
    return folder


def use(folder: Path, *, mmap: bool) -> None:
    """Load, search for every term, and read every passage: what touches every block."""
    retriever = BM25Retriever.load(folder, mmap=mmap)
    retriever.search(EVERY_TERM, k=len(CORPUS))
    _ = retriever.passages


def digest_error(folder: Path, name: str) -> str:
    return (
        "^"
        + re.escape(f"index folder '{folder}' is damaged: {name} bytes ")
        + r"\d+\.\.\d+"
        + re.escape(
            " do not match their digest in refine-index.json (modified); "
            f"rebuild it with `refine index PATH --out {folder}`"
        )
        + "$"
    )


def flip_byte(path: Path, position: int) -> None:
    data = bytearray(path.read_bytes())
    data[position] ^= 0x01
    path.write_bytes(bytes(data))


Change = Callable[[np.ndarray], np.ndarray]


def rewrite_array(path: Path, change: Change) -> None:
    """Rewrite a .npy file with its array changed in place: same dtype, shape and size."""
    array = np.load(path)
    size = path.stat().st_size
    np.save(path, change(array))
    assert path.stat().st_size == size


@pytest.mark.parametrize("mmap", [True, False])
@pytest.mark.parametrize("name", FILES)
def test_a_flipped_byte_in_any_file_names_it(saved: Path, name: str, mmap: bool) -> None:
    path = saved / name
    flip_byte(path, path.stat().st_size // 2)
    with pytest.raises(IndexCorrupt, match=digest_error(saved, name)):
        use(saved, mmap=mmap)


@pytest.mark.parametrize("mmap", [True, False])
@pytest.mark.parametrize("name", ["data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy"])
def test_a_flipped_byte_in_an_array_header_is_caught_at_load(saved: Path, name: str, mmap: bool) -> None:
    path = saved / name
    # The dtype's byte order: '<f4' becomes '=f4', which numpy would read the same; the digest differs.
    flip_byte(path, path.read_bytes().index(b"'<"))
    with pytest.raises(IndexCorrupt, match=digest_error(saved, name)):
        BM25Retriever.load(saved, mmap=mmap)


def test_a_reversed_data_array_would_change_the_ranking_unchecked(saved: Path) -> None:
    """Why the digests matter: bm25s itself loads the reversed array and ranks by it."""
    terms = list(range(len(bm25s.BM25.load(saved).vocab_dict)))
    good = bm25s.BM25.load(saved).get_scores_from_ids(terms)
    rewrite_array(saved / "data.csc.index.npy", lambda a: a[::-1])
    assert not np.allclose(bm25s.BM25.load(saved).get_scores_from_ids(terms), good)
    with pytest.raises(IndexCorrupt, match=digest_error(saved, "data.csc.index.npy")):
        use(saved, mmap=True)


@pytest.mark.parametrize("mmap", [True, False])
@pytest.mark.parametrize(
    ("name", "change"),
    [
        ("data.csc.index.npy", lambda a: a[::-1]),
        ("data.csc.index.npy", lambda a: np.where(np.arange(len(a)) == 0, np.float32("nan"), a)),
        ("data.csc.index.npy", lambda a: a * 2),
        ("indices.csc.index.npy", lambda a: np.full_like(a, 10**6)),  # bm25s would raise IndexError
        ("indices.csc.index.npy", lambda a: a[::-1]),
        ("indptr.csc.index.npy", lambda a: np.minimum(a, a[len(a) // 2])),
    ],
    ids=["reversed", "nan", "doubled", "indices-out-of-range", "indices-reversed", "indptr-flattened"],
)
def test_same_size_array_edits_are_caught(saved: Path, name: str, change: Change, mmap: bool) -> None:
    rewrite_array(saved / name, change)
    with pytest.raises(IndexCorrupt, match=digest_error(saved, name)):
        use(saved, mmap=mmap)


def test_edited_passage_text_is_caught_for_a_hit(saved: Path) -> None:
    path = saved / "passages.jsonl"
    path.write_text(path.read_text().replace("Owls hunt", "Owls rest"))
    with pytest.raises(IndexCorrupt, match=digest_error(saved, "passages.jsonl")):
        BM25Retriever.load(saved).search("owls")


def test_every_message_says_how_to_rebuild(saved: Path) -> None:
    flip_byte(saved / "vocab.index.json", 3)
    with pytest.raises(IndexCorrupt) as caught:
        BM25Retriever.load(saved)
    assert "rebuild it with `refine index PATH --out" in str(caught.value)
    assert "\n" not in str(caught.value)


# --- block by block --------------------------------------------------------------------------------


def many_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, passages: list[Passage]) -> Path:
    monkeypatch.setattr(_store, "BLOCK_SIZE", 256)
    folder = tmp_path / "blocks"
    BM25Retriever.build(passages).save(folder)
    monkeypatch.undo()
    assert json.loads((folder / "refine-index.json").read_text())["block_size"] == 256
    return folder


def distinct_passages(count: int) -> list[Passage]:
    # Every passage has its own word, so each term's score column is one entry long.
    return [Passage(id=f"p{i}", title="", text=f"word{i} shared filler text number {i}") for i in range(count)]


def test_only_the_blocks_a_search_reads_are_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    passages = distinct_passages(400)
    folder = many_blocks(tmp_path, monkeypatch, passages)
    retriever = BM25Retriever.load(folder)
    vocab = retriever._bm25.vocab_dict
    data_start = retriever._bm25.scores["data"].offset
    last = vocab["word399"]
    start = int(retriever._bm25.scores["indptr"][last])
    flip_byte(folder / "data.csc.index.npy", data_start + start * 4)  # after the load, as a disk might
    assert [h.passage.id for h in retriever.search("word1")] == ["p1"]  # its blocks are intact
    with pytest.raises(IndexCorrupt, match=digest_error(folder, "data.csc.index.npy")):
        retriever.search("word399")
    with pytest.raises(IndexCorrupt, match=digest_error(folder, "data.csc.index.npy")):
        retriever.search("word399")  # a failed block stays unverified
    with pytest.raises(IndexCorrupt, match=digest_error(folder, "data.csc.index.npy")):
        BM25Retriever.load(folder, mmap=False)


def test_a_damaged_passage_block_fails_only_the_hits_in_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = many_blocks(tmp_path, monkeypatch, distinct_passages(400))
    path = folder / "passages.jsonl"
    flip_byte(path, path.stat().st_size - 10)  # inside the last passage
    retriever = BM25Retriever.load(folder)
    assert [h.passage.id for h in retriever.search("word0")] == ["p0"]
    with pytest.raises(IndexCorrupt, match=digest_error(folder, "passages.jsonl")):
        retriever.search("word399")
    with pytest.raises(IndexCorrupt, match=digest_error(folder, "passages.jsonl")):
        _ = retriever.passages


def test_many_blocks_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    passages = distinct_passages(400)
    folder = many_blocks(tmp_path, monkeypatch, passages)
    built = BM25Retriever.build(passages)
    for mmap in (True, False):
        loaded = BM25Retriever.load(folder, mmap=mmap)
        assert loaded.passages == tuple(passages)
        for query in ("word7", "shared filler", "number 399", "word123 word321"):
            assert loaded.search(query, k=10) == built.search(query, k=10)


@pytest.mark.skipif(sys.platform == "win32", reason="Windows cannot replace a folder with mapped files")
def test_a_mapped_index_keeps_answering_after_the_folder_is_replaced(saved: Path) -> None:
    mapped = BM25Retriever.load(saved)
    before = mapped.search("cats")
    BM25Retriever.build([Passage(id="x", title="", text="cats cats cats")]).save(saved)
    assert mapped.search("cats") == before  # the files it opened, not the new ones
    assert [h.passage.id for h in BM25Retriever.load(saved).search("cats")] == ["x"]


def test_threads_checking_the_same_blocks_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    passages = distinct_passages(400)
    folder = many_blocks(tmp_path, monkeypatch, passages)
    built = BM25Retriever.build(passages)
    queries = [f"word{i} number {i}" for i in range(0, 400, 7)] * 4
    loaded = BM25Retriever.load(folder)  # nothing verified yet: the threads race to verify each block
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(loaded.search, queries)) == [built.search(q) for q in queries]
