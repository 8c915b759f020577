"""Programs: the one program type and what runs it.

:class:`Program` is the base of every program: it lists its predictors by attribute path, rebuilds
itself with each replaced, and saves and loads what they learned (:func:`save_program`,
:func:`load_program`: versioned JSON with a digest, never pickle). :class:`Module` runs a
``forward`` that calls predictors, backtracking when a rule checked with :func:`check` fails;
:class:`Predict` is the one-step program, the leaf. :class:`Assert` and :class:`Suggest` are the
rules; :class:`BestOfN` and :class:`Refine` run a whole program several times; :func:`using` sets
the backend a block of code runs with.

The layers inside, lowest first: rules and the context default, the context window, program
files; the base; the run engine; Module; Predict; rollouts.
"""

from refine.program._assertions import Assert, Check, Condition, Rule, Suggest
from refine.program._base import Program, check_program, load_program, save_program
from refine.program._context import using
from refine.program._module import Module, check
from refine.program._predict import Predict
from refine.program._rollouts import BestOfN, Refine, Reward
from refine.program._window import DemoTrimWarning

__all__ = [
    "Assert",
    "BestOfN",
    "Check",
    "Condition",
    "DemoTrimWarning",
    "Module",
    "Predict",
    "Program",
    "Refine",
    "Reward",
    "Rule",
    "Suggest",
    "check",
    "check_program",
    "load_program",
    "save_program",
    "using",
]
