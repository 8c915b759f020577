"""Replacing an index is atomic: an interrupted or failed save leaves the old index as it was.

A save builds in ``.<name>.refine-tmp-*`` beside the target and swaps it in with renames; these
tests interrupt it at each step (an exception, Ctrl-C, SIGKILL in a real process) and check what
is left, that the old index still answers, and that the next save succeeds and tidies up.
"""

from __future__ import annotations

import errno
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import bm25s
import numpy as np
import pytest

from corpora import Passage
from refine.cli import main
from refine.errors import IndexCorrupt, RuntimeFailure, UsageError
from refine.retrieval import BM25Retriever, _store, _swap

if sys.platform != "win32":
    import fcntl

OLD = tuple(Passage(id=f"old{i}", title="", text=f"cats purr softly, story {i}") for i in range(5))
NEW = tuple(Passage(id=f"new{i}", title="", text=f"cats hiss loudly, tale {i}") for i in range(5))
locks_only = pytest.mark.skipif(sys.platform == "win32", reason="leftovers are found by flock")


def ids(folder: Path, query: str = "cats") -> list[str]:
    return [hit.passage.id for hit in BM25Retriever.load(folder).search(query, k=10)]


def siblings(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.parent.iterdir())


@pytest.fixture()
def index(tmp_path: Path) -> Path:
    """An index of OLD, alone in its parent folder."""
    folder = tmp_path / "index"
    BM25Retriever.build(OLD).save(folder)
    assert siblings(folder) == ["index"]
    return folder


@pytest.fixture(scope="module")
def new() -> BM25Retriever:
    return BM25Retriever.build(NEW)


def on_call(number: int, error: BaseException, real: Callable[..., object]) -> Callable[..., object]:
    """A stand-in for ``real`` that raises ``error`` on call ``number`` (from 1) and calls it otherwise."""
    calls = iter(range(1, 1_000_000))

    def fake(*args: object, **kwargs: object) -> object:
        if next(calls) == number:
            raise error
        return real(*args, **kwargs)

    return fake


def interruptions() -> Iterator[object]:
    to_dict = Passage.to_dict
    for error in (KeyboardInterrupt(), OSError(errno.ENOSPC, "No space left on device")):
        name = type(error).__name__
        yield pytest.param(Passage, "to_dict", on_call(3, error, to_dict), error, id=f"writing-passages-{name}")
        yield pytest.param(np, "save", on_call(2, error, np.save), error, id=f"bm25s-arrays-{name}")
        yield pytest.param(_store, "_file_entry", on_call(4, error, _store._file_entry), error, id=f"digests-{name}")


@pytest.mark.parametrize(("owner", "attribute", "fake", "error"), list(interruptions()))
def test_an_interrupted_save_keeps_the_old_index(
    index: Path,
    new: BM25Retriever,
    monkeypatch: pytest.MonkeyPatch,
    owner: object,
    attribute: str,
    fake: Callable[..., object],
    error: BaseException,
) -> None:
    monkeypatch.setattr(owner, attribute, fake)
    with pytest.raises(type(error)):
        new.save(index)
    monkeypatch.undo()
    assert siblings(index) == ["index"]  # the temporary folder is gone
    assert ids(index) == [p.id for p in OLD]
    new.save(index)
    assert ids(index) == [p.id for p in NEW]
    assert siblings(index) == ["index"]


def test_ctrl_c_between_the_two_renames_puts_the_old_index_back(
    index: Path, new: BM25Retriever, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Renames: new -> index (refused: not empty), index -> old, new -> index (interrupted), old -> index.
    monkeypatch.setattr(_swap.os, "rename", on_call(3, KeyboardInterrupt(), os.rename))
    with pytest.raises(KeyboardInterrupt):
        new.save(index)
    monkeypatch.undo()
    assert siblings(index) == ["index"]
    assert ids(index) == [p.id for p in OLD]


def test_a_kill_between_the_two_renames_names_the_old_index(index: Path, new: BM25Retriever) -> None:
    """What SIGKILL between the renames leaves: the old index and the new one, both under other names."""
    old = index.with_name(".index.refine-old-0badc0de")
    index.rename(old)
    new.save(index.with_name("built"))
    index.with_name("built").rename(index.with_name(".index.refine-tmp-12345678"))
    expected = (
        f"index folder '{index}' does not exist, but an interrupted save left the index it was replacing in "
        f"'{old}'; restore it with `mv '{old}' '{index}'`, or build a new one with `refine index PATH --out {index}`"
    )
    with pytest.raises(IndexCorrupt, match=f"^{re.escape(expected)}$"):
        BM25Retriever.load(index)
    old.rename(index)  # what the message says to do
    assert ids(index) == [p.id for p in OLD]


@locks_only
def test_the_next_save_removes_what_a_kill_between_the_renames_left(index: Path, new: BM25Retriever) -> None:
    index.rename(index.with_name(".index.refine-old-0badc0de"))
    shutil.copytree(index.with_name(".index.refine-old-0badc0de"), index.with_name(".index.refine-tmp-12345678"))
    new.save(index)
    assert siblings(index) == ["index"]
    assert ids(index) == [p.id for p in NEW]


@locks_only
def test_a_stale_temporary_folder_blocks_nothing_and_is_removed(index: Path, new: BM25Retriever) -> None:
    stale = index.with_name(".index.refine-tmp-deadbeef")
    stale.mkdir()
    (stale / "data.csc.index.npy").write_bytes(b"half an array")
    other = index.with_name(".other.refine-tmp-deadbeef")  # another target's: not ours to remove
    other.mkdir()
    assert ids(index) == [p.id for p in OLD]
    new.save(index)
    assert siblings(index) == [".other.refine-tmp-deadbeef", "index"]
    assert ids(index) == [p.id for p in NEW]


@locks_only
def test_the_folder_of_a_save_in_progress_is_left_alone(index: Path, new: BM25Retriever) -> None:
    live = index.with_name(".index.refine-tmp-feedface")
    live.mkdir()
    fd = os.open(live, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        new.save(index)
        assert siblings(index) == [".index.refine-tmp-feedface", "index"]
    finally:
        os.close(fd)
    new.save(index)
    assert siblings(index) == ["index"]


@locks_only
def test_two_saves_replacing_one_index_at_once(index: Path, new: BM25Retriever) -> None:
    fd = os.open(index, os.O_RDONLY)  # as the other save holds it while swapping
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        expected = (
            f"another save is replacing the index in '{index}' right now; "
            "wait for it to finish, or save to another folder"
        )
        with pytest.raises(RuntimeFailure, match=f"^{re.escape(expected)}$"):
            new.save(index)
    finally:
        os.close(fd)
    assert siblings(index) == ["index"]
    assert ids(index) == [p.id for p in OLD]


@pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")
def test_sigkill_during_a_save_leaves_the_old_index(index: Path, new: BM25Retriever) -> None:
    script = textwrap.dedent(
        f"""
        import sys, time
        from corpora import Passage
        from refine.retrieval import BM25Retriever, _store

        def stall(path, block_size):
            print("writing", flush=True)
            time.sleep(60)

        _store._file_entry = stall
        BM25Retriever.build([Passage(id="k", title="", text="cats")]).save({str(index)!r})
        """
    )
    with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True) as child:
        try:
            assert child.stdout is not None and child.stdout.readline() == "writing\n"
        finally:
            child.send_signal(signal.SIGKILL)
    leftovers = [name for name in siblings(index) if name != "index"]
    assert len(leftovers) == 1 and leftovers[0].startswith(".index.refine-tmp-")
    assert ids(index) == [p.id for p in OLD]
    new.save(index)
    assert siblings(index) == ["index"]


@pytest.mark.skipif(sys.platform == "win32", reason="Windows cannot replace a folder with open files")
def test_a_load_that_a_save_swaps_the_folder_under_is_refused(
    index: Path, new: BM25Retriever, monkeypatch: pytest.MonkeyPatch
) -> None:
    load = bm25s.BM25.load

    def load_during_a_save(*args: object, **kwargs: object) -> bm25s.BM25:
        new.save(index)  # between refine opening the files and bm25s opening them again
        return load(*args, **kwargs)

    monkeypatch.setattr(bm25s.BM25, "load", load_during_a_save)
    expected = f"index folder '{index}' was replaced by a save while it was loading; load it again"
    with pytest.raises(IndexCorrupt, match=f"^{re.escape(expected)}$"):
        BM25Retriever.load(index)
    monkeypatch.undo()
    assert ids(index) == [p.id for p in NEW]


# --- what a save refuses to replace ----------------------------------------------------------------


def test_a_folder_without_an_index_is_refused_with_the_fix(tmp_path: Path, new: BM25Retriever) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    for name in ("a.txt", "b.txt", "c.txt", "d.txt"):
        (folder / name).write_text("mine")
    expected = (
        f"folder='{folder}' is not empty and holds no refine index (it holds a.txt, b.txt, c.txt and 1 more); "
        f"save the index to a new or empty folder, or delete this one (`rm -r '{folder}'`) "
        "if it only holds a damaged index"
    )
    with pytest.raises(UsageError, match=f"^{re.escape(expected)}$"):
        new.save(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["a.txt", "b.txt", "c.txt", "d.txt"]
    assert siblings(folder) == ["mine"]


def test_other_files_in_an_index_folder_are_not_deleted(index: Path, new: BM25Retriever) -> None:
    (index / "notes.txt").write_text("mine")
    expected = (
        f"folder='{index}' holds a refine index and also notes.txt, which replacing the index would delete; "
        "move them out of the folder, or save the index to another folder"
    )
    with pytest.raises(UsageError, match=f"^{re.escape(expected)}$"):
        new.save(index)
    assert (index / "notes.txt").read_text() == "mine"
    assert ids(index) == [p.id for p in OLD]


def test_an_old_index_without_a_manifest_is_replaced_only_after_it_is_deleted(index: Path, new: BM25Retriever) -> None:
    """What refine before the atomic save left after Ctrl-C: the arrays, but no manifest."""
    (index / "refine-index.json").unlink()
    with pytest.raises(UsageError, match=re.escape(f"delete this one (`rm -r '{index}'`)")):
        new.save(index)
    shutil.rmtree(index)
    new.save(index)
    assert ids(index) == [p.id for p in NEW]


def test_an_empty_folder_and_a_missing_parent_are_fine(tmp_path: Path, new: BM25Retriever) -> None:
    (tmp_path / "empty").mkdir()
    new.save(tmp_path / "empty")
    new.save(tmp_path / "a" / "b" / "index")
    assert ids(tmp_path / "empty") == ids(tmp_path / "a" / "b" / "index") == [p.id for p in NEW]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "empty"]


def test_the_current_folder_is_refused(tmp_path: Path, new: BM25Retriever, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    expected = (
        "folder='.' is the current folder, and saving replaces the whole folder; "
        "save the index to a folder inside it, such as --out index"
    )
    with pytest.raises(UsageError, match=f"^{re.escape(expected)}$"):
        new.save(".")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges")
def test_a_symlinked_index_is_replaced_where_it_points(index: Path, new: BM25Retriever) -> None:
    link = index.with_name("link")
    link.symlink_to(index, target_is_directory=True)
    new.save(link)
    assert link.is_symlink() and link.resolve() == index.resolve()
    assert ids(index) == [p.id for p in NEW]
    assert siblings(index) == ["index", "link"]


# --- the command line --------------------------------------------------------------------------------


def test_refine_index_interrupted_keeps_the_old_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "cats.md").write_text("# Cats\n\nCats purr when they are content.\n")
    (docs / "dogs.txt").write_text("Dogs bark at strangers.\n")
    out = tmp_path / "index"
    assert main(["index", str(docs), "--out", str(out)], out=io.StringIO()) == 0
    (docs / "owls.txt").write_text("Owls hunt at night.\n")
    monkeypatch.setattr(Passage, "to_dict", on_call(2, KeyboardInterrupt(), Passage.to_dict))
    assert main(["index", str(docs), "--out", str(out)], out=io.StringIO()) == 130
    monkeypatch.undo()
    assert capsys.readouterr().err.endswith("refine: interrupted\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["docs", "index"]
    assert len(BM25Retriever.load(out)) == 2
    assert main(["index", str(docs), "--out", str(out)], out=io.StringIO()) == 0
    assert len(BM25Retriever.load(out)) == 3
