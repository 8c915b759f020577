"""How cited answers read on the embedded model: sentences cut short, repetition, accuracy.

For each question: BM25 top-k over the pooled paragraphs, then :class:`refine.CitedRAG` (its
defaults: citation grammar, up to two retries). Per answer sentence (as :func:`citations.parse`
reads it) it counts:

- ``at cap``: the sentence used the grammar's whole length budget (it was stopped, not ended);
- ``mid-word``: at the cap, and its last word appears nowhere in the question or the passages
  (a word cut in two, like "file-b");
- ``dangling``: its last word is a function word ("the", "of", "which", ...) or it ends in
  ``, ; : -`` (a clause cut off);

and per answer: a repeated word 5-gram, EM and F1 against the gold answers (markers removed),
citation validity, LM calls. Rows stream to ``--out``; a rerun resumes.

    python benchmarks/answer_form.py [--data DIR] [--dataset hotpotqa|nq] [--n 100] [--k 3] [--label NAME]
                                     [--no-repetition]
"""

from __future__ import annotations

import argparse
import inspect
import json
import logging
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.table import Table

import citations
import corpora
from refine import BM25Retriever, CitedRAG, LlamaCpp, RefineError, Suggest, checks
from refine.constraints import cited_text_pattern
from refine.metrics import exact_match, token_f1
from refine.program._predict import copied_feedback

FUNCTION_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "from",
        "with",
        "into",
        "onto",
        "as",
        "than",
        "that",
        "which",
        "who",
        "whom",
        "whose",
        "what",
        "when",
        "where",
        "while",
        "whereas",
        "and",
        "or",
        "but",
        "nor",
        "so",
        "yet",
        "if",
        "because",
        "although",
        "though",
        "unless",
        "until",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "has",
        "have",
        "had",
        "do",
        "does",
        "did",
        "can",
        "could",
        "will",
        "would",
        "shall",
        "should",
        "may",
        "might",
        "must",
        "it",
        "its",
        "this",
        "these",
        "those",
        "there",
        "their",
        "his",
        "her",
        "our",
        "your",
        "my",
        "not",
        "no",
        "very",
        "such",
        "also",
        "including",
        "like",
        "about",
        "over",
        "under",
        "between",
        "among",
        "after",
        "before",
    ]
)
_WORD = re.compile(r"[\w'-]+")
# The length budget of a sentence in the default citation grammar, less its first characters.
CAP = inspect.signature(cited_text_pattern).parameters["max_sentence_chars"].default - 3


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def sentence_flags(answer: str, context: str) -> list[dict[str, bool]]:
    vocabulary = set(words(context))
    flags = []
    for claim in citations.parse(answer):
        text = claim.text.strip().rstrip(".").strip()
        if not text:
            continue
        last = words(text)[-1] if words(text) else ""
        at_cap = len(text) >= CAP
        flags.append(
            {
                "at_cap": at_cap,
                "mid_word": at_cap and last not in vocabulary,
                "dangling": last in FUNCTION_WORDS or text[-1] in ",;:-",
            }
        )
    return flags


def repeated_5gram(answer: str) -> bool:
    tokens = words(citations.strip_markers(answer))
    grams = Counter(tuple(tokens[i : i + 5]) for i in range(len(tokens) - 4))
    return any(n > 1 for n in grams.values())


def load(dataset: str, data: Path) -> corpora.QADataset:
    if dataset == "hotpotqa":
        return corpora.load_hotpotqa(data / "hotpotqa" / "dev397.jsonl")
    return corpora.load_nq(data / "nq_open" / "oracle1500.jsonl.gz")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=corpora.shared_data_dir())
    parser.add_argument("--dataset", choices=("hotpotqa", "nq"), default="hotpotqa")
    parser.add_argument("--n", type=int, default=100, help="questions (default: %(default)s)")
    parser.add_argument("--k", type=int, default=3, help="passages retrieved (default: %(default)s)")
    parser.add_argument(
        "--no-repetition", action="store_true", help="add Suggest(checks.no_repetition()): a repeated 5-gram is retried"
    )
    parser.add_argument(
        "--label", default="current", help="names this run's rows, e.g. the commit (default: %(default)s)"
    )
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/answer_form.jsonl"))
    args = parser.parse_args(argv)
    if args.data is None or not args.data.is_dir():
        print("no data folder: pass --data DIR or set REFINE_DATA (see ../shared/data)", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING)
    label = args.label
    data = load(args.dataset, args.data)
    retriever = BM25Retriever.build(data.passages)
    lm = LlamaCpp()
    rules = [Suggest(checks.no_repetition())] if args.no_repetition else []
    rag = CitedRAG(retriever, k=args.k, lm=lm, assertions=rules)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    done = {}
    if args.out.exists():
        for line in args.out.read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by an interruption; it is redone
            done[(row["label"], row["dataset"], row["id"])] = row
    rows = []
    with args.out.open("a") as sink:
        for example in data.examples[: args.n]:
            key = (label, args.dataset, example.id)
            if key not in done:
                started = time.perf_counter()
                try:
                    result = rag(question=example.question)
                except RefineError as exc:
                    calls = len(getattr(exc, "attempts", ()))
                    row = {"error": f"{type(exc).__name__}: {exc}", "answer": "", "calls": calls}
                    context = example.question
                else:
                    retries = list(zip(result.attempts, result.attempts[1:], strict=False))
                    row = {
                        "answer": result.answer,
                        "calls": result.usage.calls,
                        "valid": result.valid,
                        "retries": len(retries),
                        # A retry whose reply repeats the feedback it was given (refine rejects it).
                        "retries_copying": sum(
                            copied_feedback(now.response.text, before.feedback) is not None for before, now in retries
                        ),
                        "answer_copies": any(
                            copied_feedback(result.answer, a.feedback) is not None for a in result.attempts[:-1]
                        ),
                    }
                    context = example.question + " " + " ".join(p.text for p in result.passages)
                plain = citations.strip_markers(row["answer"])
                row |= {
                    "label": label,
                    "dataset": args.dataset,
                    "id": example.id,
                    "sentences": sentence_flags(row["answer"], context),
                    "repeated_5gram": repeated_5gram(row["answer"]),
                    "em": exact_match(plain, example.answers),
                    "f1": token_f1(plain, example.answers),
                    "seconds": time.perf_counter() - started,
                }
                sink.write(json.dumps(row) + "\n")
                sink.flush()
                done[key] = row
            rows.append(done[key])
    sentences = [s for r in rows for s in r["sentences"]]

    def share(key: str) -> float:
        return sum(s[key] for s in sentences) / len(sentences) if sentences else 0.0

    bad = sum(s["mid_word"] or s["dangling"] for s in sentences) / len(sentences) if sentences else 0.0
    table = Table(title=f"Cited answers on SmolLM2-135M, {args.dataset}, first {len(rows)} questions, k={args.k}")
    for column in (
        "label",
        "sentences",
        "at cap",
        "mid-word",
        "dangling",
        "mid-word or dangling",
        "repeated 5-gram",
        "EM",
        "F1",
        "valid",
        "LM calls/q",
        "retries copying feedback",
        "s/q",
    ):
        table.add_column(column)
    table.add_row(
        label,
        str(len(sentences)),
        f"{share('at_cap'):.1%}",
        f"{share('mid_word'):.1%}",
        f"{share('dangling'):.1%}",
        f"{bad:.1%}",
        f"{statistics.fmean(r['repeated_5gram'] for r in rows):.1%}",
        f"{statistics.fmean(r['em'] for r in rows):.3f}",
        f"{statistics.fmean(r['f1'] for r in rows):.3f}",
        f"{statistics.fmean(bool(r.get('valid')) for r in rows):.0%}",
        f"{statistics.fmean(r['calls'] for r in rows):.2f}",
        f"{sum(r.get('retries_copying', 0) for r in rows)} of {sum(r.get('retries', 0) for r in rows)}",
        f"{statistics.fmean(r['seconds'] for r in rows):.2f}",
    )
    Console(width=160).print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
