"""Metrics: how good a prediction is for an example, as a number.

A metric is any callable ``(example, prediction) -> float | bool``; :func:`refine.evaluate` takes
one (and any number more as ``metrics=``). The ones here read the prediction's ``answer`` and the
example's gold ``answers`` (or ``answer``) and ``gold_ids``:

- :func:`em` and :func:`f1`: SQuAD exact match and token F1 (the best over the gold answers),
  after the ``[n]`` markers are stripped from the answer;
- :func:`cited`, :func:`citation_validity`, :func:`citation_coverage`: whether the answer cites
  and every citation names a passage it was given (see :class:`citations.CitationReport`);
- :func:`answer_in_cited`: a gold answer appears in the passages the answer cites;
- :func:`gold_precision` and :func:`gold_recall`: the cited passages against the gold passages;
- :func:`support_precision` and :func:`support_recall`: ALCE citation precision and recall,
  judged by a :class:`citations.SupportChecker` (lexical by default).

The citation metrics use the prediction's ``report`` when it has one (what
:class:`~refine.CitedRAG` returns), else check ``answer`` against the ``passages`` it was given.
The string functions :func:`exact_match`, :func:`token_f1` and :func:`normalize_answer` score
plain text.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import citations
from citations.metrics import citation_scores, gold_citation_precision_recall
from corpora import Passage
from refine.errors import UsageError
from refine.example import Example

__all__ = [
    "Metric",
    "NamedMetric",
    "answer_in_cited",
    "answer_text",
    "citation_coverage",
    "citation_report",
    "citation_validity",
    "cited",
    "em",
    "exact_match",
    "f1",
    "gold_answers",
    "gold_precision",
    "gold_recall",
    "metric_name",
    "normalize_answer",
    "support_precision",
    "support_recall",
    "token_f1",
]

Metric = Callable[[Example, Any], "float | bool"]

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def normalize_answer(text: str) -> str:
    """Lower-case, drop punctuation and articles, squeeze whitespace (the SQuAD convention)."""
    return " ".join(_ARTICLES.sub(" ", text.lower().translate(_PUNCTUATION)).split())


def exact_match(prediction: str, golds: Iterable[str]) -> float:
    normal = normalize_answer(prediction)
    return float(any(normal == normalize_answer(gold) for gold in golds))


def _f1(prediction: str, gold: str) -> float:
    predicted, expected = normalize_answer(prediction).split(), normalize_answer(gold).split()
    common = sum((Counter(predicted) & Counter(expected)).values())
    if not predicted or not expected:
        return float(predicted == expected)
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(expected)
    return 2 * precision * recall / (precision + recall)


def token_f1(prediction: str, golds: Iterable[str]) -> float:
    """The best token-overlap F1 of ``prediction`` against any of ``golds`` (0.0 without golds)."""
    return max((_f1(prediction, gold) for gold in golds), default=0.0)


# -- reading examples and predictions -----------------------------------------------------------


def gold_answers(example: Example) -> tuple[str, ...]:
    """The example's ``answers`` (or its one ``answer``) as a tuple of str."""
    golds = example.get("answers", example.get("answer"))
    if isinstance(golds, str):
        return (golds,)
    if isinstance(golds, Sequence) and all(isinstance(gold, str) for gold in golds):
        return tuple(golds)
    raise UsageError(
        f"example {example.id!r} has no gold answers: it needs a label 'answers' (a list of str) or "
        f"'answer' (a str), got {golds!r}; its labels are {', '.join(example.labels) or 'none'}"
    )


def _answer(prediction: Any) -> str:
    answer = getattr(prediction, "answer", None)
    if not isinstance(answer, str):
        outputs = getattr(prediction, "outputs", {})
        raise UsageError(
            f"this metric reads the prediction's answer (a str), but the prediction has "
            f"{'answer=' + repr(answer) if answer is not None else 'no answer'} (outputs: "
            f"{', '.join(outputs) or 'none'}); score another output with your own (example, prediction) function"
        )
    return answer


def answer_text(prediction: Any) -> str:
    """The prediction's ``answer`` without its ``[n]`` citation markers."""
    return citations.strip_markers(_answer(prediction))


def _passages(prediction: Any) -> tuple[Passage, ...]:
    given = getattr(prediction, "passages", None)
    if given is None:
        given = getattr(prediction, "inputs", {}).get("passages")
    if given is None:
        raise UsageError(
            "a citation metric needs the passages the answer was given: a prediction with a 'passages' "
            "input (or a CitedRAG answer); this prediction has none"
        )
    return tuple(getattr(item, "passage", item) for item in given)  # a Hit carries its passage


def citation_report(prediction: Any) -> citations.CitationReport:
    """The prediction's ``report``, or :func:`citations.check` of its answer against its passages."""
    report = getattr(prediction, "report", None)
    if isinstance(report, citations.CitationReport):
        return report
    return citations.check(_answer(prediction), _passages(prediction))


def _gold_ids(example: Example) -> tuple[str, ...]:
    gold = example.get("gold_ids")
    if isinstance(gold, Sequence) and not isinstance(gold, str) and gold:
        return tuple(gold)
    raise UsageError(
        f"example {example.id!r} has no gold passages: it needs a label 'gold_ids' (passage ids), got {gold!r}"
    )


# -- metrics ------------------------------------------------------------------------------------


def em(example: Example, prediction: Any) -> float:
    """SQuAD exact match of the answer (markers stripped) against any gold answer."""
    return exact_match(answer_text(prediction), gold_answers(example))


def f1(example: Example, prediction: Any) -> float:
    """SQuAD token F1 of the answer (markers stripped), the best over the gold answers."""
    return token_f1(answer_text(prediction), gold_answers(example))


def cited(example: Example, prediction: Any) -> bool:
    """The answer cites at least once, and every citation names a passage it was given."""
    return citation_report(prediction).valid


def citation_validity(example: Example, prediction: Any) -> float:
    """The fraction of citations that name a given passage (0.0 when there are none)."""
    return citation_report(prediction).validity


def citation_coverage(example: Example, prediction: Any) -> float:
    """The fraction of the answer's sentences that cite a passage."""
    return citation_report(prediction).coverage


def answer_in_cited(example: Example, prediction: Any) -> bool:
    """A gold answer occurs (SQuAD-normalised, as whole words) in the passages the answer cites."""
    cited_text = " ".join(normalize_answer(p.text) for p in citation_report(prediction).cited_passages)
    padded = f" {cited_text} "
    return any(f" {gold} " in padded for gold in map(normalize_answer, gold_answers(example)) if gold)


def gold_precision(example: Example, prediction: Any) -> float:
    """The fraction of validly cited passages that are gold passages (0.0 when none is cited)."""
    return gold_citation_precision_recall(citation_report(prediction), _gold_ids(example))[0]


def gold_recall(example: Example, prediction: Any) -> float:
    """The fraction of the gold passages that the answer cites."""
    return gold_citation_precision_recall(citation_report(prediction), _gold_ids(example))[1]


@dataclass(frozen=True, slots=True)
class NamedMetric:
    """A metric made by a factory, with the name it is reported under."""

    name: str
    function: Callable[[Example, Any], float | bool]

    def __call__(self, example: Example, prediction: Any) -> float | bool:
        return self.function(example, prediction)

    def __repr__(self) -> str:
        return f"metrics.{self.name}"


def _checker(checker: citations.SupportChecker | None) -> citations.SupportChecker:
    if checker is None:
        return citations.LexicalChecker()
    if not isinstance(checker, citations.SupportChecker):
        raise UsageError(f"checker={checker!r} is not a SupportChecker; pass e.g. citations.LexicalChecker()")
    return checker


def support_recall(checker: citations.SupportChecker | None = None) -> NamedMetric:
    """ALCE citation recall: the fraction of sentences their cited passages support, per ``checker``."""
    judge = _checker(checker)
    return NamedMetric(
        "support_recall", lambda example, prediction: citation_scores(citation_report(prediction), judge).recall
    )


def support_precision(checker: citations.SupportChecker | None = None) -> NamedMetric:
    """ALCE citation precision: the fraction of citations that are not irrelevant, per ``checker``."""
    judge = _checker(checker)
    return NamedMetric(
        "support_precision", lambda example, prediction: citation_scores(citation_report(prediction), judge).precision
    )


def metric_name(metric: Any) -> str:
    """The name a metric is reported under: its ``name``, its function name, else its type's name."""
    name = getattr(metric, "name", None)
    if isinstance(name, str) and name:
        return name
    name = getattr(metric, "__name__", None)
    if isinstance(name, str) and name and name != "<lambda>":
        return name
    return type(metric).__name__ if name is None else "lambda"
