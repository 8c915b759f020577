"""Checks of parsed outputs against what their signature declares, as structured violations.

A :class:`Violation` names the field, the offending value and what is wrong, so that retries and
assertions can turn it into feedback without parsing strings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import citations
from refine.fields import FieldSpec
from refine.grammar import cited_passages_of
from refine.signatures import Signature

__all__ = ["Rule", "Violation", "strip_citations", "validate"]

# "parse", "type", "citations" and "quote" for what a signature declares; an assertion's name otherwise.
Rule = str
_MARKERS = re.compile(r"\s*\[[^\[\]]*\]")


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
    """``"Paris [1]."`` -> ``"Paris."``: the text an extractive field quotes."""
    return _MARKERS.sub("", text).strip()


def _citation_violations(spec: FieldSpec, value: str, inputs: Mapping[str, Any]) -> list[Violation]:
    rule = spec.cites
    if rule is None:
        return []
    passages = cited_passages_of(spec, inputs)
    report = citations.check(value, passages)
    found: list[Violation] = []
    where = f"Field {spec.name!r}: " if spec.name != "answer" else ""
    for finding in report.findings:
        if finding.uncited and rule.per == "answer":
            continue  # per answer, a sentence may go uncited
        found.extend(Violation(spec.name, value, where + m, "citations") for m in finding.problems(passages))
        if rule.per == "sentence" and not finding.uncited and not finding.invalid and len(finding.refs) < rule.min:
            message = f"Sentence {finding.index + 1} cites {len(finding.refs)} passage(s); cite at least {rule.min}."
            found.append(Violation(spec.name, value, where + message, "citations"))
    if rule.per == "answer":
        valid = len(report.cited_passages)
        if valid < rule.min:
            found.append(
                Violation(
                    spec.name,
                    value,
                    f"{where}the answer cites {valid} of the passages; cite at least {rule.min} of "
                    f"[1]..[{len(passages)}], like [1].",
                    "citations",
                )
            )
    limit = spec.json_schema.get("maxLength")
    if spec.extractive and limit is not None and len(strip_citations(value)) > limit:
        message = f"{where}the quote has {len(strip_citations(value))} characters; quote at most {limit}."
        found.append(Violation(spec.name, value, message, "quote"))
    if spec.extractive and report.cited_passages:
        quote = strip_citations(value)
        if not any(quote in p.text or citations.match_quote(quote, p.text) for p in report.cited_passages):
            found.append(
                Violation(
                    spec.name,
                    value,
                    f"{where}{quote[:60]!r} is not a verbatim quote of the passage it cites; copy the words exactly.",
                    "quote",
                )
            )
    return found


def validate(signature: Signature, outputs: Mapping[str, Any], inputs: Mapping[str, Any]) -> tuple[Violation, ...]:
    """Every declared rule that ``outputs`` break (types were already checked when parsing)."""
    found: list[Violation] = []
    for spec in signature.outputs:
        value = outputs.get(spec.name)
        if isinstance(value, str):
            found.extend(_citation_violations(spec, value, inputs))
    return tuple(found)
