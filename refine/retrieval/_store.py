"""Reading and writing an index folder: its format, and the checks of every file before it is used.

A folder holds bm25s's own files, ``passages.jsonl`` (one :meth:`Passage.to_dict` per line),
``passages.offsets.npy`` (where each line starts, then the file's size) and the manifest
``refine-index.json``::

    {"format": "refine-bm25", "version": 2, "count": N,
     "stemmer": "english", "stopwords": "en", "token_pattern": "...", "bm25s_version": "...",
     "keep": ["with", ...], "digest": "blake2b-128", "block_size": 1048576,
     "files": {"<name>": {"size": <bytes>, "blocks": ["<hex digest of each block_size bytes>", ...]}, ...},
     "source": {"corpus": "python-docs", "fingerprint": "..."}}

``keep`` (the protected words, see :mod:`refine.retrieval._tokens`) is absent from indexes written
before it existed, which protected nothing; ``source`` is there only for an index built from a
shipped corpus, and names what it was built from, so a cached index can tell it is out of date.

Version 1 (sizes and a sha256 of passages.jsonl, no digests of the arrays) is refused with the
rebuild hint.

**Saving** writes the whole index into a new sibling folder and moves it into place with renames,
so an error, Ctrl-C or kill leaves the old index readable (:mod:`refine.retrieval._swap` lists
what each interruption leaves, and how the next save tidies up).

**Reading** checks the manifest, every file's size, then its bytes against the manifest's block
digests: files read whole at load are verified at load, the score arrays and ``passages.jsonl``
block by block the first time a search reads them (:mod:`refine.retrieval._blocks` says why).
Every problem found while reading raises :class:`IndexCorrupt` with one line naming the folder,
the file, the problem and the fix.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bm25s
import numpy as np

from corpora import Passage
from refine.errors import IndexCorrupt, UsageError
from refine.retrieval._blocks import DIGEST, Blocks, PassageFile, ScoreGuard, check_unchanged, digest, open_blocks
from refine.retrieval._damage import MANIFEST, damaged, one_line
from refine.retrieval._swap import REPLACED, leftovers, replace_folder
from refine.retrieval._tokens import TokenConfig

__all__ = ["FORMAT", "MANIFEST", "PASSAGES", "VERSION", "StoredIndex", "read_index", "write_index"]

FORMAT = "refine-bm25"
VERSION = 2
PASSAGES = "passages.jsonl"
OFFSETS = "passages.offsets.npy"
# A first query hashes about a millisecond per block it touches.
BLOCK_SIZE = 1 << 20
# What BM25.save writes for the "lucene" method (BM25L/BM25+ would add a non-occurrence array).
DATA, INDICES = "data.csc.index.npy", "indices.csc.index.npy"
BM25S_FILES = (
    DATA,
    INDICES,
    "indptr.csc.index.npy",
    "vocab.index.json",
    "params.index.json",
)
FILES = (*BM25S_FILES, PASSAGES, OFFSETS)
# Read piecewise through mmap, so verified block by block; every other file is verified at load.
LAZY = frozenset({DATA, INDICES, PASSAGES})
# Every name a save of version 1 or 2 leaves in its folder; a save deletes only these.
_OURS = frozenset({*FILES, MANIFEST, MANIFEST + ".partial"})
# What bm25s and numpy raise on missing, truncated or malformed files.
_LOAD_ERRORS = (OSError, EOFError, ValueError, TypeError, KeyError, ImportError)


# --- writing -------------------------------------------------------------------------------------


def _listing(names: Sequence[str]) -> str:
    shown = ", ".join(names[:3])
    return shown if len(names) <= 3 else f"{shown} and {len(names) - 3} more"


def _check_target(folder: Path, target: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"folder='{folder}' is a file; save the index to a new or empty folder")
    if target == Path.cwd():  # renamed away, it would leave this process and the shell in a deleted folder
        raise UsageError(
            f"folder='{folder}' is the current folder, and saving replaces the whole folder; "
            "save the index to a folder inside it, such as --out index"
        )
    names = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    if names and MANIFEST not in names:
        raise UsageError(
            f"folder='{folder}' is not empty and holds no refine index (it holds {_listing(names)}); "
            f"save the index to a new or empty folder, or delete this one (`rm -r '{folder}'`) "
            "if it only holds a damaged index"
        )
    foreign = [name for name in names if name not in _OURS]
    if foreign:
        raise UsageError(
            f"folder='{folder}' holds a refine index and also {_listing(foreign)}, which replacing the "
            "index would delete; move them out of the folder, or save the index to another folder"
        )


def _write_passages(path: Path, passages: Sequence[Passage]) -> np.ndarray:
    """Write one passage per line; return where each line starts, then the file's size."""
    offsets = [0]
    with path.open("wb") as file:
        for passage in passages:
            line = (json.dumps(passage.to_dict(), ensure_ascii=False) + "\n").encode("utf-8")
            file.write(line)
            offsets.append(offsets[-1] + len(line))
    return np.array(offsets, dtype=np.int64)


def _file_entry(path: Path, block_size: int) -> dict[str, Any]:
    blocks = []
    with path.open("rb") as file:
        while block := file.read(block_size):
            blocks.append(digest(block).hex())
    return {"size": path.stat().st_size, "blocks": blocks}


def _write_files(
    folder: Path,
    bm25: bm25s.BM25,
    passages: Sequence[Passage],
    config: TokenConfig,
    source: Mapping[str, str] | None,
) -> int:
    bm25.save(folder, show_progress=False)
    np.save(folder / OFFSETS, _write_passages(folder / PASSAGES, passages))
    files = {name: _file_entry(folder / name, BLOCK_SIZE) for name in FILES}
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "count": len(passages),
        **config.to_json(),
        "bm25s_version": bm25s.__version__,
        "digest": DIGEST,
        "block_size": BLOCK_SIZE,
        "files": files,
        **({"source": dict(source)} if source is not None else {}),
    }
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    (folder / MANIFEST).write_text(text, encoding="utf-8")  # last: a folder without it is unfinished
    return sum(entry["size"] for entry in files.values()) + len(text.encode("utf-8"))


def write_index(
    folder: Path,
    bm25: bm25s.BM25,
    passages: Sequence[Passage],
    config: TokenConfig,
    *,
    source: Mapping[str, str] | None = None,
) -> int:
    """Write an index to ``folder``, replacing one there only once the new one is complete.

    Returns the index's size in bytes.
    """
    return replace_folder(
        folder, lambda staged: _write_files(staged, bm25, passages, config, source), check=_check_target
    )


# --- reading -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredIndex:
    bm25: bm25s.BM25
    passages: PassageFile
    config: TokenConfig
    scores: ScoreGuard
    source: Mapping[str, str] | None


def _read_manifest(folder: Path) -> dict[str, Any]:
    if not folder.is_dir():
        if folder.exists():
            raise IndexCorrupt(
                f"index folder '{folder}' is a file, not a folder; build one with `refine index PATH --out DIR`"
            )
        old = [p for p in leftovers(folder.resolve(), REPLACED) if (p / MANIFEST).is_file()]
        if old:
            raise IndexCorrupt(
                f"index folder '{folder}' does not exist, but an interrupted save left the index it was "
                f"replacing in '{old[-1]}'; restore it with `mv '{old[-1]}' '{folder}'`, "
                f"or build a new one with `refine index PATH --out {folder}`"
            )
        raise IndexCorrupt(f"index folder '{folder}' does not exist; build one with `refine index PATH --out DIR`")
    path = folder / MANIFEST
    if not path.is_file():
        raise IndexCorrupt(
            f"'{folder}' is not a refine index (no {MANIFEST}); build one with `refine index PATH --out DIR`"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise damaged(folder, f"{MANIFEST} cannot be read ({one_line(exc)})") from exc
    if not isinstance(manifest, dict):
        raise damaged(folder, f"{MANIFEST} holds {type(manifest).__name__}, not a JSON object")
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
        raise damaged(folder, f"{MANIFEST} has {name}={value!r}, expected a {kind.__name__}")
    return value


def _entry(folder: Path, files: Mapping[str, Any], name: str, block_size: int) -> tuple[int, list[bytes]]:
    """The size and block digests the manifest lists for ``name``."""
    entry = files.get(name)
    size = entry.get("size") if isinstance(entry, dict) else None
    blocks = entry.get("blocks") if isinstance(entry, dict) else None
    if isinstance(size, int) and isinstance(blocks, list) and len(blocks) == -(-size // block_size):
        try:
            return size, [bytes.fromhex(block) for block in blocks]
        except (TypeError, ValueError):
            pass
    raise damaged(folder, f"{MANIFEST} does not list the size and block digests of {name}")


def _open_files(folder: Path, manifest: Mapping[str, Any], *, mmap: bool) -> dict[str, Blocks]:
    if manifest.get("digest") != DIGEST:
        raise damaged(folder, f"{MANIFEST} has digest={manifest.get('digest')!r}, expected {DIGEST!r}")
    block_size = _field(folder, manifest, "block_size", int)
    if block_size < 1:
        raise damaged(folder, f"{MANIFEST} has block_size={block_size}, expected a positive int")
    files = _field(folder, manifest, "files", dict)
    entries = {name: _entry(folder, files, name, block_size) for name in FILES}
    for name, (size, _) in entries.items():  # every size before any content: a short file says so
        try:
            found = (folder / name).stat().st_size
        except OSError:
            raise damaged(folder, f"{name} is missing") from None
        if found != size:
            raise damaged(folder, f"{name} has {found} bytes but {MANIFEST} says {size} (truncated or modified)")
    opened = {}
    for name, (size, digests) in entries.items():
        opened[name] = open_blocks(folder, name, size, block_size, digests, in_memory=name == PASSAGES and not mmap)
        if not mmap or name not in LAZY:
            opened[name].check_all()
        elif name != PASSAGES:
            opened[name].check(0, 1)  # the block with the .npy header, before numpy parses it
    return opened


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
        raise damaged(folder, f"bm25s cannot load it ({one_line(exc)})") from exc
    if problem is not None:
        raise damaged(folder, problem)
    return bm25


def _passage_file(folder: Path, opened: Mapping[str, Blocks], count: int) -> PassageFile:
    try:
        offsets = np.load(io.BytesIO(opened[OFFSETS].read(0, opened[OFFSETS].size)), allow_pickle=False)
    except _LOAD_ERRORS as exc:
        raise damaged(folder, f"{OFFSETS} cannot be read ({one_line(exc)})") from exc
    if offsets.ndim != 1 or offsets.dtype.kind != "i" or len(offsets) != count + 1:
        raise damaged(folder, f"{OFFSETS} holds {offsets.dtype} {offsets.shape} for count={count} passages")
    size = opened[PASSAGES].size
    if offsets[0] != 0 or offsets[-1] != size or np.any(np.diff(offsets) <= 0):
        raise damaged(folder, f"{OFFSETS} does not split the {size} bytes of {PASSAGES} into {count} lines")
    return PassageFile(folder, opened[PASSAGES], offsets)


def read_index(folder: Path, *, mmap: bool) -> StoredIndex:
    """Read and check an index folder written by :func:`write_index`."""
    manifest = _read_manifest(folder)
    count = _field(folder, manifest, "count", int)
    try:
        config = TokenConfig.from_json(manifest)
    except (KeyError, TypeError, ValueError) as exc:
        raise damaged(folder, f"{MANIFEST} has a bad tokenizer setting ({one_line(exc)})") from exc
    source = manifest.get("source")
    if source is not None and not (
        isinstance(source, dict) and all(isinstance(v, str) for v in (*source, *source.values()))
    ):
        raise damaged(folder, f"{MANIFEST} has source={source!r}, expected an object of strings")
    opened = _open_files(folder, manifest, mmap=mmap)
    bm25 = _load_bm25(folder, count, mmap=mmap)  # bm25s opens the files again, by name
    check_unchanged(folder, opened)
    arrays = [(opened[name], bm25.scores[key]) for key, name in (("data", DATA), ("indices", INDICES))]
    scores = ScoreGuard.over(bm25.scores["indptr"], arrays)
    passages = _passage_file(folder, opened, count)
    return StoredIndex(bm25=bm25, passages=passages, config=config, scores=scores, source=source)
