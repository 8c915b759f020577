"""The one-line error for a damaged index folder, shared by the modules that read and replace one.

Its own module so that :mod:`refine.retrieval._blocks` and :mod:`refine.retrieval._swap` can
name problems the way :mod:`refine.retrieval._store` does without importing it.
"""

from __future__ import annotations

from pathlib import Path

from refine.errors import IndexCorrupt

__all__ = ["MANIFEST", "damaged", "one_line"]

# Here rather than in _store because the digest errors of _blocks name it too.
MANIFEST = "refine-index.json"


def one_line(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())


def damaged(folder: Path, problem: str) -> IndexCorrupt:
    return IndexCorrupt(
        f"index folder '{folder}' is damaged: {problem}; rebuild it with `refine index PATH --out {folder}`"
    )
