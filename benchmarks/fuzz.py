"""Fuzz refine with its own hypothesis toolkit: examples per second, and every crash.

Each target runs ``--examples`` hypothesis examples (generation only: no shrinking, no database)
and counts what each came to: fine, a typed refine error (an exhausted assertion, a reply that
never parsed, a usage error for a blank question...), or a crash, which is any other exception
and a bug. The targets:

- ``parser``: :func:`refine.adapter.parse_reply` on any reply (valid or malformed) to five signatures;
- ``verifier``: :func:`citations.check` on adversarial answers against adversarial corpora;
- ``predict``: a ``Predict`` with a hard and a soft assertion, on a scripted LM that replies anything;
- ``module``: a two-step module that backtracks (``check`` inside ``forward``);
- ``cited_rag``: ``CitedRAG`` on adversarial questions and corpora, free-text and grammar replies.

    python benchmarks/fuzz.py [--examples 10000] [--targets parser,verifier,...] [--out results.jsonl]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisException
from rich.console import Console
from rich.table import Table

import citations
from refine import (
    Assert,
    Citations,
    CitedRAG,
    Module,
    Predict,
    Prediction,
    RefineError,
    Signature,
    Suggest,
    check,
    checks,
)
from refine.signatures import parse_reply
from refine.testing import (
    adversarial_texts,
    check_invariants,
    corpora,
    inputs_for,
    outcome_of,
    questions,
    replies_for,
    scripted_lms,
)

SIGNATURES = [
    Signature("question -> answer"),
    Signature("question -> answer, confidence: float"),
    Signature("passages: list[Passage], question -> answer").with_field("answer", citations=Citations()),
    Signature("passages: list[Passage], question -> answer, verdict: bool").with_field(
        "answer", citations=Citations(per="answer")
    ),
    Signature("question -> items: list[str], n: int"),
]


@dataclass
class Tally:
    examples: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    crashes: list[str] = field(default_factory=list)


def _run(tally: Tally, body: Callable[[], Any]) -> None:
    try:
        body()
    except HypothesisException:
        raise  # hypothesis rejected a draw: not an example
    except RefineError as exc:
        tally.outcomes[type(exc).__name__] += 1
    # A crash is what the benchmark looks for: record it and go on to the next example.
    except Exception as exc:
        tally.outcomes["crash"] += 1
        if len(tally.crashes) < 20:
            tally.crashes.append(f"{type(exc).__name__}: {str(exc)[:300]}")
    else:
        tally.outcomes["ok"] += 1
    tally.examples += 1


def parser_target(tally: Tally) -> Callable[..., None]:
    @given(st.data())
    def fuzz(data: st.DataObject) -> None:
        signature = data.draw(st.sampled_from(SIGNATURES))
        inputs = data.draw(inputs_for(signature, adversarial=True))
        reply = data.draw(replies_for(signature, inputs, kind="any"))
        _run(tally, lambda: parse_reply(signature, reply))

    return fuzz


def verifier_target(tally: Tally) -> Callable[..., None]:
    @given(corpora(adversarial=True), adversarial_texts(max_chars=600))
    def fuzz(passages: list[Any], answer: str) -> None:
        _run(tally, lambda: citations.check(answer, passages))

    return fuzz


def predict_target(tally: Tally) -> Callable[..., None]:
    predict = Predict(
        "question -> answer",
        assertions=[Assert(checks.non_empty("answer")), Suggest(checks.max_words("answer", 5))],
        max_backtracks=2,
    )

    @given(inputs_for(predict.signature, adversarial=True), scripted_lms(predict, kind="any"))
    def fuzz(inputs: dict[str, Any], lm: Any) -> None:
        _run(tally, lambda: check_invariants(predict, _raise(outcome_of(predict, inputs, lm=lm)), lm=lm))

    return fuzz


class _TwoHop(Module):
    def __init__(self) -> None:
        self.search = Predict("question -> query", max_backtracks=1)
        self.answer = Predict("query -> answer, confidence: float", max_backtracks=1)

    def forward(self, question: str) -> Prediction:
        query = self.search(question=question)
        check(query, Suggest(len(query.query) <= 40, "Use at most 40 characters."))
        answer = self.answer(query=query.query)
        return check(answer, Assert(answer.answer[:1].isupper(), "Start with a capital letter."))


def module_target(tally: Tally) -> Callable[..., None]:
    program = _TwoHop()

    @given(questions(adversarial=True), scripted_lms(program, kind="any"))
    def fuzz(question: str, lm: Any) -> None:
        _run(tally, lambda: _raise(outcome_of(program, {"question": question}, lm=lm)))

    return fuzz


def cited_rag_target(tally: Tally) -> Callable[..., None]:
    rag = CitedRAG(max_backtracks=1)

    @given(questions(adversarial=True), corpora(adversarial=True), st.booleans(), st.data())
    def fuzz(question: str, passages: list[Any], constrained: bool, data: st.DataObject) -> None:
        lm = data.draw(scripted_lms(rag, kind="any", constrained=constrained))
        _run(
            tally,
            lambda: check_invariants(
                rag, _raise(outcome_of(rag, {"question": question, "passages": passages}, lm=lm)), lm=lm
            ),
        )

    return fuzz


def _raise(outcome: Any) -> Any:
    """A typed error the program raised is counted as such (outcome_of returned it)."""
    if isinstance(outcome, RefineError):
        raise outcome
    return outcome


TARGETS: dict[str, Callable[[Tally], Callable[..., None]]] = {
    "parser": parser_target,
    "verifier": verifier_target,
    "predict": predict_target,
    "module": module_target,
    "cited_rag": cited_rag_target,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000)
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="append one JSON line per target")
    args = parser.parse_args(argv)
    names = [name.strip() for name in args.targets.split(",") if name.strip()]
    unknown = [name for name in names if name not in TARGETS]
    if unknown:
        parser.error(f"--targets: unknown {', '.join(unknown)}; choose from {', '.join(TARGETS)}")
    console = Console(stderr=True)
    table = Table("target", "examples", "seconds", "examples/s", "ok", "typed errors", "crashes")
    rows = []
    for name in names:
        tally = Tally()
        fuzz = TARGETS[name](tally)
        run = settings(
            max_examples=args.examples,
            database=None,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )(fuzz)
        start = time.perf_counter()
        seed(args.seed)(run)()
        seconds = time.perf_counter() - start
        typed = sum(count for kind, count in tally.outcomes.items() if kind not in ("ok", "crash"))
        row = {
            "target": name,
            "examples": tally.examples,
            "seconds": round(seconds, 2),
            "examples_per_s": round(tally.examples / seconds, 1),
            "ok": tally.outcomes["ok"],
            "typed_errors": dict((k, v) for k, v in tally.outcomes.items() if k not in ("ok", "crash")),
            "crashes": tally.outcomes["crash"],
            "crash_samples": tally.crashes,
        }
        rows.append(row)
        table.add_row(
            name,
            str(tally.examples),
            f"{seconds:.1f}",
            f"{row['examples_per_s']:.0f}",
            str(row["ok"]),
            str(typed),
            str(row["crashes"]),
        )
        for crash in tally.crashes:
            console.print(f"[red]{name} crash:[/red] {crash}")
    Console().print(table)
    if args.out:
        with args.out.open("a", encoding="utf-8") as out:
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return 1 if any(row["crashes"] for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
