from __future__ import annotations

import pytest

from corpora import Passage


@pytest.fixture
def five() -> list[Passage]:
    """Five passages with ids p1..p5."""
    texts = [
        "Paris is the capital and most populous city of France.",
        "Berlin is the capital of Germany, with 3.7 million inhabitants.",
        "The Eiffel Tower was completed in 1889 for the World's Fair.",
        "Angela Merkel served as Chancellor of Germany from 2005 to 2021.",
        "The Seine flows through Paris before reaching the English Channel.",
    ]
    return [Passage(id=f"p{i}", title=f"T{i}", text=text) for i, text in enumerate(texts, start=1)]
