"""Property-based testing of refine programs with hypothesis (``pip install 'refine[testing]'``).

Strategies derived from a signature (:func:`inputs_for`, :func:`replies_for`), of passages and
corpora, adversarial ones included (:func:`passages`, :func:`corpora`, :func:`adversarial_texts`),
and of scripted LMs that answer a whole program call by call (:func:`scripted_lms`); invariants
that raise :class:`PropertyFailed` with the run's history (:func:`outcome_of`,
:func:`check_invariants`, :func:`cites_only_retrieved`, ...). A pytest plugin (:mod:`refine.testing.plugin`,
loaded by pytest through the ``pytest11`` entry point) adds the fixtures ``scripted_lm``,
``embedded_lm`` and ``tiny_corpus``, the hypothesis profiles ``refine-ci`` and ``refine-real-lm``
and the ``--refine-real-lm`` option::

    from hypothesis import given
    from refine import CitedRAG
    from refine.testing import check_invariants, cites_only_retrieved, corpora, outcome_of, questions, scripted_lms

    rag = CitedRAG(max_backtracks=1)

    @given(questions(), corpora(adversarial=True), scripted_lms(rag, constrained=True))
    def test_citations_name_retrieved_passages(question, passages, lm):
        outcome = outcome_of(rag, {"question": question, "passages": passages}, lm=lm)
        check_invariants(rag, outcome, lm=lm)
        cites_only_retrieved(outcome)

hypothesis is imported here only; without it, importing a name from this package says which
``pip install`` fixes it (the pytest plugin still loads, for its fixtures).
"""

from __future__ import annotations

from importlib.util import find_spec
from typing import Any

__all__ = [
    "ADVERSARIAL_SNIPPETS",
    "DrawnLM",
    "Outcome",
    "PropertyFailed",
    "adversarial_texts",
    "attempts_bounded",
    "check_invariants",
    "cites_only_retrieved",
    "corpora",
    "explain",
    "holds_hard_rules",
    "inputs_for",
    "json_values",
    "outcome_of",
    "passages",
    "questions",
    "replies",
    "replies_for",
    "reply_constraint",
    "retries_extend_prompts",
    "scripted_lms",
    "signatures_of",
    "texts",
    "usage_adds_up",
]

if find_spec("hypothesis") is None:

    def __getattr__(name: str) -> Any:
        if name in __all__:
            raise ModuleNotFoundError(
                f"refine.testing.{name} needs hypothesis, which is not installed: pip install 'refine[testing]'"
            )
        raise AttributeError(f"module 'refine.testing' has no attribute {name!r}")

else:
    from refine.testing._constraints import json_values, replies
    from refine.testing._invariants import (
        Outcome,
        PropertyFailed,
        attempts_bounded,
        check_invariants,
        cites_only_retrieved,
        explain,
        holds_hard_rules,
        outcome_of,
        retries_extend_prompts,
        usage_adds_up,
    )
    from refine.testing._lms import DrawnLM, scripted_lms, signatures_of
    from refine.testing._signatures import inputs_for, replies_for, reply_constraint
    from refine.testing._texts import ADVERSARIAL_SNIPPETS, adversarial_texts, corpora, passages, questions, texts
