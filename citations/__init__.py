"""Citations: parse an answer's claims and markers, check them against passages, score them.

Stands on :mod:`corpora` only::

    >>> from corpora import Passage
    >>> from citations import check
    >>> passages = [Passage.create("Paris", "Paris is the capital of France.")]
    >>> report = check("Paris is the capital of France [1].", passages)
    >>> report.ok, report.feedback()
    (True, '')

``[n]`` cites the n-th passage given (1-based); ``[p12]`` cites the passage whose id is ``p12``.
"""

from citations._claims import Claim, parse, render
from citations._markers import Marker, Ref
from citations._quotes import match_quote
from citations._report import CitationReport, Finding, InvalidCitation, check, resolve
from citations._support import Support, SupportChecker
from citations.errors import CheckerError, CitationError

__all__ = [
    "CheckerError",
    "CitationError",
    "CitationReport",
    "Claim",
    "Finding",
    "InvalidCitation",
    "Marker",
    "Ref",
    "Support",
    "SupportChecker",
    "check",
    "match_quote",
    "parse",
    "render",
    "resolve",
]
