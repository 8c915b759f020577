"""``scripted_lms``: ScriptedLMs whose replies hypothesis draws, call by call, for whole programs.

A program of several predictors makes calls in an order that depends on its replies (a retry, a
backtrack), so the script cannot be written in advance. A :class:`DrawnLM` draws each reply when
it is asked: from what the request's constraint admits when it claims to enforce constraints (as a
grammar backend), else from :func:`replies_for` the signature whose prompt the request carries.
Each draw is part of the example, so hypothesis shrinks the script like any other input, and the
report of a failing example lists every call with its reply and the feedback that prompted it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from hypothesis import currently_in_test_context, note
from hypothesis import strategies as st

from corpora import Passage
from refine._options import check_bool, check_int
from refine.errors import UsageError
from refine.lm import LMRequest, ScriptedLM
from refine.program import Module, Predict
from refine.signatures import Signature, as_signature, render_messages
from refine.testing._constraints import replies
from refine.testing._signatures import KINDS, replies_for

__all__ = ["DrawnLM", "Source", "scripted_lms", "signatures_of"]

# What scripted_lms takes: a signature (in any form), a predictor or a program, or several.
Source = str | Signature | type[Signature] | Predict | Module | Sequence[Any]

_RETRY_TAIL = "Write the whole reply again, fixing this."


def signatures_of(source: Source) -> tuple[Signature, ...]:
    """The signatures a program's predictors use (or the signatures given), without repeats."""
    found: list[Signature] = []
    items: Iterable[Any] = source if isinstance(source, list | tuple) else (source,)
    for item in items:
        if isinstance(item, Module | Predict):
            found.extend(predict.signature for _, predict in item.named_predictors())
        elif isinstance(item, str | Signature) or (isinstance(item, type) and issubclass(item, Signature)):
            found.append(as_signature(item))
        else:
            raise UsageError(
                f"scripted_lms got {item!r}; pass a Signature (or its inline string), a Predict, a Module, "
                "or a list of them"
            )
    if not found:
        raise UsageError(f"scripted_lms({source!r}) found no signature; the program has no predictors")
    return tuple(dict.fromkeys(found))


def _placeholder(signature: Signature) -> dict[str, Any]:
    """Inputs standing in for the unknown ones: only what a reply's grammar depends on matters."""
    return {
        spec.name: [Passage.create("placeholder", "placeholder text")] if spec.base_type == list[Passage] else "x"
        for spec in signature.inputs
    }


def _system_prompt(signature: Signature) -> str:
    return render_messages(signature, _placeholder(signature))[0].content


class DrawnLM(ScriptedLM):
    """A :class:`~refine.ScriptedLM` whose replies are drawn from a hypothesis example as it is asked.

    ``replies`` holds the replies given so far, in order, and ``requests`` (as on every
    ScriptedLM) what was asked. Use one in one thread: hypothesis draws are not thread-safe.
    """

    def __init__(
        self,
        draw: st.DrawFn,
        signatures: tuple[Signature, ...],
        *,
        inputs: Mapping[str, Any] | None,
        kind: str,
        constrained: bool,
        max_calls: int,
    ) -> None:
        if constrained:
            super().__init__([self._reply] * max_calls, name="drawn")
        else:
            super().__init__([self._reply] * max_calls, supports=(), name="drawn")
        self._draw = draw
        self._signatures = signatures
        self._inputs = dict(inputs) if inputs is not None else None
        self._kind = kind
        self._constrained = constrained
        self._prompts = {_system_prompt(sig): sig for sig in signatures}
        self.replies: list[str] = []

    def _strategy(self, request: LMRequest) -> st.SearchStrategy[str]:
        if request.constraint is not None:
            return replies(request.constraint)  # what a grammar backend could produce
        system = request.messages[0].content if request.messages else ""
        matched = self._prompts.get(system)
        candidates = (matched,) if matched is not None else self._signatures
        options = [
            replies_for(sig, self._inputs if self._inputs is not None else _placeholder(sig), kind=self._kind)
            for sig in candidates
        ]
        return options[0] if len(options) == 1 else st.one_of(options)

    def _reply(self, request: LMRequest) -> str:
        number = len(self.replies) + 1
        # A draw after the strategy returned: hypothesis records it in the same example, so the
        # reply is shrunk (and replayed) like the program's inputs.
        text = self._draw(self._strategy(request))
        self.replies.append(text)
        if currently_in_test_context():
            last = request.messages[-1].content if request.messages else ""
            if number > 1 and last.endswith(_RETRY_TAIL):
                told = last[: -len(_RETRY_TAIL)].strip()
                note(f"LM call {number} was told: {told[:400]!r}")
            note(f"LM call {number} replied: {text[:400]!r}" + (f" ... ({len(text)} chars)" if len(text) > 400 else ""))
        return text

    def __repr__(self) -> str:
        names = ", ".join(str(sig) for sig in self._signatures)
        how = "under each request's constraint" if self._constrained else f"kind={self._kind!r}"
        return f"DrawnLM({names}; replies drawn per call, {how}; {len(self.replies)} so far)"


def scripted_lms(
    source: Source,
    *,
    inputs: Mapping[str, Any] | None = None,
    kind: str = "any",
    constrained: bool = False,
    max_calls: int = 50,
) -> st.SearchStrategy[DrawnLM]:
    """ScriptedLMs for a program made of ``source``'s signatures (a signature, a predictor, a
    module, or a list of them), replying to whatever the program asks, call by call.

    ``constrained=False`` (default) plays a backend that enforces nothing: each reply is drawn
    from :func:`replies_for` the signature whose prompt the request carries, of ``kind``
    ``"valid"``, ``"malformed"`` or ``"any"``. Valid replies of citing or quoting fields depend
    on the passages: give ``inputs=`` (the values the program passes that predictor), or they
    are drawn for one placeholder passage. ``constrained=True`` plays a grammar backend: every
    reply is drawn from what the request's constraint admits (``kind`` is then irrelevant).
    ``max_calls`` bounds the calls a program can make (one more is an :class:`~refine.LMError`).
    """
    signatures = signatures_of(source)
    if kind not in KINDS:
        raise UsageError(f"kind={kind!r} must be one of {', '.join(map(repr, KINDS))}")
    constrained = check_bool("constrained", constrained)
    max_calls = check_int("max_calls", max_calls, minimum=1)
    if inputs is not None and not isinstance(inputs, Mapping):
        raise UsageError(f"inputs={inputs!r} must be a dict of input values (or None)")

    @st.composite
    def build(draw: st.DrawFn) -> DrawnLM:
        return DrawnLM(draw, signatures, inputs=inputs, kind=kind, constrained=constrained, max_calls=max_calls)

    return build()
