"""Repair demonstrations: a worked example of a reply that failed a check, its feedback, and the fix.

A :class:`RepairDemo` is a :class:`~refine.Demo` (its ``values`` are the inputs and the *fixed*
outputs) that also carries the failed reply as the model wrote it and the feedback it got. It is
shown the way a retry prompt is, so the model sees, before its own question, what a rejected
reply, the feedback on it and the corrected reply look like::

    user       <the demo's inputs>
    assistant  <the failed reply, verbatim>
    user       <feedback>\\nWrite the whole reply again, fixing this.   (refine.predict.feedback_turns)
    assistant  <the fixed outputs, rendered as any demo's outputs are>

:func:`demo_messages` renders one demo (a plain one as the adapter does: inputs, then outputs);
:func:`render_messages` is :func:`refine.adapter.render_messages` with repair demos rendered so.
A repair demo recorded in another reply format (a JSON reply shown to a grammar backend, or the
reverse) is shown as a plain demo: its failed reply would teach the wrong format.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from refine import adapter
from refine.adapter import Format
from refine.errors import UsageError
from refine.history import Demo, frozen_key
from refine.lm import Message
from refine.predict import feedback_turns
from refine.signatures import Signature

__all__ = ["RepairDemo", "demo_messages", "render_messages"]

_FORMATS = ("fields", "json")


@dataclass(frozen=True, slots=True, eq=False)
class RepairDemo(Demo):
    """A demo of a fixed reply: ``values`` holds the inputs and the fixed outputs, ``reply`` the
    failed reply's text, ``feedback`` what the check said about it, ``format`` the reply format
    the failed reply was written in (``"fields"`` or ``"json"``)."""

    reply: str
    feedback: str
    format: Format = "fields"

    def __post_init__(self) -> None:
        Demo.__post_init__(self)
        for name in ("reply", "feedback"):
            value = getattr(self, name)
            if not isinstance(value, str):
                raise UsageError(f"RepairDemo {name}={value!r} must be a str (the text the model saw)")
        if not self.feedback.strip():
            raise UsageError("RepairDemo feedback='' is empty; a repair demo shows what was wrong with the reply")
        if self.format not in _FORMATS:
            raise UsageError(f"RepairDemo format={self.format!r} must be one of {', '.join(map(repr, _FORMATS))}")

    def as_plain(self) -> Demo:
        """The same inputs and fixed outputs, as a plain demo."""
        return Demo(self.values)

    def __hash__(self) -> int:
        return hash((frozen_key(self.values), self.reply, self.feedback, self.format))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, RepairDemo)
            and dict(self.values) == dict(other.values)
            and (self.reply, self.feedback, self.format) == (other.reply, other.feedback, other.format)
        )

    def __repr__(self) -> str:
        return f"RepairDemo(values={dict(self.values)!r}, reply={self.reply[:40]!r}, feedback={self.feedback[:60]!r})"


def demo_messages(signature: Signature, demo: Demo, format: Format = "fields") -> tuple[Message, ...]:
    """The turns that show ``demo`` before the real inputs: a repair demo as a retry, others as a turn pair."""
    user = Message("user", adapter._user_prompt(signature.inputs, demo.values))
    fixed = Message("assistant", adapter._assistant_reply(signature, demo.values, format))
    if isinstance(demo, RepairDemo) and demo.format == format:
        # Not generated=True: the failed reply was not generated in this prompt, it is quoted.
        _, feedback = feedback_turns(demo.reply, demo.feedback)
        return (user, Message("assistant", demo.reply), feedback, fixed)
    return (user, fixed)


def render_messages(
    signature: Signature, inputs: Mapping[str, Any], demos: Sequence[Demo] = (), *, format: Format = "fields"
) -> tuple[Message, ...]:
    """:func:`refine.adapter.render_messages`, with each demo rendered by :func:`demo_messages`."""
    system, *rest = adapter.render_messages(signature, inputs, (), format=format)
    shown = [message for demo in demos for message in demo_messages(signature, demo, format)]
    return (system, *shown, *rest)
