"""Questions a new user asks about Python, on the shipped python-docs corpus: retrieval, then cited answers.

The questions and their targets are ``benchmarks/python_docs_questions.jsonl``, one
``{"question", "target"}`` a line. A target names where the answer is:

- ``python-docs:nonlocal``: a language-reference topic; any chunk ``python-docs:nonlocal#<n>`` hits;
- ``json``: a standard library module; any passage whose metadata ``module`` is ``json`` hits;
- ``builtins.open``: a documented object; any passage whose metadata ``object`` is that name hits.

A target the corpus does not hold is an error naming it, except on a corpus that documents no
module at all (refine before the standard library joined python-docs): there module and object
targets are kept, and count as misses.

Retrieval is what ``refine ask`` does: :func:`refine.cli.open_retriever` on ``python-docs`` (the
shipped index with its token settings), searched for the top 5; a question hits@1 or hits@5 when
its target is at rank 1 or in the top 5. Then, unless ``--retrieval-only``, the question is
answered as ``refine ask`` answers it: :class:`refine.CitedRAG` with its defaults (its own top-k,
3, which is also ``refine ask -k``'s default), on the embedded model. Per answer sentence (as
:func:`citations.parse` reads it) it records, with :mod:`benchmarks.answer_form`'s definitions,
whether it is cut (ends mid-word at the length cap, or on a dangling function word or ``,;:-``),
and per answer: a repeated word 5-gram, how many sentences cite a passage and how many of those the
cited passages support by :class:`citations.LexicalChecker`, citation validity, LM calls, seconds.

Rows stream to ``--out`` under ``--label`` (e.g. ``before``/``after``); a rerun resumes, and an
answering run redoes the questions a ``--retrieval-only`` run left unanswered. The table shows one
row per label found in ``--out``.

    python benchmarks/python_docs.py [--questions FILE] [--n 60] [--label NAME] [--retrieval-only] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

import citations
from benchmarks.answer_form import repeated_5gram, sentence_flags
from corpora import Passage
from refine import BM25Retriever, CitedRAG, LlamaCpp, RefineError
from refine.cli._main import open_retriever

logger = logging.getLogger(__name__)

CORPUS = "python-docs"
TOPIC_PREFIX = f"{CORPUS}:"
QUESTIONS = Path(__file__).with_name("python_docs_questions.jsonl")
RETRIEVAL_K = 5
NONE = "-"  # a measure this label has no rows for (a --retrieval-only run answers nothing)
Kind = Literal["topic", "module", "object"]


class QuestionFileError(ValueError):
    """The question file is malformed, repeats a question, or names a target the corpus lacks."""


@dataclass(frozen=True)
class Question:
    question: str
    target: str


@dataclass(frozen=True)
class CorpusNames:
    """The topics, modules and documented objects of a python-docs corpus, from passage metadata."""

    topics: frozenset[str]
    modules: frozenset[str]
    objects: frozenset[str]

    @classmethod
    def of(cls, passages: Iterable[Passage]) -> CorpusNames:
        found: dict[str, set[str]] = {"topic": set(), "module": set(), "object": set()}
        for passage in passages:
            for key, names in found.items():
                value = passage.metadata.get(key)
                if isinstance(value, str):
                    names.add(value)
        return cls(frozenset(found["topic"]), frozenset(found["module"]), frozenset(found["object"]))

    def kind(self, target: str) -> Kind | None:
        """What ``target`` names in this corpus, or None when it names nothing here."""
        if target.startswith(TOPIC_PREFIX):
            return "topic" if target.removeprefix(TOPIC_PREFIX) in self.topics else None
        if target in self.modules:
            return "module"
        if target in self.objects:
            return "object"
        return None


def load_questions(path: Path, names: CorpusNames) -> tuple[Question, ...]:
    """The questions of ``path``, each target checked against ``names``.

    On a corpus with no module passages a target that is not a topic cannot be checked; it is kept
    (and can never be hit), with one warning.
    """
    questions: list[Question] = []
    seen: dict[str, int] = {}
    absent: list[str] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise QuestionFileError(
                f"{where} is not JSON ({exc.msg}); write one {{'question', 'target'}} a line"
            ) from exc
        if not isinstance(record, dict) or set(record) != {"question", "target"}:
            raise QuestionFileError(f"{where} holds {line.strip()!r}; each line needs exactly 'question' and 'target'")
        question, target = record["question"], record["target"]
        if not isinstance(question, str) or not question.strip() or not isinstance(target, str):
            raise QuestionFileError(f"{where}: question={question!r} target={target!r} must be a non-empty text each")
        if question in seen:
            raise QuestionFileError(f"{where} repeats the question {question!r} of line {seen[question]}")
        seen[question] = number
        if names.kind(target) is None:
            if target.startswith(TOPIC_PREFIX) or names.modules:
                raise QuestionFileError(
                    f"{where}: target {target!r} is not in the {CORPUS} corpus; name a topic as "
                    f"'{TOPIC_PREFIX}nonlocal', a module as 'json' or a documented object as 'builtins.open'"
                )
            absent.append(target)
        questions.append(Question(question, target))
    if absent:
        logger.warning(
            "the corpus documents no module: %d questions whose targets are modules or objects count as misses",
            len(absent),
        )
    return tuple(questions)


def hits_target(target: str, passage: Passage) -> bool:
    if target.startswith(TOPIC_PREFIX):
        return passage.id.rpartition("#")[0] == target
    return target in (passage.metadata.get("module"), passage.metadata.get("object"))


def target_rank(target: str, passages: Sequence[Passage]) -> int | None:
    """The 1-based rank of the first passage ``target`` names, or None."""
    return next((rank for rank, p in enumerate(passages, 1) if hits_target(target, p)), None)


def retrieval_row(retriever: BM25Retriever, question: Question) -> dict[str, Any]:
    started = time.perf_counter()
    hits = retriever.search(question.question, k=RETRIEVAL_K)
    seconds = time.perf_counter() - started
    passages = [hit.passage for hit in hits]
    return {
        "retrieved": [p.id for p in passages],
        "rank": target_rank(question.target, passages),
        "search_seconds": seconds,
    }


def answer_row(rag: CitedRAG, lm: LlamaCpp, question: Question) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        result = rag(question=question.question, lm=lm)
    except RefineError as exc:
        seconds = time.perf_counter() - started
        calls = len(getattr(exc, "attempts", ()))
        row: dict[str, Any] = {"error": f"{type(exc).__name__}: {exc}", "answer": "", "calls": calls, "valid": False}
        passages: tuple[Passage, ...] = ()
    else:
        seconds = time.perf_counter() - started
        passages = result.passages
        row = {"answer": result.answer, "calls": result.usage.calls, "valid": result.valid}
    context = question.question + " " + " ".join(p.text for p in passages)
    report = citations.check(row["answer"], passages, checker=citations.LexicalChecker())
    supports = [f.support.supported for f in report.findings if f.support is not None]
    sentences = sentence_flags(row["answer"], context)
    return row | {
        "k": rag.k,
        "passages": [p.id for p in passages],
        "sentences": sentences,
        "cut": any(s["mid_word"] or s["dangling"] for s in sentences),
        "repeated_5gram": repeated_5gram(row["answer"]),
        "cited_sentences": len(supports),
        "supported_sentences": sum(supports),
        "seconds": seconds,
    }


def read_rows(path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """The rows of ``path`` by (label, question); a later row replaces an earlier one."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
                rows[(row["label"], row["question"])] = row
            except (json.JSONDecodeError, KeyError, TypeError):
                continue  # a line cut by an interruption; it is redone
    return rows


def summarise(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    answered = [r for r in rows if "answer" in r]
    sentences = [s for r in answered for s in r["sentences"]]
    cited = sum(r["cited_sentences"] for r in answered)

    def share(values: Iterable[bool]) -> float | None:
        items = list(values)
        return statistics.fmean(items) if items else None

    return {
        "n": len(rows),
        "hit1": share(r["rank"] == 1 for r in rows),
        "hit5": share(r["rank"] is not None for r in rows),
        "answered": len(answered),
        "errors": sum("error" in r for r in answered),
        "sentences": len(sentences),
        "sentences_cut": share(s["mid_word"] or s["dangling"] for s in sentences),
        "cut": share(r["cut"] for r in answered),
        "repeated": share(r["repeated_5gram"] for r in answered),
        "cut_or_repeated": share(r["cut"] or r["repeated_5gram"] for r in answered),
        "cited": cited,
        "supported": sum(r["supported_sentences"] for r in answered) / cited if cited else None,
        "valid": share(bool(r["valid"]) for r in answered),
        "calls": statistics.fmean(r["calls"] for r in answered) if answered else None,
        "seconds": statistics.fmean(r["seconds"] for r in answered) if answered else None,
    }


def table(summaries: dict[str, dict[str, Any]], k: int) -> Table:
    def pct(value: float | None) -> str:
        return NONE if value is None else f"{value:.1%}"

    def num(value: float | None, digits: int = 2) -> str:
        return NONE if value is None else f"{value:.{digits}f}"

    result = Table(
        title=f"python-docs questions: BM25 as refine ask retrieves (hits in the top {RETRIEVAL_K}), answers by "
        f"CitedRAG's defaults (k={k}) on SmolLM2-135M; supported = cited sentences the lexical checker supports"
    )
    for column in (
        "label",
        "questions",
        "hit@1",
        "hit@5",
        "answered",
        "errors",
        "sentences",
        "sentences cut",
        "answers cut",
        "answers repeated",
        "cut or repeated",
        "cited sentences",
        "supported",
        "valid",
        "calls/q",
        "s/q",
    ):
        result.add_column(column, no_wrap=column == "label")
    for label, s in summaries.items():
        answered = s["answered"] > 0
        result.add_row(
            label,
            str(s["n"]),
            pct(s["hit1"]),
            pct(s["hit5"]),
            str(s["answered"]),
            str(s["errors"]) if answered else NONE,
            str(s["sentences"]) if answered else NONE,
            pct(s["sentences_cut"]),
            pct(s["cut"]),
            pct(s["repeated"]),
            pct(s["cut_or_repeated"]),
            str(s["cited"]) if answered else NONE,
            pct(s["supported"]),
            pct(s["valid"]),
            num(s["calls"]),
            num(s["seconds"]),
        )
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=QUESTIONS, help="a JSONL file of questions and targets")
    parser.add_argument("--n", type=int, default=None, help="only the first N questions (default: all)")
    parser.add_argument(
        "--label", default="current", help="names this run's rows, e.g. before or after (default: %(default)s)"
    )
    parser.add_argument("--retrieval-only", action="store_true", help="retrieve only; the model is not loaded")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/python_docs.jsonl"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    retriever = open_retriever(CORPUS)
    try:
        questions = load_questions(args.questions, CorpusNames.of(retriever.passages))
    except (OSError, QuestionFileError) as exc:
        print(exc, file=sys.stderr)
        return 2
    questions = questions[: args.n]
    rag = CitedRAG(retriever)
    lm = None if args.retrieval_only else LlamaCpp()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    done = read_rows(args.out)
    console = Console(stderr=True)
    with args.out.open("a", encoding="utf-8") as sink, Progress(console=console) as progress:
        bar = progress.add_task(f"{args.label}: {len(questions)} questions", total=len(questions))
        for question in questions:
            key = (args.label, question.question)
            previous = done.get(key)
            if (
                previous is None
                or previous["target"] != question.target
                or (lm is not None and "answer" not in previous)
            ):
                row: dict[str, Any] = {"label": args.label, "question": question.question, "target": question.target}
                row |= retrieval_row(retriever, question)
                if lm is not None:
                    row |= answer_row(rag, lm, question)
                sink.write(json.dumps(row) + "\n")
                sink.flush()
                done[key] = row
            progress.advance(bar)
    wanted = {(q.question, q.target) for q in questions}
    by_label: dict[str, list[dict[str, Any]]] = {}
    for (label, _), row in done.items():
        if (row["question"], row["target"]) in wanted:
            by_label.setdefault(label, []).append(row)
    Console(width=200).print(table({label: summarise(rows) for label, rows in by_label.items()}, rag.k))
    return 0


if __name__ == "__main__":
    sys.exit(main())
