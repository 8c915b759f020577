"""BM25Retriever.shipped: a shipped corpus's index is built once, cached on disk, and rebuilt when stale or damaged."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

import refine.retrieval._bm25 as bm25_module
from corpora import Passage
from corpora._registry import ShippedCorpus, shipped_corpus
from corpora.errors import CorpusError
from refine.errors import UsageError
from refine.retrieval import BM25Retriever
from refine.retrieval._cache import CACHE_ENV_VAR, cache_root

PASSAGES = (
    Passage(id="tiny:with#0", title='The "with" statement', text="The with statement uses a context manager."),
    Passage(id="tiny:pass#0", title='The "pass" statement', text="The pass statement does nothing at all."),
)


class Tiny:
    """A shipped corpus of two passages that counts its builds; its fingerprint can be changed."""

    def __init__(self) -> None:
        self.builds = 0
        self.version = "1"

    def load(self, **_: object) -> tuple[Passage, ...]:
        self.builds += 1
        return PASSAGES

    def corpus(self) -> ShippedCorpus:
        return ShippedCorpus(
            name="tiny",
            load=self.load,
            fingerprint=lambda **_: f"tiny-{self.version}",
            names=lambda passages: ("with",),
            question_words=("what", "does"),
        )


@pytest.fixture()
def tiny(monkeypatch: pytest.MonkeyPatch) -> Tiny:
    corpus = Tiny()
    monkeypatch.setattr(bm25_module, "shipped_corpus", lambda name: corpus.corpus())
    return corpus


def cached_folders(root: Path) -> list[Path]:
    return sorted((root / "indexes").iterdir())


def test_built_once_then_loaded_from_the_cache(tmp_path: Path, tiny: Tiny) -> None:
    first = BM25Retriever.shipped("tiny", cache_dir=tmp_path)
    second = BM25Retriever.shipped("tiny", cache_dir=tmp_path)
    assert tiny.builds == 1
    assert [h.passage.id for h in second.search("What does with do?")] == ["tiny:with#0"]
    assert second.passages == first.passages
    (folder,) = cached_folders(tmp_path)
    assert folder.name.startswith("tiny-")
    manifest = json.loads((folder / "refine-index.json").read_text())
    assert manifest["source"]["corpus"] == "tiny" and folder.name == f"tiny-{manifest['source']['fingerprint'][:16]}"
    assert manifest["keep"] == ["with"] and "what" in manifest["stopwords"]


def test_another_fingerprint_gets_another_folder(tmp_path: Path, tiny: Tiny) -> None:
    BM25Retriever.shipped("tiny", cache_dir=tmp_path)
    tiny.version = "2"  # another Python, say
    BM25Retriever.shipped("tiny", cache_dir=tmp_path)
    BM25Retriever.shipped("tiny", cache_dir=tmp_path)
    assert tiny.builds == 2
    assert len(cached_folders(tmp_path)) == 2


@pytest.mark.parametrize("name", ["data.csc.index.npy", "passages.jsonl", "vocab.index.json"])
def test_a_damaged_cache_is_rebuilt(tmp_path: Path, tiny: Tiny, name: str, caplog: pytest.LogCaptureFixture) -> None:
    BM25Retriever.shipped("tiny", cache_dir=tmp_path)
    (folder,) = cached_folders(tmp_path)
    path = folder / name
    data = bytearray(path.read_bytes())
    data[-2] ^= 0x01
    path.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="refine.retrieval._bm25"):
        rebuilt = BM25Retriever.shipped("tiny", cache_dir=tmp_path)
    assert tiny.builds == 2
    assert f"the cached index is unusable, rebuilding it: index folder '{folder}' is damaged: {name}" in caplog.text
    assert [h.passage.id for h in rebuilt.search("with")] == ["tiny:with#0"]
    BM25Retriever.shipped("tiny", cache_dir=tmp_path)  # the rebuilt cache is intact
    assert tiny.builds == 2


def test_a_cache_from_another_source_is_rebuilt(tmp_path: Path, tiny: Tiny, caplog: pytest.LogCaptureFixture) -> None:
    BM25Retriever.shipped("tiny", cache_dir=tmp_path)
    (folder,) = cached_folders(tmp_path)
    path = folder / "refine-index.json"
    manifest = json.loads(path.read_text())
    manifest["source"]["fingerprint"] = "0" * 32
    path.write_text(json.dumps(manifest))
    with caplog.at_level(logging.WARNING, logger="refine.retrieval._bm25"):
        BM25Retriever.shipped("tiny", cache_dir=tmp_path)
    assert tiny.builds == 2
    assert "was built from" in caplog.text and "rebuilding it" in caplog.text


def test_an_unwritable_cache_only_costs_a_rebuild(tmp_path: Path, tiny: Tiny, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with caplog.at_level(logging.WARNING, logger="refine.retrieval._bm25"):
        retriever = BM25Retriever.shipped("tiny", cache_dir=blocker)
        BM25Retriever.shipped("tiny", cache_dir=blocker)
    assert len(retriever) == 2 and tiny.builds == 2
    assert "could not cache the tiny index in" in caplog.text


def test_no_half_written_cache_is_left(tmp_path: Path, tiny: Tiny) -> None:
    BM25Retriever.shipped("tiny", cache_dir=tmp_path)
    assert [p.name for p in (tmp_path / "indexes").iterdir() if p.name.startswith(".")] == []


# --- where the cache is ------------------------------------------------------------------------------


def test_the_env_var_names_the_cache_and_the_argument_wins(
    tmp_path: Path, tiny: Tiny, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path / "from-env"))
    BM25Retriever.shipped("tiny")
    assert len(cached_folders(tmp_path / "from-env")) == 1
    BM25Retriever.shipped("tiny", cache_dir=tmp_path / "given")
    assert len(cached_folders(tmp_path / "given")) == 1


def test_the_default_cache_is_the_user_cache_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CACHE_ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr("sys.platform", "linux")
    assert cache_root() == tmp_path / "xdg" / "refine"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_root() == tmp_path / "home" / ".cache" / "refine"
    monkeypatch.setattr("sys.platform", "darwin")
    assert cache_root() == tmp_path / "home" / "Library" / "Caches" / "refine"


@pytest.mark.parametrize("cache_dir", ["", 3])
def test_a_bad_cache_dir_is_refused(cache_dir: object) -> None:
    with pytest.raises(UsageError, match="must be a folder path, or None for the user cache folder"):
        cache_root(cache_dir)  # type: ignore[arg-type]


def test_an_unknown_corpus_is_refused() -> None:
    with pytest.raises(CorpusError, match=r"^name='nope' is not a shipped corpus; use one of python-docs$"):
        shipped_corpus("nope")
    with pytest.raises(CorpusError, match="is not a shipped corpus"):
        BM25Retriever.shipped("nope")
