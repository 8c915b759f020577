"""How well each citation-support checker separates supported from unsupported claims (WiCE dev).

Each WiCE claim is a real Wikipedia sentence with the web page it cites, split into sentences;
the sentences are the passages. For every checker this prints the ROC AUC of its score over
``supported`` (positive) against ``not_supported`` claims, the accuracy at its best threshold and
at its own threshold, the mean score of ``partially_supported`` claims (reported apart), and the
seconds per claim.

    python benchmarks/wice_support.py [--data DIR] [--checkers lexical,lm,embedding] [--limit N]

Checkers: ``lexical`` (the default LexicalChecker: all passages together), ``lexical-best`` (best
single sentence), ``lexical-window`` (best run of 3 sentences), ``lm`` (LMJudge on refine's
embedded model, shown the ``--lm-evidence`` sentences that overlap the claim most, since 120
sentences do not fit its context), ``embedding`` (needs the optional embedding extra).
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from citations import JUDGE_CHOICES, EmbeddingChecker, LexicalChecker, LMJudge, MissingExtra, SupportChecker
from corpora import Passage

logger = logging.getLogger("benchmarks.wice_support")

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = Path(os.environ.get("REFINE_DATA", ROOT.parent / "shared" / "data"))
POSITIVE, NEGATIVE, PARTIAL = "supported", "not_supported", "partially_supported"


@dataclass(frozen=True)
class Row:
    label: str
    claim: str
    passages: tuple[Passage, ...]


@dataclass(frozen=True)
class Result:
    checker: str
    auc: float
    best_accuracy: float
    best_threshold: float
    own_accuracy: float
    partial_mean: float
    seconds_per_claim: float
    claims: int


def load(path: Path, limit: int | None = None) -> list[Row]:
    """WiCE rows as claims with their evidence sentences as passages (``s0``, ``s1``, ...)."""
    rows: list[Row] = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            data = json.loads(line)
            passages = tuple(
                Passage(id=f"s{index}", title="", text=sentence) for index, sentence in enumerate(data["evidence"])
            )
            rows.append(Row(label=data["label"], claim=data["claim"], passages=passages))
            if limit is not None and len(rows) >= limit:
                break
    return rows


def roc_auc(scores: Sequence[float], positives: Sequence[bool]) -> float:
    """The probability that a random positive outscores a random negative (ties count half)."""
    pairs = sorted(zip(scores, positives, strict=True))
    ranks = [0.0] * len(pairs)
    start = 0
    while start < len(pairs):
        stop = start
        while stop + 1 < len(pairs) and pairs[stop + 1][0] == pairs[start][0]:
            stop += 1
        for index in range(start, stop + 1):
            ranks[index] = (start + stop) / 2 + 1
        start = stop + 1
    n_pos = sum(positive for _, positive in pairs)
    n_neg = len(pairs) - n_pos
    if not n_pos or not n_neg:
        return float("nan")
    rank_sum = sum(rank for rank, (_, positive) in zip(ranks, pairs, strict=True) if positive)
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def accuracy(scores: Sequence[float], positives: Sequence[bool], threshold: float) -> float:
    hits = sum((score >= threshold) == positive for score, positive in zip(scores, positives, strict=True))
    return hits / len(scores) if scores else float("nan")


def best_threshold(scores: Sequence[float], positives: Sequence[bool]) -> tuple[float, float]:
    """The threshold (among the scores, plus one above all) with the highest accuracy, and that accuracy."""
    candidates = [*sorted(set(scores)), float("inf")]
    best = max(candidates, key=lambda threshold: (accuracy(scores, positives, threshold), -threshold))
    return best, accuracy(scores, positives, best)


def evaluate(name: str, checker: SupportChecker, rows: Sequence[Row], progress: Callable[[], None]) -> Result:
    scored: list[tuple[str, float]] = []
    started = time.perf_counter()
    for done, row in enumerate(rows, start=1):
        scored.append((row.label, checker.score(row.claim, row.passages)))
        progress()
        if done % 10 == 0:
            logger.info("%s: %d/%d claims, %.2f s/claim", name, done, len(rows), (time.perf_counter() - started) / done)
    seconds = (time.perf_counter() - started) / max(1, len(rows))
    binary = [(score, label == POSITIVE) for label, score in scored if label in (POSITIVE, NEGATIVE)]
    scores = [score for score, _ in binary]
    positives = [positive for _, positive in binary]
    partial = [score for label, score in scored if label == PARTIAL]
    threshold, best = best_threshold(scores, positives)
    return Result(
        checker=name,
        auc=roc_auc(scores, positives),
        best_accuracy=best,
        best_threshold=threshold,
        own_accuracy=accuracy(scores, positives, checker.threshold),
        partial_mean=sum(partial) / len(partial) if partial else float("nan"),
        seconds_per_claim=seconds,
        claims=len(binary),
    )


@dataclass(frozen=True)
class Preselected:
    """A checker shown only the ``k`` passages that share most terms with the claim, in their order."""

    inner: SupportChecker
    k: int

    @property
    def threshold(self) -> float:
        return self.inner.threshold

    def score(self, claim: str, passages: Sequence[Passage]) -> float:
        ranker = LexicalChecker(mode="best")
        ranked = sorted(range(len(passages)), key=lambda i: -ranker.score(claim, [passages[i]]))
        chosen = sorted(ranked[: self.k])
        return self.inner.score(claim, [passages[i] for i in chosen])


def lm_judge(k: int) -> SupportChecker:
    """LMJudge on refine's embedded model, its reply constrained to yes/no."""
    from refine import Choice, LlamaCpp, LMRequest, Message

    lm = LlamaCpp()
    constraint = Choice(JUDGE_CHOICES)

    def ask(prompt: str) -> str:
        request = LMRequest(messages=(Message("user", prompt),), constraint=constraint, max_tokens=3)
        return lm.complete(request).text

    return Preselected(LMJudge(ask, max_chars=3000), k)


def embedding_checker() -> SupportChecker:
    checker = EmbeddingChecker()
    checker.score("probe", [Passage(id="probe", title="", text="probe")])  # loads the model, or fails now
    return checker


def checkers(names: Sequence[str], lm_evidence: int) -> dict[str, Callable[[], SupportChecker]]:
    known: dict[str, Callable[[], SupportChecker]] = {
        "lexical": LexicalChecker,
        "lexical-best": lambda: LexicalChecker(mode="best"),
        "lexical-window": lambda: LexicalChecker(mode="window", window=3),
        "lm": lambda: lm_judge(lm_evidence),
        "embedding": embedding_checker,
    }
    unknown = [name for name in names if name not in known]
    if unknown:
        raise SystemExit(f"unknown checker(s) {', '.join(unknown)}; choose from {', '.join(known)}")
    return {name: known[name] for name in names}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder holding wice/dev.jsonl")
    parser.add_argument("--checkers", default="lexical,lexical-best,lexical-window,lm")
    parser.add_argument("--limit", type=int, default=None, help="read only the first N rows")
    parser.add_argument("--lm-evidence", type=int, default=8, help="sentences shown to the LM judge")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument(
        "--skip-partial", action="store_true", help="do not score partially_supported claims (halves the LM's time)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    logger.setLevel(logging.INFO)

    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    console = Console()
    path = args.data / "wice" / "dev.jsonl"
    if not path.is_file():
        console.print(f"[red]no WiCE data at {path}; pass --data DIR (the folder holding wice/dev.jsonl)")
        return 2
    rows = [row for row in load(path, args.limit) if not (args.skip_partial and row.label == PARTIAL)]
    results: list[Result] = []
    failures: dict[str, str] = {}
    for name, make in checkers(args.checkers.split(","), args.lm_evidence).items():
        try:
            checker = make()
        except MissingExtra as exc:  # an optional extra that is not installed
            failures[name] = f"not available: {exc}"
            continue
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task(name, total=len(rows))
            results.append(evaluate(name, checker, rows, functools.partial(progress.advance, task)))

    table = Table(title=f"WiCE dev: supported vs not_supported ({results[0].claims if results else 0} claims)")
    for column in ("checker", "ROC AUC", "best acc. (threshold)", "acc. at own threshold", "partial mean", "s/claim"):
        table.add_column(column, justify="left" if column == "checker" else "right")
    for result in results:
        table.add_row(
            result.checker,
            f"{result.auc:.3f}",
            f"{result.best_accuracy:.3f} ({result.best_threshold:.2f})",
            f"{result.own_accuracy:.3f}",
            f"{result.partial_mean:.3f}",
            f"{result.seconds_per_claim:.4f}",
        )
    console.print(table)
    for name, reason in failures.items():
        console.print(f"[yellow]{name}: {reason}")
    if args.json:
        args.json.write_text(json.dumps([result.__dict__ for result in results], indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
