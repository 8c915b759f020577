"""Reading and writing an index folder, and telling a damaged or foreign one apart.

A folder holds bm25s's own files, ``passages.jsonl`` (one :meth:`Passage.to_dict` per line) and
the manifest ``refine-index.json``, written last so an interrupted save leaves no manifest::

    {"format": "refine-bm25", "version": 1, "count": N, "fingerprint": "<sha256 of passages.jsonl>",
     "stemmer": "english", "stopwords": "en", "token_pattern": "...", "bm25s_version": "...",
     "files": {"<name>": <size in bytes>, ...}}

Every problem found while reading raises :class:`IndexCorrupt` with one line naming the folder,
the problem and the fix.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bm25s

from corpora import Passage
from refine.errors import IndexCorrupt, UsageError
from refine.retrieval._tokens import TokenConfig

__all__ = ["FORMAT", "MANIFEST", "PASSAGES", "VERSION", "StoredIndex", "read_index", "write_index"]

logger = logging.getLogger(__name__)

FORMAT = "refine-bm25"
VERSION = 1
MANIFEST = "refine-index.json"
PASSAGES = "passages.jsonl"
# What BM25.save writes for the "lucene" method (BM25L/BM25+ would add a non-occurrence array).
BM25S_FILES = (
    "data.csc.index.npy",
    "indices.csc.index.npy",
    "indptr.csc.index.npy",
    "vocab.index.json",
    "params.index.json",
)
# What bm25s and numpy raise on missing, truncated or malformed files.
_LOAD_ERRORS = (OSError, EOFError, ValueError, TypeError, KeyError, ImportError)


@dataclass(frozen=True, slots=True)
class StoredIndex:
    bm25: bm25s.BM25
    passages: tuple[Passage, ...]
    config: TokenConfig


def _one_line(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())


def _damaged(folder: Path, problem: str) -> IndexCorrupt:
    return IndexCorrupt(
        f"index folder '{folder}' is damaged: {problem}; rebuild it with `refine index PATH --out {folder}`"
    )


# --- writing -------------------------------------------------------------------------------------


def _check_target(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"folder='{folder}' is a file; save the index to a new or empty folder")
    if folder.is_dir() and not (folder / MANIFEST).is_file() and any(folder.iterdir()):
        raise UsageError(
            f"folder='{folder}' is not empty and holds no refine index; "
            "save the index to a new or empty folder so no other files are overwritten"
        )


def _write_passages(path: Path, passages: Sequence[Passage]) -> str:
    digest = hashlib.sha256()
    with path.open("wb") as file:
        for passage in passages:
            line = (json.dumps(passage.to_dict(), ensure_ascii=False) + "\n").encode("utf-8")
            digest.update(line)
            file.write(line)
    return digest.hexdigest()


def write_index(folder: Path, bm25: bm25s.BM25, passages: Sequence[Passage], config: TokenConfig) -> int:
    """Write an index folder (creating it) and return its size in bytes."""
    _check_target(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MANIFEST).unlink(missing_ok=True)  # until the new manifest exists, the folder is unusable
    bm25.save(folder, show_progress=False)
    fingerprint = _write_passages(folder / PASSAGES, passages)
    files = {name: (folder / name).stat().st_size for name in (*BM25S_FILES, PASSAGES)}
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "count": len(passages),
        "fingerprint": fingerprint,
        **config.to_json(),
        "bm25s_version": bm25s.__version__,
        "files": files,
    }
    partial = folder / (MANIFEST + ".partial")
    partial.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(partial, folder / MANIFEST)
    return sum(files.values()) + (folder / MANIFEST).stat().st_size


# --- reading -------------------------------------------------------------------------------------


def _read_manifest(folder: Path) -> dict[str, Any]:
    if not folder.is_dir():
        problem = "is a file, not a folder" if folder.exists() else "does not exist"
        raise IndexCorrupt(f"index folder '{folder}' {problem}; build one with `refine index PATH --out DIR`")
    path = folder / MANIFEST
    if not path.is_file():
        raise IndexCorrupt(
            f"'{folder}' is not a refine index (no {MANIFEST}); build one with `refine index PATH --out DIR`"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _damaged(folder, f"{MANIFEST} cannot be read ({_one_line(exc)})") from exc
    if not isinstance(manifest, dict):
        raise _damaged(folder, f"{MANIFEST} holds {type(manifest).__name__}, not a JSON object")
    if manifest.get("format") != FORMAT:
        found = manifest.get("format")
        raise IndexCorrupt(
            f"'{folder}' is not a refine BM25 index (format={found!r}, expected {FORMAT!r}); "
            f"rebuild it with `refine index PATH --out {folder}`"
        )
    if manifest.get("version") != VERSION:
        raise IndexCorrupt(
            f"index folder '{folder}' has version={manifest.get('version')!r}, but this refine reads "
            f"version {VERSION}; rebuild it with `refine index PATH --out {folder}`"
        )
    return manifest


def _field(folder: Path, manifest: Mapping[str, Any], name: str, kind: type) -> Any:
    value = manifest.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise _damaged(folder, f"{MANIFEST} has {name}={value!r}, expected a {kind.__name__}")
    return value


def _check_files(folder: Path, files: Mapping[str, Any]) -> None:
    for name in (*BM25S_FILES, PASSAGES):
        expected = files.get(name)
        if not isinstance(expected, int):
            raise _damaged(folder, f"{MANIFEST} does not list the size of {name}")
        try:
            size = (folder / name).stat().st_size
        except OSError:
            raise _damaged(folder, f"{name} is missing") from None
        if size != expected:
            raise _damaged(folder, f"{name} has {size} bytes but {MANIFEST} says {expected} (truncated or modified)")


def _read_passages(folder: Path, fingerprint: str, count: int) -> tuple[Passage, ...]:
    try:
        data = (folder / PASSAGES).read_bytes()
    except OSError as exc:
        raise _damaged(folder, f"{PASSAGES} cannot be read ({_one_line(exc)})") from exc
    if hashlib.sha256(data).hexdigest() != fingerprint:
        raise _damaged(folder, f"{PASSAGES} does not match the fingerprint in {MANIFEST} (edited or replaced)")
    # Split on b"\n" only: str.splitlines would also split at U+2028 and friends inside a passage.
    lines = data.split(b"\n")
    if lines[-1] != b"":
        raise _damaged(folder, f"{PASSAGES} does not end with a newline (truncated)")
    passages = []
    for number, line in enumerate(lines[:-1], start=1):
        try:
            passages.append(Passage.from_dict(json.loads(line)))
        except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError and CorpusError are ValueErrors
            raise _damaged(folder, f"{PASSAGES} line {number} is not a passage ({_one_line(exc)})") from exc
    if len(passages) != count:
        raise _damaged(folder, f"{PASSAGES} holds {len(passages)} passages but {MANIFEST} says count={count}")
    return tuple(passages)


def _load_bm25(folder: Path, count: int, *, mmap: bool) -> bm25s.BM25:
    try:
        bm25 = bm25s.BM25.load(folder, mmap=mmap, load_corpus=False, show_progress=False)
        num_docs = bm25.scores["num_docs"]
        indptr, indices, data = bm25.scores["indptr"], bm25.scores["indices"], bm25.scores["data"]
        vocab: dict[str, Any] = bm25.vocab_dict
        ids = list(vocab.values())
        problem = None
        if num_docs != count:
            problem = f"the BM25 index holds num_docs={num_docs} but {MANIFEST} says count={count}"
        elif indptr.ndim != 1 or len(indptr) != len(vocab) + 1:
            problem = f"indptr has shape {indptr.shape} for {len(vocab)} terms"
        elif data.shape != indices.shape or int(indptr[-1]) != len(indices):
            problem = f"data {data.shape}, indices {indices.shape} and indptr[-1]={indptr[-1]} disagree"
        elif any(not isinstance(i, int) for i in ids) or (ids and not 0 <= min(ids) <= max(ids) < len(vocab)):
            problem = "vocab.index.json maps terms to ids outside the index"
    except _LOAD_ERRORS as exc:
        raise _damaged(folder, f"bm25s cannot load it ({_one_line(exc)})") from exc
    if problem is not None:
        raise _damaged(folder, problem)
    return bm25


def read_index(folder: Path, *, mmap: bool) -> StoredIndex:
    """Read and check an index folder written by :func:`write_index`."""
    manifest = _read_manifest(folder)
    count = _field(folder, manifest, "count", int)
    fingerprint = _field(folder, manifest, "fingerprint", str)
    _check_files(folder, _field(folder, manifest, "files", dict))
    try:
        config = TokenConfig.from_json(manifest)
    except (KeyError, TypeError, ValueError) as exc:
        raise _damaged(folder, f"{MANIFEST} has a bad tokenizer setting ({_one_line(exc)})") from exc
    passages = _read_passages(folder, fingerprint, count)
    bm25 = _load_bm25(folder, count, mmap=mmap)
    return StoredIndex(bm25=bm25, passages=passages, config=config)
