"""Messages: what is wrong with a citation and what the model should do instead. Pure functions."""

from __future__ import annotations

import re
from collections.abc import Sequence

from citations._markers import Ref, format_ref
from corpora import Passage

__all__ = [
    "invalid_feedback",
    "invalid_message",
    "passage_choices",
    "quote_feedback",
    "snippet",
    "support_feedback",
    "uncited_feedback",
]

_NUMBERED = re.compile(r"(.*?)(\d+)")
_LISTED = 6


def passage_choices(passages: Sequence[Passage]) -> str:
    """The ids of ``passages`` in short: ``p1..p5`` when they count up, else a list."""
    ids = [passage.id for passage in passages]
    if len(ids) >= 3:
        parts = [_NUMBERED.fullmatch(passage_id) for passage_id in ids]
        if all(parts):
            prefixes = {part[1] for part in parts if part}
            numbers = [int(part[2]) for part in parts if part]
            if len(prefixes) == 1 and numbers == list(range(numbers[0], numbers[0] + len(numbers))):
                return f"{ids[0]}..{ids[-1]}"
    if len(ids) <= _LISTED:
        return ", ".join(ids)
    return f"{', '.join(ids[:3])}, ..., {ids[-1]} ({len(ids)} passages)"


def _numbers(count: int) -> str:
    return "[1]" if count == 1 else f"[1]..[{count}]"


def invalid_message(ref: Ref, passages: Sequence[Passage]) -> str:
    """Why ``ref`` names none of ``passages``: ``[7] cited but only [1]..[5] were given``."""
    if isinstance(ref, int):
        if not passages:
            return f"{format_ref(ref)} cited but no passages were given"
        verb = "was" if len(passages) == 1 else "were"
        return f"{format_ref(ref)} cited but only {_numbers(len(passages))} {verb} given"
    if not passages:
        return f"passage id {ref!r} cited but no passages were retrieved"
    verb = "was" if len(passages) == 1 else "were"
    return f"passage id {ref!r} cited but only {passage_choices(passages)} {verb} retrieved"


def snippet(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def _sentence(index: int) -> str:
    return f"Sentence {index + 1}"


def invalid_feedback(index: int, ref: Ref, passages: Sequence[Passage]) -> str:
    """``Sentence 1 cites [7], but only [1]..[5] exist; cite one of [1]..[5].``"""
    head = f"{_sentence(index)} cites {format_ref(ref)}"
    if not passages:
        return f"{head}, but no passages were given; remove the citation."
    if isinstance(ref, int):
        if len(passages) == 1:
            return f"{head}, but only [1] exists; cite [1]."
        numbers = _numbers(len(passages))
        return f"{head}, but only {numbers} exist; cite one of {numbers}."
    if len(passages) == 1:
        return f"{head}, but only {passages[0].id} was retrieved; cite [{passages[0].id}]."
    choices = passage_choices(passages)
    return f"{head}, but only {choices} were retrieved; cite one of {choices}."


def uncited_feedback(index: int, text: str, passages: Sequence[Passage]) -> str:
    head = f'{_sentence(index)} ("{snippet(text)}") cites nothing'
    if not passages:
        return f"{head} and no passages were given; remove the sentence."
    example = "[1]" if len(passages) == 1 else "[1] or [2]"
    return f"{head}; cite the passage that supports it, e.g. {example}, or remove the sentence."


def _cited(refs: Sequence[Ref]) -> str:
    return "".join(format_ref(ref) for ref in refs)


def quote_feedback(index: int, quote: str, refs: Sequence[Ref]) -> str:
    quoted = f'"{snippet(quote)}"'
    if not refs:
        return f"{_sentence(index)} quotes {quoted} without a valid citation; cite the passage it comes from."
    which = f"{_cited(refs)} does not contain it" if len(refs) == 1 else f"none of {_cited(refs)} contains it"
    return (
        f"{_sentence(index)} quotes {quoted}, but {which}; "
        "copy the words exactly from the passage or remove the quotation marks."
    )


# Words about the task, not the world: a passage need not mention "answer", and a model told to
# mention it writes "The answer to the question is ...".
_META = frozenset({"answer", "answers", "question", "questions", "passage", "passages", "sentence", "sentences"})


def _terms(missing: Sequence[str]) -> str:
    quoted = [f"'{term}'" for term in missing[:4]]
    if len(quoted) == 1:
        return quoted[0]
    return f"{', '.join(quoted[:-1])} or {quoted[-1]}"


def support_feedback(index: int, refs: Sequence[Ref], score: float, threshold: float, missing: Sequence[str]) -> str:
    """``Sentence 2 cites [4], which does not mention 'Chief of Protocol'; ...``

    Short, since a retry's prompt carries it: each token of feedback is evaluated again.
    """
    head = f"{_sentence(index)} cites {_cited(refs)}, {'which does' if len(refs) == 1 else 'which do'} not"
    missing = [term for term in missing if term.casefold() not in _META]
    if missing:
        them = "it" if len(missing) == 1 else "them"
        return f"{head} mention {_terms(missing)}; cite a passage that does, or leave {them} out."
    return f"{head} support it (score {score:.2f} < {threshold:.2f}); cite a passage that does, or rephrase it."
