"""Constrained vs unconstrained decoding on the embedded model: format, citations, accuracy, cost.

For each question: BM25 top-k over the pooled paragraphs, then one call (no retries) of a
two-field signature, a cited answer and a confidence label, in each mode:

- ``unconstrained``: the prompt alone; the reply is parsed and checked after decoding;
- ``constrained``: the same prompt, decoded under the signature's grammar (field markers,
  ``[1]``..``[k]`` citations only, a choice for the confidence);
- ``extractive`` (NQ only): the answer must be a verbatim quote of the passage it cites.

Reported per data set and mode: format success (the reply parses into both fields), citation
validity (at least one citation and every one names a retrieved passage), every-sentence-cited
rate, exact match and token F1 of the answer (markers removed) against the gold answers, and mean
seconds per call. Rows stream to ``--out`` as JSONL; rerunning resumes after the last finished row.

    python benchmarks/constrained_decoding.py [--data DIR] [--n 100] [--k 5] [--out results.jsonl]
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

import citations
import corpora
from corpora import Passage, QADataset
from refine import BM25Retriever, Citations, InputField, LlamaCpp, OutputField, ParseError, Predict, Signature
from refine.metrics import exact_match, token_f1

INSTRUCTIONS = (
    "Answer the question using only the numbered passages. Keep the answer short. End every sentence "
    "of the answer with the number of the passage that supports it, like [1]. Then say how confident you are."
)


class CitedAnswer(Signature, instructions=INSTRUCTIONS):
    passages: list[Passage] = InputField(description="numbered sources")
    question: str = InputField()
    answer: str = OutputField(description="a short answer citing a passage", citations=Citations(per="sentence"))
    confidence: Literal["high", "medium", "low"] = OutputField()


EXTRACTIVE = CitedAnswer().with_field(
    "answer", citations=None, extractive=True, description="a short quote from one passage, then its number"
)
MODES: dict[str, tuple[Signature, bool]] = {
    "unconstrained": (CitedAnswer(), False),
    "constrained": (CitedAnswer(), True),
    "extractive": (EXTRACTIVE, True),
}


@dataclass(frozen=True)
class Task:
    dataset: str
    modes: tuple[str, ...]
    data: QADataset


def tasks(data_dir: Path, n: int) -> Iterator[Task]:
    hotpot = corpora.load_hotpotqa(data_dir / "hotpotqa" / "dev397.jsonl")
    yield Task("hotpotqa", ("unconstrained", "constrained"), hotpot)
    nq = corpora.load_nq(data_dir / "nq_open" / "oracle1500.jsonl.gz")
    yield Task("nq", ("unconstrained", "constrained", "extractive"), nq)


def run_one(
    predict: Predict, lm: LlamaCpp, passages: list[Passage], question: str, golds: Sequence[str]
) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        prediction = predict(lm=lm, passages=passages, question=question)
    except ParseError as exc:
        reply = exc.text
        parsed, answer = False, ""
    else:
        reply = prediction.attempts[-1].response.text
        parsed, answer = True, prediction.answer
    seconds = time.perf_counter() - started
    report = citations.check(answer, passages) if parsed else None
    plain = citations.strip_markers(answer)
    return {
        "parsed": parsed,
        "valid": bool(report and report.valid),
        "all_cited": bool(report and report.valid and not report.uncited),
        "em": exact_match(plain, golds) if parsed else 0.0,
        "f1": token_f1(plain, golds) if parsed else 0.0,
        "seconds": seconds,
        "reply": reply,
    }


def done_rows(path: Path) -> dict[tuple[str, str, str], dict[str, Any]]:
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                row = json.loads(line)
                rows[(row["dataset"], row["mode"], row["id"])] = row
            except (json.JSONDecodeError, KeyError):
                continue  # a line cut by an interruption; it is redone
    return rows


def summarise(rows: list[dict[str, Any]]) -> dict[str, float]:
    def mean(key: str) -> float:
        return statistics.fmean(float(r[key]) for r in rows) if rows else 0.0

    return {
        "n": len(rows),
        "format": mean("parsed"),
        "valid": mean("valid"),
        "all_cited": mean("all_cited"),
        "em": mean("em"),
        "f1": mean("f1"),
        "seconds": mean("seconds"),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=corpora.shared_data_dir())
    parser.add_argument("--n", type=int, default=100, help="questions per data set (default: %(default)s)")
    parser.add_argument("--k", type=int, default=5, help="passages retrieved (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/constrained_decoding.jsonl"))
    args = parser.parse_args(argv)
    if args.data is None or not args.data.is_dir():
        print("no data folder: pass --data DIR or set REFINE_DATA (see ../shared/data)", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    finished = done_rows(args.out)
    lm = LlamaCpp()
    console = Console(stderr=True)
    summaries: list[tuple[str, str, dict[str, float]]] = []
    with args.out.open("a") as sink, Progress(console=console) as progress:
        for task in tasks(args.data, args.n):
            retriever = BM25Retriever.build(task.data.passages)
            examples = task.data.examples[: args.n]
            for mode in task.modes:
                signature, constrained = MODES[mode]
                predict = Predict(signature, max_backtracks=0, constrained=constrained, strict=False)
                bar = progress.add_task(f"{task.dataset} {mode}", total=len(examples))
                rows = []
                for example in examples:
                    key = (task.dataset, mode, example.id)
                    if key not in finished:
                        passages = [hit.passage for hit in retriever.search(example.question, k=args.k)]
                        row = {"dataset": task.dataset, "mode": mode, "id": example.id}
                        row |= run_one(predict, lm, passages, example.question, example.answers)
                        sink.write(json.dumps(row) + "\n")
                        sink.flush()
                        finished[key] = row
                    rows.append(finished[key])
                    progress.advance(bar)
                summaries.append((task.dataset, mode, summarise(rows)))
    table = Table(title=f"Constrained decoding, SmolLM2-135M, BM25 top-{args.k}, first {args.n} questions")
    for column in (
        "data set",
        "mode",
        "n",
        "format ok",
        "citations valid",
        "every sentence cited",
        "EM",
        "F1",
        "s/call",
    ):
        table.add_column(column)
    for dataset, mode, s in summaries:
        table.add_row(
            dataset,
            mode,
            str(s["n"]),
            f"{s['format']:.0%}",
            f"{s['valid']:.0%}",
            f"{s['all_cited']:.0%}",
            f"{s['em']:.2f}",
            f"{s['f1']:.2f}",
            f"{s['seconds']:.2f}",
        )
    Console(width=140).print(table)
    for dataset in dict.fromkeys(d for d, _, _ in summaries):
        by_mode = {m: s for d, m, s in summaries if d == dataset}
        if "constrained" in by_mode and "unconstrained" in by_mode and by_mode["unconstrained"]["seconds"]:
            ratio = by_mode["constrained"]["seconds"] / by_mode["unconstrained"]["seconds"]
            print(f"{dataset}: constrained / unconstrained seconds per call = {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
