"""Adapt any refine LM into the ``citations`` package's LM-judge support checker."""

from __future__ import annotations

from citations import JUDGE_CHOICES, LMJudge
from refine.constraints import Choice
from refine.lm import LM, LMRequest, Message

__all__ = ["lm_judge"]


def lm_judge(lm: LM, *, threshold: float = 0.5, max_chars: int = 6000) -> LMJudge:
    """A support checker that asks ``lm`` whether the cited passages support a claim.

    On a backend that enforces choices the reply can only be ``yes`` or ``no``; elsewhere it is
    read leniently and an unreadable reply raises :class:`citations.CheckerError`.
    """
    choice = Choice(JUDGE_CHOICES)
    constraint = choice if lm.supports(choice) else None

    def ask(prompt: str) -> str:
        request = LMRequest((Message("user", prompt),), constraint=constraint, max_tokens=4)
        return lm.complete(request).text

    return LMJudge(ask, threshold=threshold, max_chars=max_chars)
