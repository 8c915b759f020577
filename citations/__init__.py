"""Citations: parse an answer's claims and markers, check them against passages, score them.

Stands on :mod:`corpora` only::

    >>> from corpora import Passage
    >>> from citations import check
    >>> passages = [Passage.create("Paris", "Paris is the capital of France.")]
    >>> report = check("Paris is the capital of France [1].", passages)
    >>> report.ok, report.feedback()
    (True, '')

``[n]`` cites the n-th passage given (1-based); ``[p12]`` cites the passage whose id is ``p12``.
Metrics (ALCE citation recall and precision, gold-passage scores) live in :mod:`citations.metrics`.
"""

from citations._claims import WORD_CHAR, Claim, parse, render, strip_markers
from citations._embedding import EmbeddingChecker
from citations._feedback import invalid_message
from citations._judge import JUDGE_CHOICES, LMJudge, judge_prompt
from citations._lexical import LexicalChecker
from citations._markers import Marker, Ref, marker_spans, parse_group
from citations._quotes import match_quote
from citations._report import CitationReport, Finding, InvalidCitation, check, resolve
from citations._support import Support, SupportChecker
from citations.errors import CheckerError, CitationError, MissingExtra

__all__ = [
    "JUDGE_CHOICES",
    "WORD_CHAR",
    "CheckerError",
    "CitationError",
    "CitationReport",
    "Claim",
    "EmbeddingChecker",
    "Finding",
    "InvalidCitation",
    "LMJudge",
    "LexicalChecker",
    "Marker",
    "MissingExtra",
    "Ref",
    "Support",
    "SupportChecker",
    "check",
    "invalid_message",
    "judge_prompt",
    "marker_spans",
    "match_quote",
    "parse",
    "parse_group",
    "render",
    "resolve",
    "strip_markers",
]
