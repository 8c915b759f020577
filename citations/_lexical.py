"""The lexical support checker: are the claim's content words, numbers and names in the passages?

No model: words are lower-cased and stemmed (PyStemmer's English Snowball stemmer), stopwords are
dropped, numbers are compared without thousands separators, and capitalised words (names) and
numbers weigh more than other words. The score is the weighted fraction of the claim's terms that
the passages contain.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import Stemmer

from citations._stopwords import STOPWORDS
from citations._support import check_threshold
from citations.errors import CitationError
from corpora import Passage

__all__ = ["LexicalChecker", "Term", "terms"]

Mode = Literal["union", "best", "window"]

_TOKEN = re.compile(r"[^\W_]+(?:['\u2019.,\-][^\W_]+)*")
_POSSESSIVE = re.compile(r"['\u2019]s$")
_CONNECTORS = frozenset({"of", "the", "de", "del", "da", "von", "van", "der", "la", "le", "and", "for", "&"})
_local = threading.local()


def _stemmer() -> Stemmer.Stemmer:
    # Stemmer objects are not thread-safe: one per thread.
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = Stemmer.Stemmer("english")
    return stemmer


@functools.lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return str(_stemmer().stemWord(word))


@dataclass(frozen=True, slots=True)
class Term:
    """One content term of a claim: its ``key`` (stem or number), the ``surface`` form, its ``kind``."""

    key: str
    surface: str
    kind: Literal["number", "name", "word"]
    phrase: int  # index of the name phrase it belongs to, or -1


def _is_number(token: str) -> bool:
    return any(char.isdigit() for char in token)


def _keys(token: str) -> list[str]:
    """The lookup keys of one passage or claim token (a compound also yields its parts)."""
    token = _POSSESSIVE.sub("", token)
    if _is_number(token):
        key = token.replace(",", "").lower().rstrip(".")
        return [key]
    lower = token.lower()
    keys = [_stem(lower.replace(".", ""))]
    if "-" in lower or "." in lower:
        keys.extend(_stem(part) for part in re.split(r"[.\-]", lower) if part and part not in STOPWORDS)
    return keys


def terms(claim: str) -> tuple[Term, ...]:
    """The content terms of ``claim``, in order, each once; capitalised runs are name phrases.

    >>> [t.surface for t in terms("Angela Merkel was Chief of Protocol in 2005.")]
    ['Angela', 'Merkel', 'Chief', 'Protocol', '2005']
    """
    found: list[Term] = []
    seen: set[str] = set()
    phrase = -1
    previous_capital = False
    pending_connector = False
    for match in _TOKEN.finditer(claim):
        token = _POSSESSIVE.sub("", match[0])
        lower = token.lower()
        if _is_number(token):
            kind: Literal["number", "name", "word"] = "number"
        elif token[:1].isupper() and lower not in STOPWORDS:
            kind = "name"
        elif lower in STOPWORDS:
            # "Chief of Protocol" stays one phrase across a connector.
            pending_connector = previous_capital and lower in _CONNECTORS
            previous_capital = previous_capital and pending_connector
            continue
        else:
            kind = "word"
        if kind == "name":
            if not previous_capital:
                phrase += 1
            previous_capital = True
        else:
            previous_capital = False
        pending_connector = False
        key = _keys(token)[0]
        if key in seen:
            continue
        seen.add(key)
        found.append(Term(key=key, surface=token, kind=kind, phrase=phrase if kind == "name" else -1))
    return tuple(found)


def _vocabulary(texts: Iterable[str]) -> frozenset[str]:
    keys: set[str] = set()
    for text in texts:
        for match in _TOKEN.finditer(text):
            keys.update(_keys(match[0]))
    return frozenset(keys)


@functools.lru_cache(maxsize=4096)
def _passage_vocabulary(title: str, text: str) -> frozenset[str]:
    return _vocabulary((title, text))


@dataclass(frozen=True)
class LexicalChecker:
    """Support as lexical overlap: the weighted fraction of the claim's terms found in the passages.

    ``mode`` says which text a claim is matched against: ``"union"`` all cited passages together
    (as ALCE concatenates them), ``"best"`` the single best passage, ``"window"`` the best run of
    ``window`` consecutive passages (for evidence split into sentences).
    """

    threshold: float = 0.6
    number_weight: float = 2.0
    name_weight: float = 1.5
    mode: Mode = "union"
    window: int = 3
    include_titles: bool = True
    _weights: dict[str, float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_threshold(self.threshold)
        for name in ("number_weight", "name_weight"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise CitationError(f"LexicalChecker {name}={value!r} must be a positive number, e.g. 2.0")
        if self.mode not in ("union", "best", "window"):
            raise CitationError(f"LexicalChecker mode={self.mode!r} must be one of 'union', 'best', 'window'")
        if isinstance(self.window, bool) or not isinstance(self.window, int) or self.window < 1:
            raise CitationError(f"LexicalChecker window={self.window!r} must be an int >= 1, e.g. 3")
        weights = {"number": float(self.number_weight), "name": float(self.name_weight), "word": 1.0}
        object.__setattr__(self, "_weights", weights)

    def _vocabularies(self, passages: Sequence[Passage]) -> list[frozenset[str]]:
        singles = [_passage_vocabulary(p.title if self.include_titles else "", p.text) for p in passages]
        if self.mode == "union" or not singles:
            return [frozenset().union(*singles)]
        if self.mode == "best":
            return singles
        size = min(self.window, len(singles))
        return [frozenset().union(*singles[start : start + size]) for start in range(len(singles) - size + 1)]

    def _fraction(self, claim_terms: Sequence[Term], vocabulary: frozenset[str]) -> float:
        total = sum(self._weights[term.kind] for term in claim_terms)
        found = sum(self._weights[term.kind] for term in claim_terms if term.key in vocabulary)
        return found / total

    def score(self, claim: str, passages: Sequence[Passage]) -> float:
        """The weighted fraction of ``claim``'s terms in ``passages``; 1.0 for a claim without terms."""
        claim_terms = terms(claim)
        if not claim_terms:
            return 1.0
        if not passages:
            return 0.0
        return max(self._fraction(claim_terms, vocabulary) for vocabulary in self._vocabularies(passages))

    def missing(self, claim: str, passages: Sequence[Passage]) -> tuple[str, ...]:
        """The claim's words, numbers and name phrases that the passages (together) do not contain."""
        claim_terms = terms(claim)
        vocabulary = frozenset().union(*self._vocabularies(passages)) if passages else frozenset()
        phrases: dict[int, list[Term]] = {}
        for term in claim_terms:
            if term.phrase >= 0:
                phrases.setdefault(term.phrase, []).append(term)
        result: list[str] = []
        for term in claim_terms:
            if term.key in vocabulary:
                continue
            surface = _phrase_surface(claim, phrases[term.phrase]) if term.phrase >= 0 else term.surface
            if surface not in result:
                result.append(surface)
        return tuple(result)


def _phrase_surface(claim: str, members: Sequence[Term]) -> str:
    """The name phrase as written in the claim, from its first to its last capitalised word."""
    first, last = members[0].surface, members[-1].surface
    start = claim.find(first)
    end = claim.find(last, start) + len(last) if start >= 0 else -1
    if start < 0 or end < start:
        return " ".join(member.surface for member in members)
    return claim[start:end]
