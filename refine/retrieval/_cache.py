"""Where indexes of the shipped corpora are cached, and how a cached one is known to be current.

Building ``python-docs`` (rendering the standard library's ``pydoc`` text, splitting it, indexing
it) takes over a second; loading its saved index takes milliseconds. So
:meth:`BM25Retriever.shipped` saves the index it builds in the cache folder and loads it from there
next time. The folder is ``$REFINE_CACHE_DIR`` when set, else the user cache folder
(``$XDG_CACHE_HOME/refine`` or ``~/.cache/refine``; ``~/Library/Caches/refine`` on macOS;
``%LOCALAPPDATA%\\refine\\Cache`` on Windows), and the index is ``indexes/<corpus>-<fingerprint>``
inside it.

The fingerprint (:func:`index_source`) joins the corpus's own (the Python build, for python-docs)
with everything that decides the index: its format version, the tokenizer settings, the versions
of bm25s and PyStemmer and the source of the modules that turn text into terms. Another Python or
another refine gets another folder; the manifest records the fingerprint too (``source``), and an
index whose manifest disagrees, or that fails its digests, is rebuilt over. A cached index is
written like any other (:func:`refine.retrieval._store.write_index`: a complete new folder renamed
into place), so an interrupted build never leaves a half-written cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path

import bm25s

from corpora import ShippedCorpus
from refine.errors import UsageError
from refine.retrieval._store import FORMAT, VERSION
from refine.retrieval._tokens import TokenConfig

__all__ = ["CACHE_ENV_VAR", "cache_folder", "cache_root", "index_source"]

CACHE_ENV_VAR = "REFINE_CACHE_DIR"
# The modules whose code decides which terms an index holds.
_TERM_CODE = ("_tokens.py", "_bm25.py")


def cache_root(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """``cache_dir`` if given, else ``$REFINE_CACHE_DIR``, else the user cache folder of refine."""
    if cache_dir is not None:
        if not isinstance(cache_dir, (str, os.PathLike)) or not os.fspath(cache_dir):
            raise UsageError(f"cache_dir={cache_dir!r} must be a folder path, or None for the user cache folder")
        return Path(cache_dir).expanduser()
    configured = os.environ.get(CACHE_ENV_VAR)
    if configured:
        return Path(configured).expanduser()
    home = Path.home()
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA")
        return (Path(local) if local else home / "AppData" / "Local") / "refine" / "Cache"
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / "refine"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg and os.path.isabs(xdg) else home / ".cache") / "refine"


def index_source(corpus: ShippedCorpus, config: TokenConfig) -> dict[str, str]:
    """What the manifest of an index of ``corpus`` built under ``config`` records as its ``source``.

    ``config`` without its protected words: those follow from the passages, which the corpus's
    fingerprint already covers.
    """
    settings = config.to_json()
    del settings["keep"]
    key = {
        "corpus": corpus.fingerprint(),
        "format": FORMAT,
        "version": VERSION,
        "tokens": settings,
        "bm25s": bm25s.__version__,
        "pystemmer": _version("PyStemmer"),
        "code": _code_digest(),
    }
    fingerprint = hashlib.blake2b(json.dumps(key, sort_keys=True).encode(), digest_size=16).hexdigest()
    return {"corpus": corpus.name, "fingerprint": fingerprint}


def cache_folder(root: Path, source: Mapping[str, str]) -> Path:
    """The folder under ``root`` that holds the index ``source`` describes."""
    return root / "indexes" / f"{source['corpus']}-{source['fingerprint'][:16]}"


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"


def _code_digest() -> str:
    digest = hashlib.blake2b(digest_size=16)
    here = Path(__file__).parent
    for name in _TERM_CODE:
        try:
            digest.update((here / name).read_bytes())
        except OSError:  # no source next to the bytecode: the format version alone decides
            digest.update(name.encode())
    return digest.hexdigest()
