"""Programs of several steps: :class:`Module`, and :func:`check` for assertions inside ``forward``.

Every program is a :class:`Module` (a :class:`~refine.Predict` is the one-step program, the
leaf): called with keyword inputs, it returns a :class:`~refine.Prediction` carrying every
attempt, the trace of predictor calls, the usage and the suggestions still failed; and it lists
its predictors by name (:class:`~refine.program.Program`). How a call runs and backtracks is
:mod:`refine.program._runs`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from refine.errors import UsageError
from refine.history import Prediction
from refine.lm import LM
from refine.program._assertions import Rule
from refine.program._base import Program
from refine.program._runs import BoundPredict, Run, check_rules

__all__ = ["Module", "check"]


def check(prediction: Prediction, *rules: Rule) -> Prediction:
    """Check ``rules`` on ``prediction`` inside a module's ``forward``; backtrack when one fails.

    A failure backtracks to the predictor named by the rule's ``target``, else to the one that
    produced ``prediction``, else to the latest one that wrote a field the rule reads. Once that
    predictor's retries are spent, a failed :class:`Assert` raises :class:`AssertionFailed` and a
    failed :class:`Suggest` is recorded on the run's result. Returns ``prediction`` (with any
    recorded failures) so calls can be chained. Outside a module run nothing can be retried:
    failures are final at once.
    """
    return check_rules(prediction, rules)


class Module(Program):
    """A program: predictors (and sub-modules) as attributes, and a ``forward`` that uses them.

    ``assertions`` are checked on what ``forward`` returns; :func:`check` checks rules anywhere
    inside it. Calling the module runs ``forward`` (backtracking as needed) and returns a
    :class:`Prediction` with every attempt of every call (``attempts``), the calls themselves
    (``trace``) and the suggestions still failed (``failures``). ``lm`` (an attribute, or the
    call's ``lm=``) is the backend its predictors use unless they name their own.

        class Answer(refine.Module):
            assertions = (refine.Assert(checks.non_empty("answer")),)

            def __init__(self, retriever):
                self.retriever = retriever
                self.answer = refine.Predict(refine.CitedQA)

            def forward(self, question):
                passages = [hit.passage for hit in self.retriever.search(question, k=3)]
                return self.answer(passages=passages, question=question)
    """

    def forward(self, *args: Any, **kwargs: Any) -> Prediction | Mapping[str, Any]:
        raise NotImplementedError(f"{type(self).__name__} needs a forward(...) method that calls its predictors")

    def __call__(self, *args: Any, lm: LM | None = None, **kwargs: Any) -> Prediction:
        run = getattr(self, "_refine_run", None)
        if isinstance(run, Run):  # a sub-module inside a running program: part of the same run
            return self._finish(run, self.forward(*args, **kwargs))
        return super().__call__(*args, lm=lm, **kwargs)

    def _pass(self, run: Run, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Prediction:
        """One pass of ``forward`` with every predictor bound to ``run``."""

        def attach(clone: Program) -> None:
            object.__setattr__(clone, "_refine_run", run)

        bound = self._walk("", lambda name, p: BoundPredict(p, run, name), attach)
        return bound._finish(run, bound.forward(*args, **kwargs))  # type: ignore[no-any-return]

    def _finish(self, run: Run, out: Any) -> Prediction:
        if isinstance(out, Mapping) and not isinstance(out, Prediction):
            out = Prediction(out, origin=(run, None))  # no single call wrote it: checks find the writers
        if not isinstance(out, Prediction):
            raise UsageError(
                f"{type(self).__name__}.forward returned {type(out).__name__}; "
                "return a refine.Prediction (what a predictor returns) or a dict of outputs"
            )
        return check(out, *self.assertions) if self.assertions else out
