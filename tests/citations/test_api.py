from __future__ import annotations

import doctest
import os
import subprocess
import sys
from pathlib import Path

import pytest

import citations
import citations.metrics
import corpora
from citations import _claims, _judge, _lexical, _markers, _quotes

PUBLIC = {
    "WORD_CHAR",
    "CheckerError",
    "CitationError",
    "CitationReport",
    "invalid_message",
    "marker_spans",
    "parse_group",
    "Claim",
    "EmbeddingChecker",
    "Finding",
    "InvalidCitation",
    "JUDGE_CHOICES",
    "LMJudge",
    "LexicalChecker",
    "Marker",
    "MissingExtra",
    "Ref",
    "Support",
    "SupportChecker",
    "check",
    "judge_prompt",
    "match_quote",
    "parse",
    "render",
    "resolve",
    "strip_markers",
}
METRICS = {
    "CitationScores",
    "citation_precision",
    "citation_recall",
    "citation_scores",
    "gold_citation_precision_recall",
}


def test_public_api_is_exactly_what_is_documented() -> None:
    assert set(citations.__all__) == PUBLIC
    assert set(citations.metrics.__all__) == METRICS
    for name in PUBLIC:
        assert getattr(citations, name) is not None


def test_errors_join_the_shared_tree() -> None:
    from corpora.errors import RuntimeFailure, UsageError

    assert issubclass(citations.CitationError, UsageError)
    assert issubclass(citations.CheckerError, RuntimeFailure)


def test_citations_never_imports_refine() -> None:
    code = "import sys, citations, citations.metrics; print(sorted(m for m in sys.modules if m.startswith('refine')))"
    roots = {str(Path(module.__file__).resolve().parents[1]) for module in (citations, corpora)}  # type: ignore[arg-type]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sorted(roots))}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("module", [citations, _claims, _judge, _lexical, _markers, _quotes])
def test_docstring_examples(module: object) -> None:
    failures, _ = doctest.testmod(module, raise_on_error=False)  # type: ignore[arg-type]
    assert failures == 0
