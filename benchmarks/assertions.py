"""What assertions buy on the embedded model, and what a retry costs.

For each of the first ``--n`` HotpotQA dev questions: BM25 top-k over the pooled paragraphs, then
a cited answer from SmolLM2-135M, checked for three rules: the answer is non-empty, it cites only
retrieved passages, and every sentence is cited. Modes (free-text decoding unless named):

- ``none``: one call; the rules are only measured;
- ``suggest``: the rules as :class:`Suggest` (up to ``--backtracks`` retries with feedback, then
  carry on with the last answer);
- ``assert``: the rules as :class:`Assert` (the same retries, then :class:`AssertionFailed`);
- ``grammar``: one call decoded under the citation grammar, for reference;
- ``grammar+support``: decoded under the grammar, with :func:`checks.citations_supported`
  (lexical checker) as a :class:`Suggest`: retries whose length the grammar bounds;
- ``suggest/rebuilt`` and ``grammar+support/rebuilt``: those modes, with each retry request sent
  again after the KV cache was flushed: what the same retry costs when its whole prompt is
  evaluated from scratch.

Reported per mode: the pass rate of the three rules, exhausted assertions, LM calls and tokens
per question. And the retry cost: mean seconds of a retry over mean seconds of a first attempt,
measured in the same run, per mode. A retry appends the failed reply and the feedback to the prompt, so
llama.cpp evaluates only those new tokens. Rows stream to ``--out`` as JSONL; a rerun resumes.

    python benchmarks/assertions.py [--data DIR] [--n 100] [--k 5] [--backtracks 2] [--reuse-replies]

``--reuse-replies`` runs the model with ``LlamaCpp(reproducible=False)``: any cached prefix is
reused and every prompt is evaluated in batches, so results may depend on the order of calls.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

import citations
import corpora
from refine import (
    Assert,
    AssertionFailed,
    BM25Retriever,
    CitedQA,
    LlamaCpp,
    ParseError,
    Predict,
    Prediction,
    Suggest,
    checks,
)
from refine.history import Attempt
from refine.lm import LM, LMRequest, Message
from refine.program._assertions import violations_of

RULES = (checks.non_empty("answer"), checks.citations_valid("answer"), checks.every_sentence_cited("answer"))
MODES = ("none", "suggest", "assert", "grammar", "grammar+support", "suggest/rebuilt", "grammar+support/rebuilt")
# A one-token request whose prompt shares nothing with the benchmark's: sending it empties the cache.
FLUSH = LMRequest((Message("user", "."),), max_tokens=1)
# The same prompt in every mode: CitedQA's instructions, without its declared citation rule, so
# that only the assertions under test check the answer.
PLAIN = CitedQA().with_field("answer", citations=None)


def predictor(mode: str, backtracks: int, max_tokens: int) -> Predict:
    mode = mode.removesuffix("/rebuilt")
    if mode == "grammar":
        return Predict(CitedQA, max_backtracks=0, max_tokens=max_tokens)
    if mode == "grammar+support":
        supported = Suggest(checks.citations_supported(citations.LexicalChecker()))
        return Predict(CitedQA, assertions=[supported], max_backtracks=backtracks, max_tokens=max_tokens)
    rules: list[Any] = []
    if mode == "suggest":
        rules = [Suggest(rule) for rule in RULES]
    elif mode == "assert":
        rules = [Assert(rule) for rule in RULES]
    return Predict(
        PLAIN, assertions=rules, max_backtracks=backtracks if rules else 0, constrained=False, max_tokens=max_tokens
    )


def passes(outputs: dict[str, Any] | None, inputs: dict[str, Any]) -> bool:
    if outputs is None:
        return False
    prediction = Prediction(outputs, inputs=inputs)
    return not any(violations_of(Assert(rule), prediction) for rule in RULES)


def rebuilt(lm: LM, attempts: Sequence[Attempt]) -> dict[str, Any]:
    """Each retry sent again with a cold cache: its seconds, and whether it said the same."""
    seconds, same = [], []
    for attempt in attempts[1:]:
        lm.complete(FLUSH)
        cold = lm.complete(attempt.request)
        seconds.append(cold.seconds)
        same.append(cold.text == attempt.response.text)
    return {"cold_seconds": seconds, "cold_same": same}


def run_one(predict: Predict, lm: LM, inputs: dict[str, Any]) -> dict[str, Any]:
    exhausted = False
    attempts: tuple[Attempt, ...]
    outputs: dict[str, Any] | None
    try:
        prediction = predict(lm=lm, **inputs)
        attempts, outputs = prediction.attempts, dict(prediction.outputs)
    except (AssertionFailed, ParseError) as exc:
        exhausted = True
        attempts = tuple(exc.attempts)
        last = attempts[-1].outputs
        outputs = dict(last) if last is not None else None
    return {
        "passed": passes(outputs, inputs),
        "exhausted": exhausted,
        "calls": len(attempts),
        "prompt_tokens": sum(a.response.prompt_tokens for a in attempts),
        "completion_tokens": sum(a.response.completion_tokens for a in attempts),
        "first_seconds": attempts[0].response.seconds,
        "first_tokens": [attempts[0].response.prompt_tokens, attempts[0].response.completion_tokens],
        "retry_completion_tokens": [a.response.completion_tokens for a in attempts[1:]],
        "retry_cached_tokens": [a.response.cached_tokens for a in attempts[1:]],
        "retry_prompt_tokens": [a.response.prompt_tokens for a in attempts[1:]],
        "retry_seconds": [a.response.seconds for a in attempts[1:]],
        "retry_new_tokens": [
            b.response.prompt_tokens - a.response.prompt_tokens for a, b in itertools.pairwise(attempts)
        ],
        "answer": outputs.get("answer") if outputs else None,
        "attempts": attempts,
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
    def mean(values: Sequence[float]) -> float:
        return statistics.fmean(values) if values else 0.0

    return {
        "n": len(rows),
        "passed": mean([float(r["passed"]) for r in rows]),
        "exhausted": mean([float(r["exhausted"]) for r in rows]),
        "calls": mean([r["calls"] for r in rows]),
        "tokens": mean([r["prompt_tokens"] + r["completion_tokens"] for r in rows]),
        "first": mean([r["first_seconds"] for r in rows]),
        "retry": mean([s for r in rows for s in r["retry_seconds"]]),
        "retries": sum(len(r["retry_seconds"]) for r in rows),
        "new_tokens": mean([t for r in rows for t in r["retry_new_tokens"]]),
        "retry_completion": mean([t for r in rows for t in r["retry_completion_tokens"]]),
        "first_prompt": mean([r["first_tokens"][0] for r in rows]),
        "first_completion": mean([r["first_tokens"][1] for r in rows]),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=corpora.shared_data_dir())
    parser.add_argument("--n", type=int, default=100, help="questions (default: %(default)s)")
    parser.add_argument("--k", type=int, default=5, help="passages retrieved (default: %(default)s)")
    parser.add_argument("--backtracks", type=int, default=2, help="retries per question (default: %(default)s)")
    parser.add_argument("--max-tokens", type=int, default=256, help="tokens per reply (default: %(default)s)")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated (default: %(default)s)")
    parser.add_argument("--reuse-replies", action="store_true", help="LlamaCpp(reproducible=False)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/assertions.jsonl"))
    args = parser.parse_args(argv)
    if args.data is None or not args.data.is_dir():
        print("no data folder: pass --data DIR or set REFINE_DATA (see ../shared/data)", file=sys.stderr)
        return 2
    modes = [m for m in args.modes.split(",") if m]
    unknown = sorted(set(modes) - set(MODES))
    if unknown:
        print(f"--modes names unknown mode(s) {', '.join(unknown)}; use some of {', '.join(MODES)}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    finished = done_rows(args.out)
    data = corpora.load_hotpotqa(args.data / "hotpotqa" / "dev397.jsonl")
    retriever = BM25Retriever.build(data.passages)
    examples = data.examples[: args.n]
    lm = LlamaCpp(reproducible=not args.reuse_replies)
    summaries: dict[str, dict[str, float]] = {}
    with args.out.open("a") as sink, Progress(console=Console(stderr=True)) as progress:
        for mode in modes:
            predict = predictor(mode, args.backtracks, args.max_tokens)
            bar = progress.add_task(mode, total=len(examples))
            rows = []
            for example in examples:
                key = (mode, example.id)
                if key not in finished:
                    passages = [hit.passage for hit in retriever.search(example.question, k=args.k)]
                    inputs = {"passages": passages, "question": example.question}
                    row = {"mode": mode, "id": example.id} | run_one(predict, lm, inputs)
                    attempts = row.pop("attempts")
                    if mode.endswith("/rebuilt"):
                        row |= rebuilt(lm, attempts)
                    sink.write(json.dumps(row) + "\n")
                    sink.flush()
                    finished[key] = row
                rows.append(finished[key])
                progress.advance(bar)
            summaries[mode] = summarise(rows)
    table = Table(title=f"Assertions, SmolLM2-135M, HotpotQA, BM25 top-{args.k}, first {args.n} questions")
    for column in ("mode", "n", "rules pass", "exhausted", "LM calls/q", "tokens/q", "first s", "retry s", "retries"):
        table.add_column(column)
    for mode, s in summaries.items():
        table.add_row(
            mode,
            str(s["n"]),
            f"{s['passed']:.0%}",
            f"{s['exhausted']:.0%}",
            f"{s['calls']:.2f}",
            f"{s['tokens']:.0f}",
            f"{s['first']:.2f}",
            f"{s['retry']:.2f}" if s["retries"] else "-",
            str(s["retries"]),
        )
    Console(width=140).print(table)
    for mode, s in summaries.items():
        if s["retries"]:
            print(
                f"retry cost, {mode}: mean retry {s['retry']:.2f} s / mean first attempt {s['first']:.2f} s "
                f"= {s['retry'] / s['first']:.2f} ({s['retries']} retries adding {s['new_tokens']:.0f} prompt "
                f"tokens and {s['retry_completion']:.0f} generated tokens on average; first attempts "
                f"{s['first_prompt']:.0f} and {s['first_completion']:.0f})"
            )
    for mode in (m for m in summaries if m.endswith("/rebuilt")):
        rows = [finished[(mode, e.id)] for e in examples]
        warm = [t for r in rows for t in r["retry_seconds"]]
        cold = [t for r in rows for t in r["cold_seconds"]]
        same = [x for r in rows for x in r["cold_same"]]
        first = statistics.fmean(r["first_seconds"] for r in rows)
        if warm:
            print(
                f"{mode}: the same {len(warm)} retries with the prefix kept vs rebuilt: {statistics.fmean(warm):.2f} s "
                f"vs {statistics.fmean(cold):.2f} s, i.e. {statistics.fmean(warm) / first:.2f} vs "
                f"{statistics.fmean(cold) / first:.2f} of a first attempt "
                f"({sum(same)} of {len(same)} replies identical)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
