"""Properties of cited RAG against the embedded model itself (the toolkit's --refine-real-lm tier).

Run by the default test command: pyproject's addopts pass --refine-real-lm, and the plugin caps
each of these at a few hypothesis examples.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refine import CitedRAG
from refine.testing import check_invariants, cites_only_retrieved, outcome_of, questions
from refine.testing.plugin import tiny_passages

pytestmark = [pytest.mark.model, pytest.mark.refine_real_lm]

RAG = CitedRAG(max_backtracks=1, max_tokens=96)


@given(questions(), st.lists(st.sampled_from(tiny_passages()), min_size=1, max_size=3, unique=True))
def test_the_embedded_model_cites_only_what_it_was_given(embedded_lm, question, passages):
    outcome = outcome_of(RAG, {"question": question, "passages": passages}, lm=embedded_lm)
    check_invariants(RAG, outcome)
    cites_only_retrieved(outcome, passages=passages)
