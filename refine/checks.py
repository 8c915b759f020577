"""Ready conditions for :class:`~refine.Assert` and :class:`~refine.Suggest`.

Each factory returns a :class:`~refine.assertions.Check` that names the fields it reads (so a
failure backtracks to the predictor that wrote them) and phrases what it finds as feedback::

    Predict(CitedQA, assertions=[Assert(non_empty("answer")), Suggest(max_words("answer", 60))])

Citation checks read the passages from the prediction's inputs (``passages=`` by default), the
way :class:`~refine.CitedQA` receives them; ``[n]`` cites the n-th passage.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import citations
from corpora import Passage
from refine.constraints import Bounds
from refine.errors import UsageError
from refine.history import Prediction
from refine.program import Check
from refine.signatures import as_passages
from refine.signatures._validation import citation_problems

__all__ = [
    "chosen_from",
    "citations_supported",
    "citations_valid",
    "distinct_from",
    "every_sentence_cited",
    "matches",
    "max_chars",
    "max_sentences",
    "max_words",
    "no_repetition",
    "non_empty",
    "numbers_cited",
    "one_of",
]

_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?![\w])")
_WORD = re.compile(r"\w+")


def _text(prediction: Prediction, field: str) -> str:
    if field not in prediction.outputs:
        raise UsageError(f"check reads field {field!r}, but the prediction has {', '.join(prediction.outputs)}")
    value = prediction.outputs[field]
    return value if isinstance(value, str) else str(value)


def _positive(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UsageError(f"{name}={value!r} must be a whole number >= 1")


def non_empty(field: str = "answer") -> Check:
    """The field holds more than whitespace and citation markers."""

    def problems(p: Prediction) -> list[str]:
        return [] if citations.strip_markers(_text(p, field)).strip() else [f"The {field} is empty; write one."]

    return Check("non_empty", (field,), f"{field} is not empty", problems)


def max_words(field: str, limit: int) -> Check:
    """At most ``limit`` words (citation markers not counted)."""
    _positive("limit", limit)

    def problems(p: Prediction) -> list[str]:
        words = len(_WORD.findall(citations.strip_markers(_text(p, field))))
        # An instruction, not a statement about the answer: a copied "The answer has 23 words" reads as one.
        return (
            []
            if words <= limit
            else [f"Shorten the {field} to at most {limit} word{'s' if limit > 1 else ''} (it has {words})."]
        )

    return Check("max_words", (field,), f"{field} has at most {limit} words", problems, Bounds(max_words=limit))


def max_chars(field: str, limit: int) -> Check:
    """At most ``limit`` characters (citation markers not counted)."""
    _positive("limit", limit)

    def problems(p: Prediction) -> list[str]:
        n = len(citations.strip_markers(_text(p, field)))
        return [] if n <= limit else [f"Shorten the {field} to at most {limit} characters (it has {n})."]

    return Check("max_chars", (field,), f"{field} has at most {limit} characters", problems, Bounds(max_chars=limit))


def max_sentences(field: str, limit: int) -> Check:
    """At most ``limit`` sentences, as :func:`citations.parse` reads them."""
    _positive("limit", limit)

    def problems(p: Prediction) -> list[str]:
        n = len(citations.parse(_text(p, field)))
        return [] if n <= limit else [f"Say it in {limit} sentence{'s' if limit > 1 else ''} or fewer."]

    bounds = Bounds(max_sentences=limit)
    return Check("max_sentences", (field,), f"{field} has at most {limit} sentences", problems, bounds)


def matches(field: str, pattern: str, *, hint: str | None = None) -> Check:
    """The whole field matches the regular expression ``pattern``; ``hint`` says what that means."""
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise UsageError(f"pattern={pattern!r} is not a regular expression: {exc}") from exc
    want = hint or f"match the pattern {pattern!r}"

    def problems(p: Prediction) -> list[str]:
        value = _text(p, field).strip()
        return [] if compiled.fullmatch(value) else [f"The {field} {value[:60]!r} should {want}."]

    return Check("matches", (field,), f"{field} matches {pattern!r}", problems)


def one_of(field: str, options: Sequence[str]) -> Check:
    """The field is one of ``options`` (compared without case or surrounding space)."""
    options = tuple(options)
    if not options or not all(isinstance(o, str) for o in options):
        raise UsageError(f"options={options!r} must be a non-empty list of strings")
    allowed = {o.strip().casefold() for o in options}
    listed = ", ".join(repr(o) for o in options)

    def problems(p: Prediction) -> list[str]:
        value = _text(p, field).strip()
        return [] if value.casefold() in allowed else [f"The {field} {value[:60]!r} must be one of {listed}."]

    return Check("one_of", (field,), f"{field} is one of {listed}", problems, Bounds(choices=options))


def chosen_from(field: str = "answer", options: str = "candidates") -> Check:
    """The field is one of the strings in input ``options`` (each call gives its own list).

    On a grammar backend the field is decoded as a choice among them.
    """

    def choices(inputs: Mapping[str, Any]) -> list[str]:
        if options not in inputs:
            raise UsageError(f"chosen_from reads input {options!r}, but the inputs are {', '.join(inputs)}")
        value = inputs[options]
        if isinstance(value, str) or not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
            raise UsageError(f"input {options!r} must be a list of strings to choose from; got {value!r:.80}")
        return list(value)

    def problems(p: Prediction) -> list[str]:
        allowed = {o.strip().casefold() for o in choices(p.inputs)}
        value = _text(p, field).strip()
        return [] if value.casefold() in allowed else [f"Choose the {field} from the {options} given."]

    def bounds(inputs: Mapping[str, Any]) -> Bounds | None:
        given = choices(inputs)
        return Bounds(choices=tuple(given)) if given else None

    return Check("chosen_from", (field,), f"{field} is one of the {options}", problems, bounds)


def _words(text: str) -> set[str]:
    return {w.casefold() for w in _WORD.findall(text)}


def no_repetition(field: str = "answer", n: int = 5) -> Check:
    """No run of ``n`` words appears twice in the field (markers aside, case ignored).

    The feedback quotes the repeated words, so it names only what is in the answer.
    """
    _positive("n", n)

    def problems(p: Prediction) -> list[str]:
        words = [w.casefold() for w in _WORD.findall(citations.strip_markers(_text(p, field)))]
        seen: set[tuple[str, ...]] = set()
        for i in range(len(words) - n + 1):
            gram = tuple(words[i : i + n])
            if gram in seen:
                return [f"The {field} says {' '.join(gram)!r} twice; say each thing once."]
            seen.add(gram)
        return []

    return Check("no_repetition", (field,), f"{field} repeats no {n} words", problems)


def distinct_from(
    field: str = "query", earlier: str | Sequence[str] = "past_queries", *, max_overlap: float = 0.8
) -> Check:
    """The field differs from earlier values, e.g. a search query from the queries already tried.

    ``earlier`` is the name of an input holding them (a list of strings), or the values
    themselves. Two values are the same when the share of words they have in common (Jaccard)
    exceeds ``max_overlap``.
    """
    if not 0.0 <= max_overlap <= 1.0:
        raise UsageError(f"max_overlap={max_overlap!r} must be between 0 and 1")

    def previous(p: Prediction) -> Sequence[Any]:
        if not isinstance(earlier, str):
            return earlier
        if earlier not in p.inputs:
            raise UsageError(f"distinct_from reads input {earlier!r}, but the inputs are {', '.join(p.inputs)}")
        value = p.inputs[earlier]
        return [value] if isinstance(value, str) else list(value or ())

    def problems(p: Prediction) -> list[str]:
        mine = _words(_text(p, field))
        for old in previous(p):
            theirs = _words(str(old))
            union = mine | theirs
            if union and len(mine & theirs) / len(union) > max_overlap:
                return [f"The {field} repeats an earlier one ({str(old)[:60]!r}); write a different one."]
        return []

    return Check("distinct_from", (field,), f"{field} differs from earlier ones", problems)


def _passages(p: Prediction, name: str) -> tuple[Passage, ...]:
    if name not in p.inputs:
        raise UsageError(f"citation check reads passages from input {name!r}, but the inputs are {', '.join(p.inputs)}")
    passages = as_passages(p.inputs[name])
    if passages is None:
        raise UsageError(f"input {name!r} must hold Passages (or Hits) for a citation check")
    return passages


def citations_valid(field: str = "answer", passages: str = "passages") -> Check:
    """At least one citation, and every citation names one of the passages given."""

    def problems(p: Prediction) -> list[str]:
        return citation_problems(_text(p, field), _passages(p, passages), per="answer", field=field)

    return Check("citations_valid", (field,), f"{field} cites only the given passages", problems)


def every_sentence_cited(field: str = "answer", passages: str = "passages") -> Check:
    """Every sentence carries at least one valid citation."""

    def problems(p: Prediction) -> list[str]:
        return citation_problems(_text(p, field), _passages(p, passages), per="sentence", field=field)

    return Check("every_sentence_cited", (field,), f"every sentence of {field} is cited", problems)


def citations_supported(checker: citations.SupportChecker, field: str = "answer", passages: str = "passages") -> Check:
    """Each cited sentence is supported by the passages it cites, as judged by ``checker``."""
    if not isinstance(checker, citations.SupportChecker):
        raise UsageError(f"checker={checker!r} is not a citations support checker; use e.g. citations.LexicalChecker()")

    def problems(p: Prediction) -> list[str]:
        given = _passages(p, passages)
        report = citations.check(_text(p, field), given, checker=checker)
        return [
            m for f in report.findings if f.support is not None and not f.support.supported for m in f.problems(given)
        ]

    return Check("citations_supported", (field,), f"the passages {field} cites support it", problems)


def numbers_cited(field: str = "answer", passages: str = "passages") -> Check:
    """Every number in the field appears in a passage the field cites validly."""

    def problems(p: Prediction) -> list[str]:
        given = _passages(p, passages)
        text = _text(p, field)
        numbers = dict.fromkeys(_NUMBER.findall(citations.strip_markers(text)))
        if not numbers:
            return []
        cited = " ".join(q.text for q in citations.check(text, given).cited_passages)
        present = set(_NUMBER.findall(cited))
        missing = [n for n in numbers if n not in present]
        return [
            f"The {field} says {n}, which no passage it cites contains; use the figure the cited passage gives."
            for n in missing
        ]

    return Check("numbers_cited", (field,), f"every number in {field} appears in a cited passage", problems)
