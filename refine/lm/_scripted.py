"""A language model that replies from a script: the test seam, shipped in the package."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Collection, Iterable
from functools import lru_cache
from typing import TypeAlias

from refine.constraints import Constraint, JsonSchema, constraint_kinds
from refine.errors import LMError, UsageError
from refine.lm._jsonschema import schema_problem
from refine.lm._support import ALL_CONSTRAINTS
from refine.lm._types import Closing, LMRequest, LMResponse, require_support

__all__ = ["Reply", "ScriptedLM"]

Reply: TypeAlias = str | Callable[[LMRequest], str]


class ScriptedLM(Closing):
    """Answers each request with the next scripted reply (a string, or a function of the request).

    ``supports`` lists the constraint types it claims to enforce (all by default). It cannot
    really steer decoding, so a scripted reply that breaks a constraint it claims is an error
    in the test, reported as such; a :class:`JsonSchema` is held to its schema's keywords, as a
    real backend's grammar holds it. Every request is recorded in ``requests``.
    """

    def __init__(
        self,
        replies: Iterable[Reply],
        *,
        supports: Collection[type] = ALL_CONSTRAINTS,
        name: str = "scripted",
    ) -> None:
        if isinstance(replies, str):
            raise UsageError(f"replies={replies[:60]!r} is one string; pass a list of replies, e.g. [{replies[:20]!r}]")
        self._replies = list(replies)
        for number, reply in enumerate(self._replies, 1):
            if not (isinstance(reply, str) or callable(reply)):
                raise UsageError(
                    f"ScriptedLM reply {number} is {reply!r} ({type(reply).__name__}); each reply must be "
                    "the reply text as a str, or a function of the LMRequest that returns one"
                )
        self._supported = tuple(supports)
        self._name = name
        self._lock = threading.Lock()
        self.requests: list[LMRequest] = []

    @property
    def name(self) -> str:
        return self._name

    def supports(self, constraint: Constraint) -> bool:
        return all(issubclass(kind, self._supported) for kind in constraint_kinds(constraint))

    def complete(self, request: LMRequest) -> LMResponse:
        require_support(self, request.constraint)
        with self._lock:
            index = len(self.requests)
            if index >= len(self._replies):
                raise LMError(
                    f"ScriptedLM ran out of replies: call {index + 1} but only {len(self._replies)} "
                    "were scripted; add replies to the script"
                )
            self.requests.append(request)
            reply = self._replies[index]
        text = reply(request) if callable(reply) else reply
        if not isinstance(text, str):
            raise UsageError(
                f"ScriptedLM reply {index + 1} is a function that returned {text!r} ({type(text).__name__}); "
                "a reply function must return the reply text as a str"
            )
        problem = _constraint_problem(request.constraint, text)
        if problem is not None:
            raise LMError(
                f"scripted reply {index + 1} ({text[:60]!r}) breaks the request's constraint "
                f"{request.constraint!r:.200}{problem}; a constrained backend could not produce it, so fix the script"
            )
        prompt_words = sum(_words(m.content) for m in request.messages)
        return LMResponse(
            text=text,
            prompt_tokens=prompt_words,
            completion_tokens=len(text.split()),
            seconds=0.0,
            model=self._name,
        )


@lru_cache(maxsize=4096)  # a script sends the same prompts again and again
def _words(text: str) -> int:
    return len(text.split())


@lru_cache(maxsize=1024)  # and holds the same replies to the same grammars
def _constraint_problem(constraint: Constraint | None, text: str) -> str | None:
    """None when ``text`` satisfies ``constraint``; else what is wrong (``""`` when no more is known)."""
    if constraint is None:
        return None
    if not constraint.matches(text):
        return ""
    if isinstance(constraint, JsonSchema):
        problem = schema_problem(constraint.as_dict, json.loads(text))
        return None if problem is None else f" ({problem})"
    return None
