"""Checks of parsed outputs against what their signature declares, as structured violations.

A :class:`Violation` names the field, the offending value and what is wrong, so that retries and
assertions can turn it into feedback without parsing strings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import citations
from citations._claims import WORD_CHAR
from citations._feedback import invalid_message
from citations._markers import Ref, find_markers, marker_spans, parse_group
from citations._segment import code_spans
from corpora import Passage
from refine.fields import Citations, FieldSpec
from refine.grammar import cited_passages_of
from refine.signatures import Signature

__all__ = ["Rule", "Violation", "split_quote", "strip_citations", "validate"]

# "parse", "type", "citations" and "quote" for what a signature declares; an assertion's name otherwise.
Rule = str
# What may follow an extractive quote's markers ("the capital [1]." quotes "the capital"), and
# what may come between them.
_AFTER_MARKERS = re.compile(r"[\s.!?]*")
_BETWEEN_MARKERS = re.compile(r"\s*")
_WORD = re.compile(WORD_CHAR)


@dataclass(frozen=True, slots=True)
class Violation:
    """One failed check: which field, which value, what is wrong (phrased as feedback), and whether
    it is hard (an assertion: the result cannot stand) or soft (a suggestion: it is recorded)."""

    field: str | None
    value: Any
    message: str
    rule: Rule = "type"
    hard: bool = True

    def __str__(self) -> str:
        return self.message


def strip_citations(text: str) -> str:
    """``"Paris [1]."`` -> ``"Paris."``: the text without the markers :func:`citations.parse` reads."""
    pieces = []
    position = 0
    for start, end in dict.fromkeys((m.start, m.end) for m in find_markers(text, code_spans(text))):
        pieces.append(text[position:start].rstrip())
        position = end
    pieces.append(text[position:])
    return "".join(pieces).strip()


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


def _too_few(spec: FieldSpec, value: str, valid: int, rule: Citations, passages: Sequence[Passage]) -> Violation:
    return Violation(
        spec.name,
        value,
        f"{_where(spec)}the answer cites {valid} of the passages; cite at least {rule.min} of "
        f"[1]..[{len(passages)}], like [1].",
        "citations",
    )


def _citation_violations(spec: FieldSpec, rule: Citations, value: str, passages: Sequence[Passage]) -> list[Violation]:
    """The rules of prose that cites: every sentence (or the answer) cites given passages."""
    report = citations.check(value, passages)
    found: list[Violation] = []
    where = _where(spec)
    for finding in report.findings:
        if finding.uncited and rule.per == "answer":
            continue  # per answer, a sentence may go uncited
        found.extend(Violation(spec.name, value, where + m, "citations") for m in finding.problems(passages))
        if rule.per == "sentence" and not finding.uncited and not finding.invalid and len(finding.refs) < rule.min:
            message = f"Sentence {finding.index + 1} cites {len(finding.refs)} passage(s); cite at least {rule.min}."
            found.append(Violation(spec.name, value, where + message, "citations"))
    if rule.per == "answer" and len(report.cited_passages) < rule.min:
        found.append(_too_few(spec, value, len(report.cited_passages), rule, passages))
    return found


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
        found.append(_too_few(spec, value, len(cited), rule, passages))
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
