"""Short cited answers on the embedded model: a word limit retried, decoded, quoted, or chosen.

For each of the first ``--n`` NQ (oracle1500) questions: BM25 top-k over the pooled passages,
then a cited answer of at most five words, then its ``[n]``, in each mode:

- ``free``: the citation grammar, with the word limit as a checked ``Assert`` (a plain function,
  so nothing folds it into the grammar): what a user got before checks were decoded;
- ``constrained``: ``Assert(checks.max_words("answer", 5))``, which a grammar backend decodes;
- ``extractive``: the same on :class:`refine.rag.ExtractiveQA`, a verbatim quote of one passage;
- ``choice``: :class:`refine.SpanRAG`, the model chooses among candidate spans of the passages;
- ``first candidate``: no model, the first of those candidates (how much the choosing adds).

Reported per mode: EM and token F1 against the gold answers (markers removed), citation validity,
answers that failed their assertion, LM calls and seconds per question. Rows stream to ``--out``;
a rerun resumes.

    python benchmarks/short_answers.py [--data DIR] [--n 100] [--k 5] [--modes free,constrained,...]
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

import citations
import corpora
from corpora import Passage
from refine import AssertionFailed, BM25Retriever, Citations, InputField, LlamaCpp, OutputField, Signature, checks
from refine.metrics import exact_match, token_f1
from refine.program import Assert, Predict
from refine.rag import ExtractiveQA, SpanRAG, answer_candidates

WORDS = 5


class ShortQA(
    Signature,
    instructions=(
        "Answer the question in at most five words taken from the numbered passages, "
        "then the number of the passage, like [1]."
    ),
):
    passages: list[Passage] = InputField(description="numbered sources")
    question: str = InputField()
    answer: str = OutputField(description="a few words, then [n]", citations=Citations(per="answer"))


def _unfolded_limit() -> Assert:
    limit = checks.max_words("answer", WORDS)
    # A plain function: the same rule and feedback, but no bounds for a grammar to decode.
    return Assert(lambda p: list(limit(p)), message=f"answer in at most {WORDS} words", fields=("answer",))


Answer = Callable[[str, list[Passage]], tuple[str, int]]


def predictor(signature: type[Signature], rule: Assert, lm: LlamaCpp) -> Answer:
    predict = Predict(signature, assertions=[rule], max_backtracks=2, lm=lm)

    def answer(question: str, passages: list[Passage]) -> tuple[str, int]:
        prediction = predict(passages=passages, question=question)
        return prediction.answer, len(prediction.attempts)

    return answer


def chooser(lm: LlamaCpp) -> Answer:
    rag = SpanRAG(lm=lm)

    def answer(question: str, passages: list[Passage]) -> tuple[str, int]:
        result = rag(question, passages=passages)
        return result.answer, len(result.attempts)

    return answer


def first_candidate(question: str, passages: list[Passage]) -> tuple[str, int]:
    found = answer_candidates(question, passages)
    return (found[0].option if found else ""), 0


def modes(lm: LlamaCpp) -> dict[str, Answer]:
    return {
        "free": predictor(ShortQA, _unfolded_limit(), lm),
        "constrained": predictor(ShortQA, Assert(checks.max_words("answer", WORDS)), lm),
        "extractive": predictor(ExtractiveQA, Assert(checks.max_words("answer", WORDS)), lm),
        "choice": chooser(lm),
        "first candidate": first_candidate,
    }


def run_one(answer: Answer, passages: list[Passage], question: str, golds: Sequence[str]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        text, calls = answer(question, passages)
        failed = False
    except AssertionFailed as exc:
        text, calls, failed = exc.attempts[-1].response.text if exc.attempts else "", len(exc.attempts), True
    plain = citations.strip_markers(text).strip()
    return {
        "answer": text,
        "failed": failed,
        "valid": citations.check(text, passages).valid if text else False,
        "em": exact_match(plain, golds),
        "f1": token_f1(plain, golds),
        "calls": calls,
        "seconds": time.perf_counter() - started,
    }


def done_rows(path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                row = json.loads(line)
                rows[(row["mode"], row["id"])] = row
            except (json.JSONDecodeError, KeyError):
                continue  # a line cut by an interruption; it is redone
    return rows


def summarise(rows: list[dict[str, Any]]) -> dict[str, float]:
    def mean(key: str) -> float:
        return statistics.fmean(float(r[key]) for r in rows) if rows else 0.0

    return {k: mean(k) for k in ("em", "f1", "valid", "failed", "calls", "seconds")} | {"n": len(rows)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=corpora.shared_data_dir())
    parser.add_argument("--n", type=int, default=100, help="questions (default: %(default)s)")
    parser.add_argument("--k", type=int, default=5, help="passages retrieved (default: %(default)s)")
    parser.add_argument("--modes", default="free,constrained,extractive,choice,first candidate")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/short_answers.jsonl"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    console = Console()
    path = args.data / "nq_open" / "oracle1500.jsonl.gz"
    if not path.exists():
        console.print(f"[red]no data at {path}; pass --data pointing at the shared data folder[/red]")
        return 2
    nq = corpora.load_nq(path)
    retriever = BM25Retriever.build(nq.passages)
    lm = LlamaCpp()
    available = modes(lm)
    chosen = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = [m for m in chosen if m not in available]
    if unknown:
        parser.error(f"--modes {','.join(unknown)} unknown; choose from {', '.join(available)}")
    done = done_rows(args.out)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    examples = list(nq.examples)[: args.n]
    with args.out.open("a") as out, Progress(console=console) as progress:
        for mode in chosen:
            task = progress.add_task(mode, total=len(examples))
            for example in examples:
                key = (mode, example.id)
                if key not in done:
                    passages = [h.passage for h in retriever.search(example.question, k=args.k)]
                    row = {
                        "mode": mode,
                        "id": example.id,
                        **run_one(available[mode], passages, example.question, example.answers),
                    }
                    out.write(json.dumps(row) + "\n")
                    out.flush()
                    done[key] = row
                progress.advance(task)
    table = Table(title=f"Short cited answers (at most {WORDS} words), NQ first {args.n}, BM25 top-{args.k}")
    for column in ("mode", "n", "EM", "F1", "cites valid", "assertion failed", "LM calls/q", "s/q"):
        table.add_column(column, justify="left" if column == "mode" else "right")
    ids = {e.id for e in examples}
    for mode in chosen:
        s = summarise([r for (m, i), r in done.items() if m == mode and i in ids])
        table.add_row(
            mode,
            str(s["n"]),
            f"{s['em']:.2f}",
            f"{s['f1']:.3f}",
            f"{s['valid']:.0%}",
            f"{s['failed']:.0%}",
            f"{s['calls']:.2f}",
            f"{s['seconds']:.2f}",
        )
    console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
