"""Short answer candidates taken from passages: names, dates and numbers, for a model to choose from.

A small model asked for a five-word answer writes the first five words of a sentence ("The
first Nobel Prize in"); asked to *choose* among spans of the passages, it picks one. The
question's type guides which spans are offered ("when" -> dates, "how many" -> numbers, "who" ->
names), and the sentences that share most words with the question come first::

    >>> from corpora import Passage
    >>> text = "The first Nobel Prize in Physics went to Wilhelm Röntgen in 1901."
    >>> p = Passage(id="p", title="Nobel Prize", text=text)
    >>> [c.text for c in answer_candidates("who won the first nobel prize in physics", [p])]
    ['Wilhelm Röntgen']
    >>> answer_candidates("when was the first nobel prize in physics", [p])[0].option
    '1901 [1]'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from corpora import Passage
from refine.errors import UsageError

__all__ = ["AnswerCandidate", "answer_candidates", "question_kind"]

Kind = Literal["date", "number", "name", "any"]

_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?"
)
_DATE = re.compile(
    rf"\b(?:{_MONTH}\s+\d{{1,2}},?\s+\d{{3,4}}|\d{{1,2}}\s+{_MONTH}\s+\d{{3,4}}|{_MONTH}\s+\d{{3,4}}|"
    rf"{_MONTH}\s+\d{{1,2}}|(?:1\d|20)\d\d(?:s)?)\b"
)
_NUMBER = re.compile(
    r"(?<![\w.])\d+(?:,\d{3})*(?:\.\d+)?(?:\s+(?:million|billion|thousand|hundred|trillion|percent))?"
    r"(?:\s+[a-z]{3,})?(?!\w)"
)
# Capitalised words, joined by the lower-case links names hold ("Bank of England").
_NAME = re.compile(
    r"\b[A-Z][\w'\u2019.-]*(?:\s+(?:(?:of|the|de|del|da|von|van|and|la|le)\s+)*[A-Z0-9][\w'\u2019.-]*){0,5}"
)
# Not after an initial or a title: "Joseph M. Scriven" and "Dr. Grey" are one sentence's.
_SENTENCE = re.compile(r"(?<!\b[A-Z]\.)(?<!\bDr\.)(?<!\bMr\.)(?<!\bSt\.)(?<!\bMrs\.)(?<=[.!?])\s+(?=[A-Z0-9\"“(])")
_WORD = re.compile(r"\w+")
_FUNCTION_WORDS = (
    "a an the of to in on at by for from with as is are was were be been it its this that these "
    "those he she they his her their who whom whose what when where which why how many much do "
    "does did and or but not no if than then there here has have had can could will would shall "
    "should may might must i you we our your my me us them"
)
_FUNCTION = frozenset(_FUNCTION_WORDS.split())
# Words that open a sentence with a capital and are no name.
_OPENING_WORDS = (
    "The A An In On At It He She They This That These Those There His Her Their Its After "
    "Before When While During As Since If But And Or Although However Following According"
)
_OPENERS = frozenset(_OPENING_WORDS.split())


@dataclass(frozen=True, slots=True)
class AnswerCandidate:
    """A span of passage ``number`` (1-based, as its ``[n]`` marker names it) offered as an answer."""

    text: str
    number: int

    @property
    def option(self) -> str:
        """The span with its citation, as the model writes it: ``"1901 [1]"``."""
        return f"{self.text} [{self.number}]"


def question_kind(question: str) -> Kind:
    """What kind of span answers ``question``: a date, a number, a name, or any of them."""
    q = question.casefold()
    if re.search(r"\b(when|what year|which year|what date|what time|how long ago)\b", q):
        return "date"
    if re.search(r"\b(how many|how much|how long|how old|how far|how big|what percentage|what number)\b", q):
        return "number"
    if re.search(r"\b(who|whom|whose|where|which (?:country|city|state|team|company|band))\b", q):
        return "name"
    return "any"


def _content(text: str) -> set[str]:
    """Content words, crudely stemmed: "Prizes" and "prize" are one word here."""
    return {w.removesuffix("s") for w in (m.casefold() for m in _WORD.findall(text)) if w not in _FUNCTION}


def _spans(sentence: str, kind: Kind) -> list[list[str]]:
    dates = [m.group() for m in _DATE.finditer(sentence)]
    numbers = []
    for m in _NUMBER.finditer(sentence):
        number, *unit = m.group().rsplit(" ", 1)
        numbers.append(number if unit else m.group())
        if unit and unit[0] not in _FUNCTION:
            numbers.append(m.group())  # "291 episodes" after the bare number
    names = []
    for m in _NAME.finditer(sentence):
        words = m.group().rstrip(".,").split()
        while words and words[0] in _OPENERS:  # "The Beatles" keeps its article only when it is inside
            words = words[1:]
        if words:
            name = " ".join(words)
            names.append(name)
            if " and " in name:  # "Xiu Li Dai and Yongge Dai": the pair, and each of them
                names.extend(part for part in name.split(" and ") if part)
    order = {"date": (dates, numbers, names), "number": (numbers, dates, names), "name": (names, dates, numbers)}
    return list(order.get(kind, (names, dates, numbers)))


def answer_candidates(
    question: str, passages: Sequence[Passage], *, limit: int = 20, sentences: int = 4
) -> tuple[AnswerCandidate, ...]:
    """Up to ``limit`` answer spans from the ``sentences`` sentences that best match ``question``.

    A span that shares a content word with the question is not offered; a question of a known
    kind gets spans of that kind when there are any, and the best-matching sentences come first.
    """
    if limit < 1 or sentences < 1:
        raise UsageError(f"limit={limit} and sentences={sentences} must both be >= 1")
    asked = _content(question)
    kind = question_kind(question)
    scored: list[tuple[float, int, int, str]] = []
    for number, passage in enumerate(passages, 1):
        for position, sentence in enumerate(_SENTENCE.split(passage.text)):
            overlap = len(asked & _content(sentence))
            if overlap:
                # Ties go to earlier passages (retrieval ranked them) and earlier sentences.
                scored.append((-overlap, number, position, sentence))
    scored.sort()
    ranked: list[tuple[int, int, int, AnswerCandidate]] = []
    for rank, (_, number, _, sentence) in enumerate(scored[:sentences]):
        for group, spans in enumerate(_spans(sentence, kind)):
            ranked.extend((group, rank, i, AnswerCandidate(span, number)) for i, span in enumerate(spans))
    if kind != "any" and any(group == 0 for group, *_ in ranked):
        # A question of a known kind is offered spans of that kind only ("who" gets no years).
        ranked = [item for item in ranked if item[0] == 0]
    seen: set[str] = set()
    found: list[AnswerCandidate] = []
    for *_, candidate in sorted(ranked, key=lambda item: item[:3]):
        key = candidate.text.casefold()
        # A span that shares a word with the question mostly restates it ("Nobel Prizes" for "who
        # got the first nobel prize"); a small model picks those, so they are not offered.
        if key in seen or _content(candidate.text) & asked:
            continue
        seen.add(key)
        found.append(candidate)
    return tuple(found[:limit])
