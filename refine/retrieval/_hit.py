"""What a search returns. A value apart from the index, so a program that takes hits does not load bm25s."""

from __future__ import annotations

from dataclasses import dataclass

from corpora import Passage

__all__ = ["Hit"]


@dataclass(frozen=True, slots=True)
class Hit:
    """One search result: a passage, its BM25 score, and its 1-based rank (1 is the best)."""

    passage: Passage
    score: float
    rank: int
