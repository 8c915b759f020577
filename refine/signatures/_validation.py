"""Checks of parsed outputs against what their signature declares, as structured violations.

A :class:`~refine.Violation` names the field, the offending value and what is wrong, so that
retries and assertions can turn it into feedback without parsing strings. The citation rules are
written here once: :func:`validate` applies them to a field that declares ``Citations``, and
:mod:`refine.checks` to any field an assertion names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import citations
from citations import WORD_CHAR, Ref, invalid_message, marker_spans, parse_group
from corpora import Passage
from refine.history import Violation
from refine.signatures._fields import Citations, FieldSpec
from refine.signatures._grammar import cited_passages_of
from refine.signatures._signature import Signature

__all__ = ["citation_problems", "split_quote", "validate"]

# What may follow an extractive quote's markers ("the capital [1]." quotes "the capital"), and
# what may come between them.
_AFTER_MARKERS = re.compile(r"[\s.!?]*")
_BETWEEN_MARKERS = re.compile(r"\s*")
_WORD = re.compile(WORD_CHAR)


def split_quote(value: str) -> tuple[str, tuple[Ref, ...], tuple[str, ...]]:
    """An extractive value's quote, the references of the markers after it, and the markers inside it.

    ``"the capital [1]"`` -> ``("the capital", (1,), ())``. Markers are read as a quote copied into
    an answer reads them (:func:`citations._markers.marker_spans`), not as prose: a quote may hold
    a code fence or a heading, which would hide its citation from :func:`citations.parse`.
    """
    spans = marker_spans(value)
    end = len(value)
    trailing: list[tuple[int, int]] = []
    for start, stop in reversed(spans):
        if not (_BETWEEN_MARKERS if trailing else _AFTER_MARKERS).fullmatch(value, stop, end):
            break
        trailing.insert(0, (start, stop))
        end = start
    inner = tuple(value[start:stop] for start, stop in spans[: len(spans) - len(trailing)])
    refs = tuple(ref for start, stop in trailing for ref in parse_group(value[start + 1 : stop - 1]) or ())
    return value[:end].strip(), tuple(dict.fromkeys(refs)), inner


def _where(spec: FieldSpec) -> str:
    return f"Field {spec.name!r}: " if spec.name != "answer" else ""


def _too_few(field: str, valid: int, minimum: int, passages: Sequence[Passage]) -> str:
    if valid == 0:
        return f"The {field} cites no passage; end each sentence with the passage it uses, like [1]."
    return f"The {field} cites {valid} of the passages; cite at least {minimum} of [1]..[{len(passages)}], like [1]."


def citation_problems(
    text: str,
    passages: Sequence[Passage],
    *,
    per: Literal["sentence", "answer"] = "sentence",
    minimum: int = 1,
    field: str = "answer",
) -> list[str]:
    """What ``text`` does wrong as prose that cites ``passages``, phrased as feedback.

    Every citation must name a given passage; ``per="sentence"``: every sentence cites at least
    ``minimum`` passages; ``per="answer"``: the text cites at least ``minimum`` in all.
    """
    report = citations.check(text, passages)
    if per == "sentence" and not report.findings:
        return [f"The {field} has no sentences; write one that cites a passage, like [1]."]
    found: list[str] = []
    for finding in report.findings:
        if finding.uncited and per == "answer":
            continue  # per answer, a sentence may go uncited
        found.extend(finding.problems(passages))
        if per == "sentence" and not finding.uncited and not finding.invalid and len(finding.refs) < minimum:
            found.append(f"Sentence {finding.index + 1} cites {len(finding.refs)} passage(s); cite at least {minimum}.")
    if per == "answer" and len(report.cited_passages) < minimum:
        found.append(_too_few(field, len(report.cited_passages), minimum, passages))
    return found


def _citation_violations(spec: FieldSpec, rule: Citations, value: str, passages: Sequence[Passage]) -> list[Violation]:
    where = _where(spec)
    problems = citation_problems(value, passages, per=rule.per, minimum=rule.min, field=spec.name)
    return [Violation(spec.name, value, where + m, "citations") for m in problems]


def _quote_violations(spec: FieldSpec, rule: Citations, value: str, passages: Sequence[Passage]) -> list[Violation]:
    """The rules of a quote: words copied verbatim, holding no marker, from a passage its markers cite.

    The markers after the quote cite all of it, so ``rule.per`` does not split it into sentences:
    a quote of two sentences of passage 1, then ``[1]``, cites both.
    """
    where = _where(spec)
    quote, refs, inner = split_quote(value)
    found: list[Violation] = []
    if not _WORD.search(quote):
        message = f"{where}the quote {quote[:60]!r} has no words; quote words of the passage, then cite it, like [1]."
        found.append(Violation(spec.name, value, message, "quote"))
    if inner:
        which = "which reads as a citation" if len(inner) == 1 else "which read as citations"
        message = f"{where}the quote holds {', '.join(inner)}, {which}; quote the words between them, then cite."
        found.append(Violation(spec.name, value, message, "quote"))
    cited = {p.id: p for ref in refs if (p := citations.resolve(ref, passages)) is not None}
    for ref in refs:
        if citations.resolve(ref, passages) is None:
            message = f"{where}{invalid_message(ref, passages)}; cite the passage the quote comes from."
            found.append(Violation(spec.name, value, message, "citations"))
    if len(cited) < rule.min:
        found.append(Violation(spec.name, value, _too_few(spec.name, len(cited), rule.min, passages), "citations"))
    limit = spec.json_schema.get("maxLength")
    if limit is not None and len(quote) > limit:
        message = f"{where}the quote has {len(quote)} characters; quote at most {limit}."
        found.append(Violation(spec.name, value, message, "quote"))
    if cited and not any(quote in p.text or citations.match_quote(quote, p.text) for p in cited.values()):
        message = f"{where}{quote[:60]!r} is not a verbatim quote of the passage it cites; copy the words exactly."
        found.append(Violation(spec.name, value, message, "quote"))
    return found


def validate(signature: Signature, outputs: Mapping[str, Any], inputs: Mapping[str, Any]) -> tuple[Violation, ...]:
    """Every declared rule that ``outputs`` break (types were already checked when parsing)."""
    found: list[Violation] = []
    for spec in signature.outputs:
        value = outputs.get(spec.name)
        rule = spec.cites
        if not isinstance(value, str) or rule is None:
            continue
        passages = cited_passages_of(spec, inputs)
        check = _quote_violations if spec.extractive else _citation_violations
        found.extend(check(spec, rule, value, passages))
    return tuple(found)
