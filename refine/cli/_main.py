"""The ``refine`` command: ``refine ask QUESTION``, ``refine index PATH --out DIR``,
``refine eval --data PATH --out FILE`` and ``refine optimize --train PATH --save FILE`` (whose
file ``ask`` and ``eval`` take as ``--program FILE``).

Exit status: 0 an answer with valid citations (or an index written, an evaluation finished, a
program compiled and saved),
1 an answer without any,
2 bad input (the fix is in the command line or its files), 3 a failure while running (a damaged
index, a model that failed), 130 interrupted, 141 the reader of the output went away (a closed
pipe, as with ``| head``). Errors are one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import citations
import corpora
from corpora import FOLDER_SUFFIXES, count_tokens, encoding_problem
from refine import metrics, retrieval
from refine.cli._optimize import OPTIMIZERS, make_optimizer, optimize_command, with_program
from refine.errors import ContextOverflow, CorpusError, RefineError, RuntimeFailure, UsageError
from refine.evaluation import EvaluationInterrupted, evaluate
from refine.evaluation._datasets import FORMATS, load_dataset
from refine.lm import LM, LlamaCpp, from_spec, parse_spec
from refine.rag import CitedAnswer, CitedQA, CitedRAG, ExtractiveQA, SpanRAG
from refine.retrieval._damage import MANIFEST

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["main", "open_retriever"]

logger = logging.getLogger(__name__)
DEFAULT_CORPUS = "python-docs"
EXIT_OK = 0
EXIT_UNCITED = 1
EXIT_USAGE = 2
EXIT_FAILURE = 3
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a reader that went away
# OSErrors whose fix is another path on the command line.
_PATH_ERRORS = (PermissionError, FileNotFoundError, IsADirectoryError, NotADirectoryError)
_EPILOG = (
    "exit status: 0 an answer with valid citations, 1 an answer without any, 2 bad input, "
    "3 a failure while running (a damaged index, a model that failed), 130 interrupted"
)


def open_retriever(corpus: str) -> retrieval.BM25Retriever:
    """A retriever for a shipped corpus name, a saved index folder, or a corpus file or folder."""
    path = Path(corpus)
    if path.is_dir() and (path / MANIFEST).exists():
        return retrieval.BM25Retriever.load(path)
    if path.is_dir() and not _has_documents(path):
        holds = "is empty" if not any(path.iterdir()) else "holds no .txt or .md files"
        raise CorpusError(
            f"--corpus folder '{path}' is not a refine index (no {MANIFEST}) and {holds}; pass a folder of "
            "your .txt/.md files, a .jsonl file, or an index written by `refine index PATH --out DIR`"
        )
    if corpus in corpora.corpus_names():
        return retrieval.BM25Retriever.shipped(corpus)  # built once, then loaded from the user cache
    return retrieval.BM25Retriever.build(corpora.load_corpus(corpus))


def _backend(args: argparse.Namespace) -> LM:
    """The backend ``--lm`` names (``--model`` and ``--n-ctx`` are the embedded backend's settings)."""
    if args.lm is None:
        return LlamaCpp(args.model, n_ctx=args.n_ctx)
    spec = parse_spec(args.lm)
    if args.model is not None:
        raise UsageError(f"--model {args.model} and --lm {args.lm} both name a model; pass llamacpp:PATH.gguf to --lm")
    if spec.backend == "llamacpp":
        return LlamaCpp(spec.model, n_ctx=args.n_ctx)
    return from_spec(args.lm)


def _has_documents(folder: Path) -> bool:
    return any(p.suffix.lower() in FOLDER_SUFFIXES for p in folder.rglob("*") if p.is_file())


def _snippet(text: str, width: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 3].rsplit(" ", 1)[0] + "..."


def _as_json(result: CitedAnswer, seconds: float) -> dict[str, Any]:
    cited = {p.id for _, p in result.cited}
    return {
        "question": result.question,
        "answer": result.answer,
        "valid": result.ok,
        "problems": result.report.feedback(),
        "weak_sentences": _weak(result),
        "sources": [
            {
                "n": n,
                "id": h.passage.id,
                "title": h.passage.title,
                "score": round(h.score, 4),
                "cited": h.passage.id in cited,
                "text": h.passage.text,
            }
            for n, h in enumerate(result.hits, 1)
        ],
        "attempts": len(result.attempts),
        "usage": {
            "calls": result.usage.calls,
            "prompt_tokens": result.usage.prompt_tokens,
            "completion_tokens": result.usage.completion_tokens,
            "cached_tokens": result.usage.cached_tokens,
        },
        "seconds": round(seconds, 2),
    }


def _weak(result: CitedAnswer) -> list[int]:
    """The sentences (1-based) that cite passages which, by the lexical check, do not support them."""
    report = citations.check(result.answer, result.passages, checker=citations.LexicalChecker())
    return [f.index + 1 for f in report.findings if f.support is not None and not f.support.supported]


def _print_answer(result: CitedAnswer, out: TextIO) -> None:
    out.write(textwrap.fill(result.answer, width=100) + "\n")
    cited = {n for n, _ in result.cited}
    out.write("\nSources:\n")
    for n, passage in enumerate(result.passages, 1):
        mark = "cited" if n in cited else "not cited"
        out.write(f"  [{n}] {passage.id}  {passage.title}  ({mark})\n")
        if n in cited:
            out.write(textwrap.indent(textwrap.fill(_snippet(passage.text), width=94), "      ") + "\n")
    problems = result.report.feedback()
    if problems:
        out.write(f"\nCitation problems: {problems}\n")
    weak = _weak(result)
    if weak:
        which = ", ".join(map(str, weak))
        out.write(
            f"\nWeak: the passages cited for sentence{'s' if len(weak) > 1 else ''} {which} do not say it "
            "(lexical check); read them before relying on it.\n"
        )


def _check_question(question: str) -> None:
    if not question.strip():
        raise UsageError('the question is empty; pass it in quotes: refine ask "What does nonlocal do?"')
    # Python decodes arguments that are not UTF-8 with surrogateescape; say so rather than guess.
    if problem := encoding_problem(question):
        raise UsageError(f"the question holds {problem}; pass it as UTF-8 text (check the terminal's encoding)")


def _too_long(exc: ContextOverflow, args: argparse.Namespace) -> UsageError:
    """A context overflow in command-line terms: what to shorten, with which flag."""
    fixes = []
    question_tokens = count_tokens(args.question)
    if question_tokens > exc.n_ctx // 4:
        fixes.append(f"a shorter question (it has about {question_tokens} tokens)")
    if args.k > 1:
        fixes.append(f"a smaller -k than {args.k}")
    fixes.append(f"a larger --n-ctx than {exc.n_ctx}")
    return UsageError(
        f"the prompt has {exc.prompt_tokens} tokens and the answer may take {exc.max_tokens} more, but the "
        f"model's context holds {exc.n_ctx}; pass {', or '.join(fixes)}"
    )


def _ask(args: argparse.Namespace, lm: LM | None, out: TextIO) -> int:
    started = time.perf_counter()
    _check_question(args.question)
    if args.lm is not None:
        parse_spec(args.lm)  # a bad --lm is reported before the corpus is read
    # Checks k and the corpus before the model loads.
    rag: CitedRAG | SpanRAG
    if args.mode == "short":
        rag = with_program(SpanRAG(open_retriever(args.corpus), k=args.k), args.program)
    else:
        signature = ExtractiveQA if args.mode == "extractive" else CitedQA
        rag = with_program(CitedRAG(open_retriever(args.corpus), k=args.k, signature=signature), args.program)
    backend = lm or _backend(args)
    try:
        result = rag(question=args.question, lm=backend)
    except ContextOverflow as exc:
        raise _too_long(exc, args) from exc
    seconds = time.perf_counter() - started
    if args.json:
        out.write(json.dumps(_as_json(result, seconds), ensure_ascii=False, indent=2) + "\n")
    else:
        _print_answer(result, out)
    return EXIT_OK if result.ok else EXIT_UNCITED


# What `refine eval --metric` names, and the other scores every evaluation reports beside it.
EVAL_METRICS: dict[str, metrics.Metric] = {"em": metrics.em, "f1": metrics.f1, "cited": metrics.cited}


def _at_least(flag: str, value: int, minimum: int = 1) -> int:
    if value < minimum:
        raise UsageError(f"{flag} {value} must be >= {minimum}")
    return value


def _check_out(path: Path, resume: bool) -> None:
    """The common mistakes with --out, in command-line terms, before the model loads."""
    if path.is_dir():
        raise UsageError(f"--out {path} is a folder; pass a file path such as {path / 'rows.jsonl'}")
    if not path.parent.is_dir():
        raise UsageError(f"--out {path}: folder '{path.parent}' does not exist; create it or pass another --out")
    if not resume and path.is_file() and path.stat().st_size:
        raise UsageError(f"--out {path} already holds rows; pass --resume to continue that run, or another --out")


def _eval(args: argparse.Namespace, lm: LM | None, out: TextIO) -> int:
    if args.lm is not None:
        parse_spec(args.lm)  # a bad --lm is reported before the data is read
    limit = None if args.limit is None else _at_least("--limit", args.limit)
    threads = _at_least("--threads", args.threads)
    _check_out(Path(args.out), args.resume)
    data = load_dataset(args.data, format=args.format, limit=limit)
    if args.corpus is not None:
        retriever = open_retriever(args.corpus)
    elif data.passages:
        retriever = retrieval.BM25Retriever.build(data.passages)
    else:
        raise UsageError(
            f"--data {args.data} holds no passages to retrieve from; pass --corpus with the corpus to search"
        )
    rag = with_program(CitedRAG(retriever, k=_at_least("-k", args.k)), args.program)
    scores: dict[str, metrics.Metric] = {name: m for name, m in EVAL_METRICS.items() if name != args.metric}
    scores["answer_in_cited"] = metrics.answer_in_cited
    if all("gold_ids" in example for example in data.examples):
        scores["gold_recall"] = metrics.gold_recall
    scores["support_precision"] = metrics.support_precision()
    scores["support_recall"] = metrics.support_recall()
    backend = lm or _backend(args)
    console = _console(out)
    try:
        report = evaluate(
            rag,
            data.examples,
            EVAL_METRICS[args.metric],
            lm=backend,
            threads=threads,
            progress=not args.no_progress,
            out=args.out,
            resume=args.resume,
            metrics=scores,
        )
    except EvaluationInterrupted as exc:
        console.print(exc.report.table())  # what finished; all of it is in --out
        out.flush()
        sys.stderr.write(
            f"refine: interrupted after {len(exc.report.rows)} of {len(data.examples)} rows; "
            f"the same command with --resume continues\n"
        )
        return EXIT_INTERRUPTED
    console.print(report.table())
    return EXIT_OK


def _console(out: TextIO) -> Console:
    """A rich console on ``out``; a file or pipe gets whole lines. rich is imported here, when a
    table is printed, so ``refine --help`` and a bad command line stay quick."""
    from rich.console import Console

    return Console(file=out, width=None if out.isatty() else 120)


def _check_save(path: Path) -> None:
    """The common mistakes with --save, before a compile that may take an hour."""
    if path.is_dir():
        raise UsageError(f"--save {path} is a folder; pass a file path such as {path / 'program.json'}")
    if not path.parent.is_dir():
        raise UsageError(f"--save {path}: folder '{path.parent}' does not exist; create it or pass another --save")


def _optimize(args: argparse.Namespace, lm: LM | None, out: TextIO) -> int:
    if args.lm is not None:
        parse_spec(args.lm)  # a bad --lm is reported before the data is read
    limit = None if args.limit is None else _at_least("--limit", args.limit)
    _check_save(Path(args.save))
    optimizer = make_optimizer(
        args.optimizer,
        metric=args.metric,
        threshold=args.threshold,
        demos=_at_least("--demos", args.demos, 0),
        repair_demos=_at_least("--repair-demos", args.repair_demos, 0),
        candidates=_at_least("--candidates", args.candidates),
        threads=_at_least("--threads", args.threads),
        progress=not args.no_progress,
    )
    result = optimize_command(
        train=args.train,
        save=args.save,
        optimizer=optimizer,
        lm=lm or _backend(args),
        format=args.format,
        limit=limit,
        k=_at_least("-k", args.k),
        seed=args.seed,
        retriever=None if args.corpus is None else open_retriever(args.corpus),
    )
    console = _console(out)
    console.print(result.compiled.report.table())
    out.write(f"saved to {result.saved}; use it with: refine ask QUESTION --program {result.saved}\n")
    return EXIT_OK


def _index(args: argparse.Namespace, out: TextIO) -> int:
    if args.path in corpora.corpus_names():  # with the words the corpus protects from stopword removal
        retriever = retrieval.BM25Retriever.shipped(args.path)
    else:
        retriever = retrieval.BM25Retriever.build(corpora.load_corpus(args.path))
    try:
        retriever.save(args.out)
    except OSError as exc:  # the error names the folder staged beside --out; the user gave --out
        problem = f"cannot write the index to --out '{args.out}': {exc.strerror or exc}"
        if isinstance(exc, _PATH_ERRORS):
            raise UsageError(f"{problem}; pass a folder path you can write to") from None
        raise RuntimeFailure(f"{problem}; make room on the disk, or pass --out on another one") from None
    out.write(f"indexed {len(retriever)} passages from {args.path} into {args.out}\n")
    return EXIT_OK


LM_HELP = "a backend: llamacpp[:PATH.gguf], ollama:MODEL[@HOST] or openai:MODEL@URL (default: the embedded model)"


def _add_backend(command: argparse.ArgumentParser) -> None:
    command.add_argument("--lm", default=None, help=LM_HELP)
    command.add_argument("--model", default=None, help="a .gguf model file (default: the embedded SmolLM2-135M)")
    command.add_argument("--n-ctx", type=int, default=8192, help="the model's context window (default: %(default)s)")
    command.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="refine", description="Answer questions with checked citations.", epilog=_EPILOG
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    commands = parser.add_subparsers(dest="command", required=True)
    ask = commands.add_parser("ask", help="answer a question from a corpus, citing passages", epilog=_EPILOG)
    ask.add_argument("question")
    ask.add_argument(
        "--corpus",
        default=DEFAULT_CORPUS,
        help=f"a shipped corpus ({', '.join(corpora.corpus_names())}), an index folder, "
        "a .jsonl file or a folder of .txt/.md files (default: %(default)s)",
    )
    ask.add_argument("-k", type=int, default=3, help="passages to retrieve (default: %(default)s)")
    ask.add_argument("--json", action="store_true", help="print the answer and its sources as JSON")
    ask.add_argument(
        "--mode",
        choices=("cited", "extractive", "short"),
        default="cited",
        help=(
            "cited: sentences that cite passages; extractive: a verbatim quote of one passage; "
            "short: a name, date or number the model chooses from the passages (default: %(default)s)"
        ),
    )
    ask.add_argument("--program", default=None, help="a program file written by `refine optimize --save`")
    ask.add_argument("--lm", default=None, help=LM_HELP)
    ask.add_argument("--model", default=None, help="a .gguf model file (default: the embedded SmolLM2-135M)")
    ask.add_argument(
        "--n-ctx", type=int, default=8192, help="the model's context window in tokens (default: %(default)s)"
    )
    run = commands.add_parser(
        "eval",
        help="evaluate cited answers on a data set, streaming rows to a file",
        epilog="exit status: 0 the evaluation finished (rows that failed are in the table and the file), "
        "2 bad input, 3 a failure while running, 130 interrupted (--resume continues)",
    )
    run.add_argument("--data", required=True, help="a HotpotQA, NQ-open or JSON-lines data file")
    run.add_argument("--format", choices=FORMATS, default=None, help="the data's format (default: told from the file)")
    run.add_argument("--out", required=True, help="the JSON-lines file to stream rows to")
    run.add_argument("--resume", action="store_true", help="continue the run in --out, skipping the rows it holds")
    run.add_argument("--limit", type=int, default=None, help="evaluate the first N questions only")
    run.add_argument("--threads", type=int, default=1, help="questions answered at a time (default: %(default)s)")
    run.add_argument(
        "--metric", choices=tuple(EVAL_METRICS), default="f1", help="the main metric (default: %(default)s)"
    )
    run.add_argument("-k", type=int, default=3, help="passages to retrieve (default: %(default)s)")
    run.add_argument("--corpus", default=None, help="retrieve from this corpus instead of the data's own passages")
    run.add_argument("--program", default=None, help="a program file written by `refine optimize --save`")
    _add_backend(run)
    opt = commands.add_parser(
        "optimize",
        help="compile cited answers on training questions into demos, and save the program",
        epilog="exit status: 0 compiled and saved, 2 bad input, 3 a failure while running, 130 interrupted",
    )
    opt.add_argument("--train", required=True, help="a HotpotQA, NQ-open or JSON-lines data file to learn from")
    opt.add_argument("--format", choices=FORMATS, default=None, help="the data's format (default: told from the file)")
    opt.add_argument("--save", required=True, help="the program file to write (JSON)")
    opt.add_argument("--optimizer", choices=OPTIMIZERS, default="bootstrap", help="(default: %(default)s)")
    opt.add_argument(
        "--limit",
        type=int,
        default=None,
        help="learn from the first N questions (random-search scores candidates on the next N)",
    )
    opt.add_argument("--metric", choices=("em", "f1", "cited"), default="f1", help="(default: %(default)s)")
    opt.add_argument(
        "--threshold", type=float, default=None, help="the metric value a trace must reach (default: em 1, f1 0.5)"
    )
    opt.add_argument("--demos", type=int, default=4, help="demos per predictor (default: %(default)s)")
    opt.add_argument(
        "--repair-demos", type=int, default=0, help="of them, demos of a failed reply and its fix (default: 0)"
    )
    opt.add_argument("--candidates", type=int, default=4, help="random-search candidates (default: %(default)s)")
    opt.add_argument("--threads", type=int, default=1, help="random-search: questions at a time (default: 1)")
    opt.add_argument("-k", type=int, default=3, help="passages to retrieve (default: %(default)s)")
    opt.add_argument("--corpus", default=None, help="retrieve from this corpus instead of the data's own passages")
    opt.add_argument("--seed", type=int, default=0, help="the seed of every random choice (default: %(default)s)")
    _add_backend(opt)
    index = commands.add_parser("index", help="build a BM25 index of a corpus and save it")
    index.add_argument("path", help="a .jsonl file, a folder of .txt/.md files, or a shipped corpus name")
    index.add_argument("--out", required=True, help="the folder to write the index to")
    return parser


def main(argv: Sequence[str] | None = None, *, lm: LM | None = None, out: TextIO | None = None) -> int:
    """Run the CLI; ``lm`` and ``out`` are seams for tests. Returns the exit status."""
    args = _parser().parse_args(argv)
    out = out or sys.stdout
    level = logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(name)s: %(message)s")
    try:
        if args.command == "ask":
            status = _ask(args, lm, out)
        elif args.command == "eval":
            status = _eval(args, lm, out)
        elif args.command == "optimize":
            status = _optimize(args, lm, out)
        else:
            status = _index(args, out)
        out.flush()  # here, so that a closed pipe is reported below and not at exit
        return status
    except BrokenPipeError:
        # Whoever read the output went away (refine ask ... | head -1): stop quietly, as cat does.
        if out is sys.stdout:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python flushes it again at exit
        return EXIT_BROKEN_PIPE
    except RefineError as exc:
        sys.stderr.write(f"refine: error: {' '.join(str(exc).split())}\n")
        return EXIT_USAGE if isinstance(exc, UsageError) else EXIT_FAILURE
    except OSError as exc:  # the disk, not refine: a full disk, a folder it may not write to
        where = f" '{exc.filename}'" if exc.filename else ""
        sys.stderr.write(f"refine: error: {exc.strerror or exc}{where}\n")
        return EXIT_USAGE if isinstance(exc, _PATH_ERRORS) else EXIT_FAILURE
    except KeyboardInterrupt:
        sys.stderr.write("refine: interrupted\n")
        return EXIT_INTERRUPTED

