"""Checking an index's files against their block digests, at load or the first time a block is used.

Each file is hashed in blocks of ``block_size`` bytes with blake2b (in the stdlib and fast without
CPU extensions; sha256 beats it only with SHA instructions). On a 1M-passage index (865 MB; see
``benchmarks/index_load.py``) opening with mmap takes 0.07 s and hashing every file 0.7 to 1 s on
one core, and the hashing reads every page mmap would leave on disk. So files read whole at load
are verified whole at load (the bm25s JSON files, ``indptr``, the offsets, the ``.npy`` headers),
and the score arrays and ``passages.jsonl`` block by block, the first time a block is used: a
query verifies the blocks of its terms' score columns before bm25s reads them (:class:`ScoreGuard`),
a hit the blocks of its passage's line (:class:`PassageFile`). The trade-off: a damaged block
raises :class:`IndexCorrupt` from the first search that reads it, not from the load, but always
before it can change a score or send an index past an array; blocks no search reads are never
hashed, and a first query pays about 1 ms per block it touches. ``mmap=False`` reads everything,
so it verifies everything at load.

Hashing reads a block through this process's own mapping of the file, which leaves its pages in
the process's resident set; a verified block's pages are then dropped from it (``MADV_DONTNEED``,
where the platform has it; the page cache keeps them, so a later read is a minor fault). Without
that, the score arrays, which bm25s reads through a mapping of its own, would count twice in the
RSS, and the whole 1 MiB block around each passage a hit reads would stay resident: on the
1M-passage index of ``benchmarks/retrieval.py`` 500 queries left refine at 1.85x the peak RSS of
raw bm25s.

Lazy checks hash the files opened at load, the ones being scored, so a folder replaced by a later
save keeps answering from the old files; a folder replaced during the load (bm25s opens the files
again by name) fails the load rather than mixing two indexes (:func:`check_unchanged`).

Passages are parsed when a hit (or :attr:`BM25Retriever.passages`) needs them: parsing a million
JSON lines takes about 12 s, which a load cannot afford.
"""

from __future__ import annotations

import hashlib
import json
import operator
import os
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from mmap import ACCESS_READ, PAGESIZE
from mmap import mmap as MemoryMap
from pathlib import Path
from typing import overload

import numpy as np

from corpora import Passage
from refine.errors import IndexCorrupt
from refine.retrieval._damage import MANIFEST, damaged, one_line

if sys.platform != "win32":
    from mmap import MADV_DONTNEED

__all__ = ["DIGEST", "Blocks", "PassageFile", "ScoreGuard", "check_unchanged", "digest", "open_blocks"]

DIGEST = "blake2b-128"


def digest(data: bytes | memoryview) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


class Blocks:
    """A file's bytes and their block digests; a block is hashed the first time it is read."""

    __slots__ = ("_checked", "_digests", "_folder", "_map", "_view", "block_size", "inode", "name", "size")

    def __init__(
        self,
        folder: Path,
        name: str,
        data: bytes | MemoryMap,
        inode: tuple[int, int],
        block_size: int,
        digests: Sequence[bytes],
    ) -> None:
        self._folder, self.name, self.inode, self.block_size = folder, name, inode, block_size
        self._map = data if isinstance(data, MemoryMap) else None
        self._view = memoryview(data)
        self.size = len(data)
        self._digests = tuple(digests)
        self._checked = bytearray(len(self._digests))

    def check(self, start: int, end: int) -> None:
        """Verify every block that bytes ``start:end`` overlap."""
        end = min(end, self.size)
        if start >= end:
            return
        for block in range(start // self.block_size, (end - 1) // self.block_size + 1):
            if not self._checked[block]:
                self._verify(block)

    def check_all(self) -> None:
        self.check(0, self.size)

    def read(self, start: int, end: int) -> bytes:
        self.check(start, end)
        return bytes(self._view[start:end])

    def _verify(self, block: int) -> None:
        start = block * self.block_size
        end = min(start + self.block_size, self.size)
        if digest(self._view[start:end]) != self._digests[block]:
            raise damaged(
                self._folder,
                f"{self.name} bytes {start}..{end - 1} do not match their digest in {MANIFEST} (modified)",
            )
        self._checked[block] = 1  # a race only makes two threads hash the same block
        self._release(start, end)

    def _release(self, start: int, end: int) -> None:
        """Drop this mapping's pages of bytes ``start:end`` from the resident set (see the module docstring)."""
        if sys.platform != "win32" and self._map is not None:
            first = start - start % PAGESIZE  # pages it shares with a neighbour are only read in again
            self._map.madvise(MADV_DONTNEED, first, end - first)


def _inode(status: os.stat_result) -> tuple[int, int]:
    return status.st_dev, status.st_ino


def open_blocks(
    folder: Path, name: str, size: int, block_size: int, digests: Sequence[bytes], *, in_memory: bool
) -> Blocks:
    """``folder / name``, mapped (or read whole with ``in_memory``), once its size is ``size``; nothing hashed yet."""
    try:
        with (folder / name).open("rb") as file:
            inode = _inode(os.fstat(file.fileno()))
            if size and not in_memory:
                data: bytes | MemoryMap = MemoryMap(file.fileno(), 0, access=ACCESS_READ)
            else:
                data = file.read()
    except FileNotFoundError:
        raise damaged(folder, f"{name} is missing") from None
    except (OSError, ValueError) as exc:
        raise damaged(folder, f"{name} cannot be read ({one_line(exc)})") from exc
    if len(data) != size:
        raise damaged(folder, f"{name} has {len(data)} bytes but {MANIFEST} says {size} (truncated or modified)")
    return Blocks(folder, name, data, inode, block_size, digests)


def check_unchanged(folder: Path, opened: Mapping[str, Blocks]) -> None:
    """Refuse a load that a save swapped the folder under: bm25s may have read the other index's files."""
    for name, blocks in opened.items():
        try:
            same = _inode((folder / name).stat()) == blocks.inode
        except OSError:
            same = False
        if not same:
            raise IndexCorrupt(f"index folder '{folder}' was replaced by a save while it was loading; load it again")


class ScoreGuard:
    """Verifies the blocks of the score columns of query terms, before bm25s reads them."""

    def __init__(self, indptr: np.ndarray, arrays: Sequence[tuple[Blocks, int, int]]) -> None:
        self._indptr = indptr
        self._arrays = tuple(arrays)  # (blocks, where the array starts in its file, item size)

    @classmethod
    def over(cls, indptr: np.ndarray, arrays: Iterable[tuple[Blocks, np.ndarray]]) -> ScoreGuard:
        """A guard of the score arrays bm25s loaded from the files of ``arrays``' blocks."""
        mapped = []
        for blocks, array in arrays:
            if isinstance(array, np.memmap):
                blocks.check(0, array.offset)  # all of the header, whatever the block size
                mapped.append((blocks, array.offset, array.dtype.itemsize))
            else:  # in memory: read whole, so verified whole
                blocks.check_all()
        return cls(indptr, mapped)

    def check(self, term_ids: Sequence[int]) -> None:
        for term in term_ids:
            start, end = int(self._indptr[term]), int(self._indptr[term + 1])
            if end > start:
                for blocks, offset, itemsize in self._arrays:
                    blocks.check(offset + start * itemsize, offset + end * itemsize)


class PassageFile(Sequence[Passage]):
    """The passages of a saved index, each parsed from its line of ``blocks`` when it is asked for."""

    def __init__(self, folder: Path, blocks: Blocks, offsets: np.ndarray) -> None:
        self._folder = folder
        self._blocks = blocks
        self._offsets = offsets

    def __len__(self) -> int:
        return len(self._offsets) - 1

    @overload
    def __getitem__(self, index: int) -> Passage: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Passage, ...]: ...

    def __getitem__(self, index: int | slice) -> Passage | tuple[Passage, ...]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self))))
        position = operator.index(index)
        if position < 0:
            position += len(self)
        if not 0 <= position < len(self):
            raise IndexError(f"passage index {index} is out of range for {len(self)} passages")
        line = self._blocks.read(int(self._offsets[position]), int(self._offsets[position + 1]))
        try:
            return Passage.from_dict(json.loads(line))
        except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError and CorpusError are ValueErrors
            problem = f"{self._blocks.name} line {position + 1} is not a passage ({one_line(exc)})"
            raise damaged(self._folder, problem) from exc

    def __iter__(self) -> Iterator[Passage]:
        for position in range(len(self)):
            yield self[position]

    def __repr__(self) -> str:
        return f"PassageFile(folder='{self._folder}', passages={len(self)})"
