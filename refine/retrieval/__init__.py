"""BM25 retrieval over passages: build or load an index, then search it.

>>> from corpora import Passage
>>> passages = [Passage.create("Cats", "Cats purr."), Passage.create("Dogs", "Dogs bark.")]
>>> retriever = BM25Retriever.build(passages)
>>> [hit.passage.title for hit in retriever.search("why do cats purr?")]
['Cats']
"""

from refine.retrieval._bm25 import BM25Retriever, Hit

__all__ = ["BM25Retriever", "Hit"]
