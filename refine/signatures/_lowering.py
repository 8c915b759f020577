"""Lowering what a signature asks of a reply to a JSON schema, for backends that only enforce JSON.

Ollama's ``format`` (and an OpenAI-compatible server's ``response_format``) enforces a JSON schema
as a grammar, and nothing else: no regex, no GBNF. A citing answer is still decoded under an
exact constraint by asking for its sentences and their citations as JSON, with citations an
integer ``enum`` of 1..k, and writing the object back as ``[n]`` prose (:func:`render_cited`).
Whatever :func:`cited_answer_schema` admits renders into text whose citations
:func:`citations.check` finds valid, and, per sentence, present (a property test says so).

What cannot be lowered exactly (a verbatim quote, an arbitrary regex) is refused by name with
the way out: :func:`require_lowerable`. All of it is pure.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from typing import Any, Literal

import citations
from refine.constraints import Choice, Constraint, JsonSchema, OneOf, Quote, Regex, Seq, Substring
from refine.errors import ParseError, UnsupportedConstraint, UsageError

__all__ = [
    "MAX_CITATION_SETS",
    "SENTENCE_PATTERN",
    "cited_answer_constraint",
    "cited_answer_schema",
    "cited_answer_shape",
    "cited_object",
    "lower_value",
    "lowering_problem",
    "render_cited",
    "require_lowerable",
    "sentence_pattern",
]

_SENTENCE_CHAR = '[^\\[\\]{}<>\\\\\\x00-\\x1f.!?\u2026"\u201c\u201d`]'


def sentence_pattern(max_chars: int = 160) -> str:
    """:data:`SENTENCE_PATTERN` for sentences of at most ``max_chars`` characters.

    The bound is in the pattern, not in ``maxLength``: llama.cpp's converter ignores ``maxLength``
    beside a ``pattern``, and a small model then writes one sentence until it runs out of tokens.
    It starts with a letter and runs to at least four characters. Allowed to be one digit,
    SmolLM2 through llama.cpp's server wrote a passage number as the sentence (``"1 [2][3]."``)
    on 15 of 40 questions; allowed to start with a digit and held to four characters, it wrote
    ``"1111..."`` to the bound.
    """
    return f"^[A-Za-z]{_SENTENCE_CHAR}{{3,{max_chars - 1}}}$"


#: One sentence, without its citations or final full stop: it starts with a letter, is four to
#: 160 characters long and holds no character that would end it ('.', '!', '?', '…', a
#: line break), cite (brackets), quote (a quotation just before a citation is read as a verbatim
#: quote), open code (a backtick), break the JSON string (a backslash, a control character), or
#: carry JSON or a placeholder into the text (braces, angle brackets: a small model writes
#: ``}, {`` into the sentence, or copies the prompt's ``<...>``). One regex for JSON
#: schema (ECMA), llama.cpp's grammar converter, llguidance and Python alike.
SENTENCE_PATTERN = sentence_pattern()
#: With ``min_citations >= 2`` the citations are an enum of sets; more than this is refused.
MAX_CITATION_SETS = 2000

Per = Literal["sentence", "answer"]


def _citations_schema(k: int, min_citations: int) -> dict[str, Any]:
    numbers = list(range(1, k + 1))
    if min_citations == 1:
        # One or two passages; a repeated one ([1][1]) still cites one, which is enough.
        return {"type": "array", "items": {"type": "integer", "enum": numbers}, "minItems": 1, "maxItems": 2}
    # JSON schema has no "distinct" a grammar can enforce (uniqueItems is ignored or refused), so
    # sets of distinct passages are listed: min_citations of them, or one more, in increasing order.
    sets = [
        list(c)
        for size in (min_citations, min_citations + 1)
        if size <= k
        for c in itertools.combinations(numbers, size)
    ]
    if len(sets) > MAX_CITATION_SETS:
        raise UsageError(
            f"min_citations={min_citations} of k={k} passages makes {len(sets)} citation sets, more than a JSON "
            f"schema grammar should list ({MAX_CITATION_SETS}); give fewer passages or ask for fewer citations"
        )
    return {"enum": sets}


def cited_answer_schema(
    k: int, per: Per = "sentence", min_citations: int = 1, *, max_sentences: int = 3, max_sentence_chars: int = 160
) -> dict[str, Any]:
    """The JSON schema of an answer citing passages 1..``k``, as :func:`render_cited` reads it.

    ``per="sentence"``: ``{"sentences": [{"sentence": str, "citations": [n, ...]}, ...]}``, each
    sentence citing ``min_citations`` distinct passages (or one more). ``per="answer"``:
    ``{"sentences": [str, ...], "citations": [n, ...]}``, the citations closing the last sentence.
    """
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise UsageError(f"k={k!r} must be an int >= 1: there is nothing to cite")
    if per not in ("sentence", "answer"):
        raise UsageError(f"per={per!r} must be 'sentence' or 'answer'")
    if not isinstance(min_citations, int) or isinstance(min_citations, bool) or min_citations < 1:
        raise UsageError(f"min_citations={min_citations!r} must be an int >= 1")
    if min_citations > k:
        raise UsageError(
            f"min_citations={min_citations} cannot be met with k={k} passages: give more passages or cite fewer"
        )
    if max_sentences < 1 or max_sentence_chars < 8:
        raise UsageError(f"max_sentences={max_sentences} must be >= 1 and max_sentence_chars={max_sentence_chars} >= 8")
    sentence = {"type": "string", "pattern": sentence_pattern(max_sentence_chars)}
    citations = _citations_schema(k, min_citations)
    if per == "sentence":
        item = {
            "type": "object",
            "properties": {"sentence": sentence, "citations": citations},
            "required": ["sentence", "citations"],
            "additionalProperties": False,
        }
        properties: dict[str, Any] = {
            "sentences": {"type": "array", "items": item, "minItems": 1, "maxItems": max_sentences}
        }
    else:
        properties = {
            "sentences": {"type": "array", "items": sentence, "minItems": 1, "maxItems": max_sentences},
            "citations": citations,
        }
    return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}


_PLACEHOLDER = '"<a sentence that answers the question>"'
_NUMBERS = "[<the number of its passage>]"


def cited_answer_shape(per: Per = "sentence") -> str:
    """The object :func:`cited_answer_schema` describes, with placeholders, for a prompt to show.

    Told only "its sentences, each with the numbers ...", SmolLM2 wrote passage titles and numbers
    as sentences; shown a worked example, it copied the example's sentence as its answer. The
    placeholders cannot be copied: the sentence pattern refuses '<' and '>'.
    """
    if per == "answer":
        return f'{{"sentences": [{_PLACEHOLDER}], "citations": {_NUMBERS}}}'
    return f'{{"sentences": [{{"sentence": {_PLACEHOLDER}, "citations": {_NUMBERS}}}]}}'


def cited_answer_constraint(
    k: int, per: Per = "sentence", min_citations: int = 1, *, max_sentences: int = 3, max_sentence_chars: int = 160
) -> JsonSchema:
    """:func:`cited_answer_schema` as a constraint, its keys in the order they are to be written.

    Grammar backends generate properties in the schema's order, so the sentence comes before the
    citations that close it; ``JsonSchema.of`` would sort the keys and put the citations first.
    """
    schema = cited_answer_schema(
        k, per, min_citations, max_sentences=max_sentences, max_sentence_chars=max_sentence_chars
    )
    return JsonSchema(json.dumps(schema, ensure_ascii=False))


def _problem(text: str, what: str) -> ParseError:
    return ParseError(f"the cited answer {what}; it must be an object as cited_answer_schema describes", text=text)


def _refs(value: object, text: str) -> list[int]:
    if not isinstance(value, list) or not value:
        raise _problem(text, f"has citations={value!r}, not a non-empty list of passage numbers")
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in value):
        raise _problem(text, f"has citations={value!r}, which are not all integers")
    return list(dict.fromkeys(value))


def _cite(sentence: object, refs: list[int], text: str) -> str:
    if not isinstance(sentence, str):
        raise _problem(text, f"has sentence={sentence!r}, not a string")
    markers = "".join(f"[{n}]" for n in refs)
    return f"{sentence.strip()} {markers}." if markers else f"{sentence.strip()}."


def render_cited(obj: Mapping[str, Any] | str) -> str:
    """A cited answer object (or its JSON) as prose: ``"Sentence one [1]. Sentence two [2][3]."``.

    ParseError when ``obj`` is not shaped as :func:`cited_answer_schema` says (whether its
    citations name given passages is for :func:`citations.check` to say).
    """
    text = obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False, default=str)
    if isinstance(obj, str):
        try:
            obj = json.loads(obj)
        except json.JSONDecodeError as exc:
            raise ParseError(f"the cited answer is not JSON: {exc}", text=text) from None
    if not isinstance(obj, Mapping):
        raise _problem(text, f"is {type(obj).__name__}")
    sentences = obj.get("sentences")
    if not isinstance(sentences, list) or not sentences:
        raise _problem(text, "has no non-empty 'sentences' list")
    if "citations" in obj:  # per="answer": the citations close the last sentence
        refs = _refs(obj["citations"], text)
        pieces = [_cite(s, [], text) for s in sentences[:-1]] + [_cite(sentences[-1], refs, text)]
    else:
        pieces = []
        for item in sentences:
            if not isinstance(item, Mapping) or "sentence" not in item or "citations" not in item:
                raise _problem(text, f"has the item {item!r}, not a {{'sentence', 'citations'}} object")
            pieces.append(_cite(item["sentence"], _refs(item["citations"], text), text))
    return " ".join(pieces)


def cited_object(answer: str, per: Per = "sentence") -> dict[str, Any]:
    """``answer`` (``[n]`` prose) as the object :func:`render_cited` reads: how a demonstration's
    answer is shown to a backend that replies in JSON. Only numbered citations are kept."""
    claims = citations.parse(answer)

    def numbers(claim: citations.Claim) -> list[int]:
        return [ref for ref in claim.refs if isinstance(ref, int)]

    sentences = [claim.text.rstrip(".!?… ") for claim in claims]
    if per == "answer":
        return {"sentences": sentences, "citations": numbers(claims[-1]) if claims else []}
    return {"sentences": [{"sentence": s, "citations": numbers(c)} for s, c in zip(sentences, claims, strict=True)]}


def lowering_problem(constraint: str | Constraint) -> str | None:
    """Why ``constraint`` has no exact JSON-schema form, with the way out; None when it has one."""
    if isinstance(constraint, str | Choice | JsonSchema):
        return None
    if isinstance(constraint, Quote | Substring):
        return (
            f"{type(constraint).__name__} (a verbatim quote) has no exact JSON-schema form; drop extractive=True, "
            "or validate the quote after decoding (strict=False), or use refine.LlamaCpp, which enforces it"
        )
    if isinstance(constraint, Regex):
        return (
            f"Regex({constraint.pattern[:40]!r}) has no exact JSON-schema form; use a Choice, a typed field or "
            "citations (which lower exactly), or validate after decoding (strict=False), or use refine.LlamaCpp"
        )
    if isinstance(constraint, Seq | OneOf):
        parts = constraint.parts if isinstance(constraint, Seq) else constraint.alternatives
        inner = next((problem for part in parts if (problem := lowering_problem(part))), None)
        return inner or (
            f"{type(constraint).__name__} (a composite of text pieces) has no single JSON-schema form; "
            "lower each output field on its own"
        )
    return f"{type(constraint).__name__} has no JSON-schema form"


def require_lowerable(constraint: str | Constraint, *, backend: str, field: str | None = None) -> None:
    """Raise :class:`UnsupportedConstraint` when ``constraint`` cannot be lowered for ``backend``."""
    problem = lowering_problem(constraint)
    if problem is not None:
        where = f" for field {field!r}" if field else ""
        raise UnsupportedConstraint(f"backend {backend!r} enforces only JSON schemas{where}: {problem}")


def lower_value(constraint: Choice | JsonSchema) -> dict[str, Any]:
    """The JSON schema of one output value under ``constraint`` (a Choice is a string enum)."""
    if isinstance(constraint, Choice):
        return {"type": "string", "enum": list(constraint.options)}
    if isinstance(constraint, JsonSchema):
        return constraint.as_dict
    raise UsageError(f"lower_value takes a Choice or a JsonSchema, got {constraint!r}; see lowering_problem")
