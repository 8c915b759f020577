"""BM25 retrieval over passages: build or load an index, then search it.

>>> from corpora import Passage
>>> from refine.retrieval import BM25Retriever
>>> passages = [Passage.create("Cats", "Cats purr."), Passage.create("Dogs", "Dogs bark.")]
>>> retriever = BM25Retriever.build(passages)
>>> [hit.passage.title for hit in retriever.search("why do cats purr?")]
['Cats']

:class:`BM25Retriever` stands on bm25s, numpy and scipy, which take a few tenths of a second to
import; it is imported when first asked for (PEP 562), so ``import refine``, or a program that
only takes :class:`Hit` values, does not load them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from refine.retrieval._hit import Hit

if TYPE_CHECKING:
    from refine.retrieval._bm25 import BM25Retriever

__all__ = ["BM25Retriever", "Hit"]


# Type checkers read the import of BM25Retriever above instead, so to them a misspelt name is
# still an error rather than an `object` from this hook.
if not TYPE_CHECKING:

    def __getattr__(name: str) -> object:
        if name == "BM25Retriever":
            from refine.retrieval._bm25 import BM25Retriever  # heavy: bm25s, numpy, scipy

            return BM25Retriever
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
