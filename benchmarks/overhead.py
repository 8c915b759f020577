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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="profile refine's calls and print the top 25")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    runners: dict[str, Callable[[], None]] = {
        "refine (grammar backend)": refine_caller(args.calls, constrained=True),
        "refine (free text)": refine_caller(args.calls, constrained=False),
    }
    if importlib.util.find_spec("dspy") is not None:
        runners["dspy"] = dspy_caller(args.calls)
    else:
        print("dspy is not installed: timing refine alone (pip install -e '.[bench]' to compare)")
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(runners["refine (grammar backend)"])
        pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
        return 0
    for run in runners.values():
        run()  # warm: caches filled, modules imported
    seconds: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(args.repeats):
        for name, run in runners.items():
            started = time.perf_counter()
            run()
            seconds[name].append(time.perf_counter() - started)
    per_call = {name: statistics.median(values) / args.calls * 1e6 for name, values in seconds.items()}
    print(f"median of {args.repeats} runs of {args.calls} calls, alternating; microseconds per call:")
    for name, micros in per_call.items():
        print(f"  {name:26s} {micros:8.1f} µs")
    if "dspy" in per_call:
        for name in (n for n in per_call if n.startswith("refine")):
            print(f"  ratio {name} / dspy: {per_call[name] / per_call['dspy']:.3f} (target <= 0.10)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
