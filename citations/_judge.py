"""The LM-judge support checker: ask a language model whether the passages support the claim.

``citations`` does not import ``refine``: the judge takes a callable ``ask(prompt) -> reply``.
The reply is the model's answer constrained to ``"yes"`` or ``"no"`` (scored 1.0 or 0.0), or a
float in [0, 1], the probability of ``"yes"``, from backends that expose it. Building the prompt
and reading the reply are pure functions, tested without a model.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from citations._support import check_threshold
from citations.errors import CheckerError, CitationError
from corpora import Passage

__all__ = ["JUDGE_CHOICES", "LMJudge", "judge_prompt", "read_verdict"]

logger = logging.getLogger(__name__)

#: The replies a judge's LM should be constrained to.
JUDGE_CHOICES = ("yes", "no")

_YES = frozenset({"yes", "y", "true", "supported"})
_NO = frozenset({"no", "n", "false", "unsupported", "not"})


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 3)].rstrip() + "..."


def judge_prompt(claim: str, passages: Sequence[Passage], *, max_chars: int = 6000) -> str:
    """The question put to the judge: the numbered passages, the claim, and a yes/no instruction.

    Each passage is cut to an equal share of ``max_chars`` characters (at least 100); passages
    that no longer fit are left out, and the prompt says how many.
    """
    share = max(100, (max_chars - len(passages)) // max(1, len(passages)))
    blocks: list[str] = []
    used = 0
    for number, passage in enumerate(passages, start=1):
        head = f"[{number}] {passage.title}: " if passage.title else f"[{number}] "
        block = head + _clip(passage.text, max(20, share - len(head)))
        if blocks and used + len(block) > max_chars:
            blocks.append(f"({len(passages) - number + 1} more passages not shown)")
            break
        blocks.append(block)
        used += len(block) + 1
    evidence = "\n".join(blocks) if blocks else "(no passages)"
    return (
        "Read the passages and decide whether they support the claim. A claim is supported only if "
        "everything it states is said in the passages.\n\n"
        f"Passages:\n{evidence}\n\n"
        f"Claim: {claim}\n\n"
        "Do the passages support the claim? Answer yes or no."
    )


def read_verdict(reply: str | float) -> float:
    """The support score in a judge's reply: ``"yes"`` 1.0, ``"no"`` 0.0, or a probability of yes."""
    if isinstance(reply, bool) or not isinstance(reply, str | int | float):
        raise CheckerError(f"the judge's ask() returned {reply!r}; it must return 'yes', 'no' or a float in [0, 1]")
    if not isinstance(reply, str):
        if math.isnan(reply) or not 0.0 <= reply <= 1.0:
            raise CheckerError(f"the judge's ask() returned {reply!r}; a probability of 'yes' must be in [0, 1]")
        return float(reply)
    words = reply.strip().lower().split()
    first = words[0].strip(".,!:;\"'") if words else ""
    if first in _YES:
        return 1.0
    if first in _NO:
        return 0.0
    raise CheckerError(
        f"the judge replied {reply!r}, which is neither yes nor no; constrain the LM to the choices {JUDGE_CHOICES!r}"
    )


@dataclass(frozen=True)
class LMJudge:
    """Support judged by a language model: ``ask(judge_prompt(claim, passages))`` says yes or no.

    ``ask`` is any callable from a prompt to a reply constrained to ``"yes"``/``"no"`` (or to the
    probability of ``"yes"``); ``refine`` adapts its LMs to it. A claim is supported when the
    score is at least ``threshold``.
    """

    ask: Callable[[str], str | float]
    threshold: float = 0.5
    max_chars: int = 6000

    def __post_init__(self) -> None:
        if not callable(self.ask):
            raise CitationError(f"LMJudge ask={self.ask!r} must be a callable taking a prompt and returning 'yes'/'no'")
        check_threshold(self.threshold)
        if isinstance(self.max_chars, bool) or not isinstance(self.max_chars, int) or self.max_chars < 200:
            raise CitationError(f"LMJudge max_chars={self.max_chars!r} must be an int >= 200, e.g. 6000")

    def score(self, claim: str, passages: Sequence[Passage]) -> float:
        if not passages:
            return 0.0
        reply = self.ask(judge_prompt(claim, passages, max_chars=self.max_chars))
        verdict = read_verdict(reply)
        logger.debug("judge said %r (%.2f) for %r", reply, verdict, claim)
        return verdict

    def __repr__(self) -> str:
        name = getattr(self.ask, "__qualname__", None) or type(self.ask).__name__
        return f"LMJudge(ask={name}, threshold={self.threshold}, max_chars={self.max_chars})"
