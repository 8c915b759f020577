"""What one ``Predict`` call costs refine and DSPy without a model, each with its own fake LM.

The same signature in both: a question and 5 passages of about 450 characters -> an answer and
``citations: list[int]``. refine's :class:`~refine.ScriptedLM` and DSPy's ``DummyLM`` return a
reply that parses; each framework renders the prompt, "calls" its fake LM, parses and validates
the reply. Per framework, ``--repeats`` runs of ``--calls`` calls, alternating between the two,
so a machine that gets busier or quieter affects both alike; the medians and their ratio are
printed. refine is timed twice: as a grammar backend sees it (the reply checked against the
request's constraint, as ScriptedLM holds a reply to what it claims to enforce) and as a backend
without constraints does (``supports=()``: free text, parsed and validated).

    python benchmarks/overhead.py [--calls 2000] [--repeats 5] [--profile]

DSPy is optional (``pip install -e '.[bench]'``); without it, refine is timed alone.
:func:`run` returns the same medians as rows, for ``python -m benchmarks``.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import logging
import os
import pstats
import statistics
import time
from collections.abc import Callable
from typing import Any

from corpora import Passage
from refine import Predict, ScriptedLM, Signature

QUESTION = "Which river flows through the capital of the country whose flag is red, white and blue?"
PASSAGES = [
    Passage.create(
        f"Passage {i}",
        (
            f"Passage {i} says that the river Seine flows through Paris, the capital of France, on its way to "
            "the English Channel at Le Havre. Its basin covers much of northern France, and its tributaries "
            "include the Marne, the Oise and the Yonne. The river has been navigable since Roman times and "
            "Paris grew up on an island in it, the Ile de la Cite, where Notre-Dame still stands today."
        )[:450],
    )
    for i in range(1, 6)
]
ANSWER = "The Seine flows through Paris."
SPEC = "question: str, passages: list[Passage] -> answer: str, citations: list[int]"


def refine_caller(calls: int, *, constrained: bool) -> Callable[[], None]:
    predict = Predict(Signature(SPEC, instructions="Answer the question from the passages."))
    reply = f"Answer: {ANSWER}\nCitations: [1, 2]"

    def run() -> None:
        lm = ScriptedLM([reply] * calls) if constrained else ScriptedLM([reply] * calls, supports=())
        for _ in range(calls):
            predict(question=QUESTION, passages=PASSAGES, lm=lm)

    return run


def dspy_caller(calls: int) -> Callable[[], None]:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # litellm must not fetch its cost map
    import dspy  # optional: the bench extra
    from dspy.utils.dummies import DummyLM

    class QA(dspy.Signature):
        """Answer the question from the passages."""

        question: str = dspy.InputField()
        passages: list[str] = dspy.InputField()
        answer: str = dspy.OutputField()
        citations: list[int] = dspy.OutputField()

    predict = dspy.Predict(QA)
    texts = [p.text for p in PASSAGES]

    def run() -> None:
        lm = DummyLM([{"answer": ANSWER, "citations": "[1, 2]"}] * calls)
        with dspy.context(lm=lm):
            for _ in range(calls):
                predict(question=QUESTION, passages=texts)

    return run


DSPY_MISSING = "dspy not installed: pip install -e '.[bench]'"
MODES = {"free text": "refine (free text)", "grammar": "refine (grammar backend)"}


def runners(calls: int) -> dict[str, Callable[[], None]]:
    """Each timed caller by name: refine's two modes, and dspy's when dspy is installed."""
    found: dict[str, Callable[[], None]] = {
        "refine (grammar backend)": refine_caller(calls, constrained=True),
        "refine (free text)": refine_caller(calls, constrained=False),
    }
    if importlib.util.find_spec("dspy") is not None:
        found["dspy"] = dspy_caller(calls)
    return found


def measure(callers: dict[str, Callable[[], None]], *, calls: int, repeats: int) -> dict[str, float]:
    """Median microseconds per call of each caller: one warm-up run each, then ``repeats`` rounds
    of ``calls`` calls, taking turns."""
    for call in callers.values():
        call()  # warm: caches filled, modules imported
    seconds: dict[str, list[float]] = {name: [] for name in callers}
    for _ in range(repeats):
        for name, call in callers.items():
            started = time.perf_counter()
            call()
            seconds[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) / calls * 1e6 for name, values in seconds.items()}


def run(*, quick: bool = False) -> list[dict[str, Any]]:
    """One row per refine mode (``free text``, ``grammar``): µs per call, DSPy's, and their ratio
    (None without dspy). ``quick`` times 3 rounds of 200 calls instead of 5 of 2,000."""
    calls, repeats = (200, 3) if quick else (2000, 5)
    callers = runners(calls)
    if "dspy" not in callers:
        print(DSPY_MISSING)
    per_call = measure(callers, calls=calls, repeats=repeats)
    dspy = per_call.get("dspy")
    return [
        {
            "benchmark": "overhead",
            "mode": mode,
            "calls": calls,
            "repeats": repeats,
            "refine_us": per_call[name],
            "dspy_us": dspy,
            "ratio": per_call[name] / dspy if dspy is not None else None,
        }
        for mode, name in MODES.items()
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="profile refine's calls and print the top 25")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    callers = runners(args.calls)
    if "dspy" not in callers:
        print("dspy is not installed: timing refine alone (pip install -e '.[bench]' to compare)")
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(callers["refine (grammar backend)"])
        pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
        return 0
    per_call = measure(callers, calls=args.calls, repeats=args.repeats)
    print(f"median of {args.repeats} runs of {args.calls} calls, alternating; microseconds per call:")
    for name, micros in per_call.items():
        print(f"  {name:26s} {micros:8.1f} µs")
    if "dspy" in per_call:
        for name in (n for n in per_call if n.startswith("refine")):
            print(f"  ratio {name} / dspy: {per_call[name] / per_call['dspy']:.3f} (target <= 0.10)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
