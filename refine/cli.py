"""The ``refine`` command: ``refine ask QUESTION`` and ``refine index PATH --out DIR``."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import corpora
from refine.errors import RefineError, UsageError
from refine.lm import LM, LlamaCpp
from refine.rag import CitedAnswer, CitedRAG
from refine.retrieval import BM25Retriever
from refine.retrieval._store import MANIFEST

__all__ = ["main", "open_retriever"]

logger = logging.getLogger(__name__)
DEFAULT_CORPUS = "python-docs"
EXIT_USAGE = 2


def open_retriever(corpus: str) -> BM25Retriever:
    """A retriever for a shipped corpus name, a saved index folder, or a corpus file or folder."""
    path = Path(corpus)
    if path.is_dir() and ((path / MANIFEST).exists() or not _has_documents(path)):
        return BM25Retriever.load(path)
    return BM25Retriever.build(corpora.load_corpus(corpus))


def _has_documents(folder: Path) -> bool:
    return any(p.suffix in (".txt", ".md") for p in folder.rglob("*") if p.is_file())


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


def _print_answer(result: CitedAnswer, out: TextIO) -> None:
    out.write(textwrap.fill(result.answer, width=100) + "\n")
    if result.cited:
        out.write("\nSources:\n")
        for n, passage in result.cited:
            out.write(f"  [{n}] {passage.title or passage.id}  ({passage.id})\n")
            out.write(textwrap.indent(textwrap.fill(_snippet(passage.text), width=94), "      ") + "\n")
    problems = result.report.feedback()
    if problems:
        out.write(f"\nCitation problems: {problems}\n")


def _ask(args: argparse.Namespace, lm: LM | None, out: TextIO) -> int:
    started = time.perf_counter()
    if not args.question.strip():
        raise UsageError('the question is empty; pass it in quotes: refine ask "What does nonlocal do?"')
    rag = CitedRAG(open_retriever(args.corpus), k=args.k)  # checks k and the corpus before the model loads
    backend = lm or LlamaCpp(args.model)
    result = rag(args.question, lm=backend)
    seconds = time.perf_counter() - started
    if args.json:
        out.write(json.dumps(_as_json(result, seconds), ensure_ascii=False, indent=2) + "\n")
    else:
        _print_answer(result, out)
    return 0 if result.ok else 1


def _index(args: argparse.Namespace, out: TextIO) -> int:
    passages = corpora.load_corpus(args.path)
    retriever = BM25Retriever.build(passages)
    retriever.save(args.out)
    out.write(f"indexed {len(passages)} passages from {args.path} into {args.out}\n")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="refine", description="Answer questions with checked citations.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    commands = parser.add_subparsers(dest="command", required=True)
    ask = commands.add_parser("ask", help="answer a question from a corpus, citing passages")
    ask.add_argument("question")
    ask.add_argument(
        "--corpus",
        default=DEFAULT_CORPUS,
        help=f"a shipped corpus ({', '.join(corpora.corpus_names())}), an index folder, "
        "a .jsonl file or a folder of .txt/.md files (default: %(default)s)",
    )
    ask.add_argument("-k", type=int, default=3, help="passages to retrieve (default: %(default)s)")
    ask.add_argument("--json", action="store_true", help="print the answer and its sources as JSON")
    ask.add_argument("--model", default=None, help="a .gguf model file (default: the embedded SmolLM2-135M)")
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
    logging.getLogger("bm25s").setLevel(level)  # bm25s sets itself to DEBUG on import
    try:
        if args.command == "ask":
            return _ask(args, lm, out)
        return _index(args, out)
    except RefineError as exc:
        sys.stderr.write(f"refine: error: {exc}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("refine: interrupted\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
