"""The embedded model three ways: in-process, through an OpenAI-compatible server, through Ollama's API.

The first ``--n`` HotpotQA dev397 questions, BM25 top-``--k`` over the pooled paragraphs,
``refine.CitedRAG`` (its default retries: up to 2, with feedback), the same SmolLM2-135M GGUF
each way, one way after the other (never two at once):

- ``llamacpp``: :class:`refine.LlamaCpp` in this process, decoding under the citation grammar;
- ``openai``: :class:`refine.OpenAICompatible` to ``python -m llama_cpp.server`` on 127.0.0.1,
  started and stopped here; CitedQA is lowered to a JSON schema the server enforces;
- ``ollama``: :class:`refine.Ollama` (the official client) to the Ollama-API server of the test
  suite (``tests/refine/lm/conftest.py``), which enforces ``format`` as a JSON-schema grammar on
  an in-process LlamaCpp; the PyPI ``ollama-openai-proxy`` does not honour ``format`` (see there).

The in-process way runs through :class:`refine.CachedLM` on an empty cache; ``cache`` is the
second run of that same evaluation, served from the cache. Reported per way: format ok (a reply
parsed), citations valid (at least one, each naming a retrieved passage), every sentence cited,
EM and F1 of the answer without markers, LM calls per question, seconds per question, and the
cache hit rate. Rows go to ``--out`` as JSONL (the file is rewritten).

    flock /tmp/refine-model.lock python benchmarks/backends.py [--n 50] [--k 3] [--data DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import logging
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

import citations
import corpora
from corpora import QADataset
from refine import BM25Retriever, CitedRAG
from refine.lm import LM, CachedLM, LlamaCpp, Ollama, OpenAICompatible, embedded_model_path
from refine.metrics import exact_match, token_f1

ROOT = Path(__file__).resolve().parent.parent
STAND_IN = ROOT / "tests" / "refine" / "lm" / "conftest.py"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def llama_server(n_ctx: int, log: Path, *, extra: Sequence[str] = ()) -> Iterator[str]:
    """``python -m llama_cpp.server`` on the embedded model, on loopback, with ``extra`` options; yields its API
    root, stops it by PID."""
    port = free_port()
    command = [
        sys.executable, "-m", "refine.lm._amx", "--model", str(embedded_model_path()),
        "--host", "127.0.0.1", "--port", str(port), "--model_alias", "smollm2",
        "--chat_format", "chatml", "--n_ctx", str(n_ctx), *extra,
    ]  # fmt: skip
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, env={**os.environ})
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited: {log.read_text(errors='replace')[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/models", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("llama_cpp.server did not answer /v1/models within 180 s")
            time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _stand_in() -> Any:
    spec = importlib.util.spec_from_file_location("refine_ollama_stand_in", STAND_IN)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load the Ollama-API stand-in from {STAND_IN}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def ollama_server(stand_in: Any, model: LM) -> Iterator[str]:
    """The test suite's Ollama-API server on loopback, answering with ``model``; yields its URL."""
    with stand_in.serving(stand_in.FakeServer(reply=stand_in.model_reply(model))) as server:
        yield server.url


def run_one(rag: CitedRAG, lm: LM, question: str, golds: Sequence[str]) -> dict[str, Any]:
    started = time.perf_counter()
    result = rag(question=question, lm=lm)
    seconds = time.perf_counter() - started
    report = citations.check(result.answer, result.passages)
    plain = citations.strip_markers(result.answer)
    usage = result.usage
    return {
        "parsed": any(attempt.outputs is not None for attempt in result.attempts),
        "valid": report.valid,
        "all_cited": report.valid and not report.uncited,
        "em": exact_match(plain, golds),
        "f1": token_f1(plain, golds),
        "calls": usage.calls,
        "cache_hits": usage.cache_hits,
        "cache_misses": usage.cache_misses,
        "seconds": seconds,
        "answer": result.answer,
    }


def summarise(rows: list[dict[str, Any]]) -> dict[str, float]:
    def mean(key: str) -> float:
        return statistics.fmean(float(r[key]) for r in rows) if rows else 0.0

    hits, misses = sum(r["cache_hits"] for r in rows), sum(r["cache_misses"] for r in rows)
    return {
        "n": len(rows),
        "format": mean("parsed"),
        "valid": mean("valid"),
        "all_cited": mean("all_cited"),
        "em": mean("em"),
        "f1": mean("f1"),
        "calls": mean("calls"),
        "seconds": mean("seconds"),
        "total_seconds": sum(r["seconds"] for r in rows),
        "hit_rate": hits / (hits + misses) if hits + misses else float("nan"),
    }


def evaluate(
    way: str,
    lm: LM,
    rag: CitedRAG,
    data: QADataset,
    n: int,
    progress: Progress,
    write: Callable[[dict[str, Any]], None],
) -> dict[str, float]:
    examples = data.examples[:n]
    bar = progress.add_task(way, total=len(examples))
    rows = []
    for example in examples:
        row = {"way": way, "id": example.id, **run_one(rag, lm, example.question, example.answers)}
        write(row)
        rows.append(row)
        progress.advance(bar)
    return summarise(rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=corpora.shared_data_dir())
    parser.add_argument("--n", type=int, default=50, help="questions (default: %(default)s)")
    parser.add_argument("--k", type=int, default=3, help="passages retrieved (default: %(default)s)")
    parser.add_argument("--n-ctx", type=int, default=8192, help="the server's context window (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "backends.jsonl")
    args = parser.parse_args(argv)
    if args.data is None or not (args.data / "hotpotqa" / "dev397.jsonl").is_file():
        print("no HotpotQA dev397: pass --data DIR or set REFINE_DATA (see ../shared/data)", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    stand_in = _stand_in()  # loaded first, so that a problem with it shows before the model runs
    data = corpora.load_hotpotqa(args.data / "hotpotqa" / "dev397.jsonl")
    rag = CitedRAG(BM25Retriever.build(data.passages), k=args.k)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    summaries: dict[str, dict[str, float]] = {}
    console = Console(stderr=True)
    with (
        args.out.open("w") as sink,
        tempfile.TemporaryDirectory(prefix="refine-backends-") as scratch,
        Progress(console=console) as progress,
    ):

        def write(row: dict[str, Any]) -> None:
            sink.write(json.dumps(row) + "\n")
            sink.flush()

        # The server first, so that no two copies of the model are ever loaded at once.
        with (
            llama_server(args.n_ctx, Path(scratch) / "server.log") as base,
            OpenAICompatible(base, "smollm2") as remote,
        ):
            summaries[f"openai ({remote.flavour})"] = evaluate("openai", remote, rag, data, args.n, progress, write)
        with LlamaCpp(n_ctx=args.n_ctx) as local:
            cache = Path(scratch) / "responses.sqlite"
            with CachedLM(local, cache) as cached:
                summaries["llamacpp (in-process)"] = evaluate("llamacpp", cached, rag, data, args.n, progress, write)
            with CachedLM(local, cache) as cached:
                summaries["llamacpp, 2nd run (cache)"] = evaluate("cache", cached, rag, data, args.n, progress, write)
            with ollama_server(stand_in, local) as url, Ollama("smollm2", host=url) as ollama:
                summaries["ollama (API stand-in)"] = evaluate("ollama", ollama, rag, data, args.n, progress, write)
    table = Table(title=f"CitedRAG, SmolLM2-135M three ways, HotpotQA dev397 first {args.n}, BM25 top-{args.k}")
    columns = ("way", "n", "format ok", "citations valid", "every sentence cited", "EM", "F1", "LM calls/q", "s/q")
    for column in (*columns, "cache hit rate", "total s"):
        table.add_column(column)
    for way, s in summaries.items():
        table.add_row(
            way,
            str(s["n"]),
            f"{s['format']:.0%}",
            f"{s['valid']:.0%}",
            f"{s['all_cited']:.0%}",
            f"{s['em']:.2f}",
            f"{s['f1']:.2f}",
            f"{s['calls']:.2f}",
            f"{s['seconds']:.2f}",
            "-" if s["hit_rate"] != s["hit_rate"] else f"{s['hit_rate']:.0%}",
            f"{s['total_seconds']:.1f}",
        )
    Console(width=160).print(table)
    first, second = summaries["llamacpp (in-process)"], summaries["llamacpp, 2nd run (cache)"]
    if second["total_seconds"]:
        print(
            f"cache: second run {second['total_seconds']:.2f} s against {first['total_seconds']:.1f} s "
            f"({first['total_seconds'] / second['total_seconds']:.0f}x faster), hit rate {second['hit_rate']:.0%}"
        )
    print(f"rows: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
