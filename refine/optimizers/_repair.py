"""Repair demonstrations: a worked example of a reply that failed a check, its feedback, and the fix.

A :class:`~refine.history.RepairDemo` is a :class:`~refine.Demo` (its ``values`` are the inputs
and the *fixed* outputs) that also carries the failed reply as the model wrote it and the
feedback it got. :func:`refine.adapter.demo_messages` shows it the way a retry prompt is, so the
model sees, before its own question, what a rejected reply, the feedback on it and the corrected
reply look like::

    user       <the demo's inputs>
    assistant  <the failed reply, verbatim>
    user       <feedback>\\nWrite the whole reply again, fixing this.   (refine.adapter.retry_turn)
    assistant  <the fixed outputs, rendered as any demo's outputs are>

The value lives in :mod:`refine.history` and its rendering in :mod:`refine.adapter`, so that
every predictor shows it; this module names them for the optimizers.
"""

from __future__ import annotations

from refine.adapter import demo_messages, render_messages
from refine.history import RepairDemo

__all__ = ["RepairDemo", "demo_messages", "render_messages"]
