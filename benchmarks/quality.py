"""Cited answers from refine and from DSPy on the same model, the same retrieval and the same questions.

The embedded SmolLM2-135M-Instruct, BM25 top-``k`` (5) from one bm25s index over each data set's
pooled paragraphs, the first ``--n`` questions of HotpotQA dev397 and of NQ oracle1500. Every
system gets the same passages for a question, the same reply budget (``--max-tokens``) and the
same context window. Systems (``--systems``, default all, in this order):

- ``refine``: :class:`refine.CitedRAG` in this process, decoded under the citation grammar;
- ``refine+suggest``: the same with two suggestions (each cited passage supports its sentence,
  lexically; no repeated 5-gram), up to 2 retries with feedback;
- ``refine+assert``: the support rule as a hard assertion: up to 2 retries, then no answer;
- ``refine compiled``: ``refine+suggest`` compiled by :class:`refine.BootstrapFewShot` (2 demos)
  on ``--n-train`` later questions of the same file (never the scored ones);
- ``refine (server)``: ``refine`` through :class:`refine.OpenAICompatible` to
  ``python -m llama_cpp.server`` on loopback, which enforces the signature's JSON schema;
- ``dspy Predict``, ``dspy ChainOfThought``, ``dspy Refine(N=3)``: DSPy (the ``bench`` extra,
  pinned) to the same server through its litellm engine (its default engine sends
  ``max_completion_tokens``, which llama.cpp's server ignores), with the signature ``question,
  passages -> answer, citations: list[int]`` and refine's instructions; Refine's reward is 1 when
  the citations are valid, and it is rebuilt per question (it counts failures on the instance).

Per question: EM and F1 of the answer (markers stripped), whether an output parsed, whether its
citations are valid (at least one, each naming a given passage), gold-passage precision (cited
passages that are gold) and recall (gold passages among the given ones that are cited), LM calls,
prompt and completion tokens, seconds. The server is the same process for every server system, with
as many threads as the in-process model; one model runs at a time.

Each question's row is appended to ``--out`` as it finishes, so an interrupted run keeps its rows
and a later run with the same settings answers only what is missing; the summary is over the
first ``--n`` questions of each data set, per system.

    flock /tmp/refine-model.lock python benchmarks/quality.py [--n 100] [--systems refine,dspy Predict]

:func:`run` returns the summaries as rows for ``python -m benchmarks``; ``quick`` is a 10-question
smoke run (5 per data set) into a fresh file.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

import citations
import corpora
from benchmarks import backends
from corpora import Passage
from refine import (
    Assert,
    AssertionFailed,
    BM25Retriever,
    BootstrapFewShot,
    CitedQA,
    CitedRAG,
    Example,
    LlamaCpp,
    OpenAICompatible,
    Suggest,
    checks,
    load_dataset,
    metrics,
)
from refine.errors import RefineError
from refine.evaluation import bootstrap_interval
from refine.lm import LM
from refine.metrics import exact_match, token_f1
from refine.program import Program

RESULTS = Path(__file__).resolve().parent / "results" / "quality.jsonl"
FILES = {"hotpotqa": Path("hotpotqa") / "dev397.jsonl", "nq": Path("nq_open") / "oracle1500.jsonl.gz"}
SERVED = "smollm2"  # the alias benchmarks.backends.llama_server serves the model under
DSPY_MISSING = "dspy not installed: pip install -e '.[bench]'"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settings:
    """What a row depends on besides its system and question; rows of other settings are not reused."""

    k: int = 5
    max_tokens: int = 256
    n_ctx: int = 4096
    n_train: int = 20
    backtracks: int = 2

    def key(self) -> dict[str, int]:
        return {
            "k": self.k,
            "max_tokens": self.max_tokens,
            "n_ctx": self.n_ctx,
            "n_train": self.n_train,
            "backtracks": self.backtracks,
        }

    def tag(self) -> str:
        """The settings as a file name's part: a compiled program is reused only under the same ones."""
        return "-".join(f"{name}{value}" for name, value in self.key().items())


@dataclass(frozen=True)
class Question:
    dataset: str
    index: int
    example: Example
    passages: tuple[Passage, ...]

    @property
    def gold_numbers(self) -> frozenset[int]:
        gold = set(self.example.gold_ids)
        return frozenset(n for n, p in enumerate(self.passages, 1) if p.id in gold)


@dataclass(frozen=True)
class Answer:
    """What a system said: ``answer`` None when no output parsed (or a hard assertion gave none)."""

    answer: str | None
    cited: tuple[int, ...]
    valid: bool
    calls: int
    prompt_tokens: int
    completion_tokens: int
    error: str | None = None


Answerer = Callable[[Question], Answer]


def score(question: Question, said: Answer, seconds: float) -> dict[str, Any]:
    """One row: the answer's scores beside what it cost."""
    golds = question.example.answers
    text = citations.strip_markers(said.answer or "")
    cited = set(said.cited)
    gold = question.gold_numbers
    hits = len(cited & gold)
    return {
        "dataset": question.dataset,
        "index": question.index,
        "id": question.example.id,
        "question": question.example.question,
        "answer": said.answer,
        "parsed": said.answer is not None,
        "valid": said.valid,
        "em": exact_match(text, golds) if said.answer is not None else 0.0,
        "f1": token_f1(text, golds) if said.answer is not None else 0.0,
        "cited": sorted(cited),
        "gold": sorted(gold),
        "gold_precision": hits / len(cited) if cited else 0.0,
        "gold_recall": hits / len(gold) if gold else None,
        "calls": said.calls,
        "prompt_tokens": said.prompt_tokens,
        "completion_tokens": said.completion_tokens,
        "seconds": seconds,
        "error": said.error,
    }


# refine ----------------------------------------------------------------------------------------


def _supported() -> checks.Check:
    return checks.citations_supported(citations.LexicalChecker())


def refine_program(mode: str, settings: Settings, retriever: BM25Retriever | None = None) -> CitedRAG:
    rules: list[Any] = []
    if mode == "suggest":
        rules = [Suggest(_supported()), Suggest(checks.no_repetition())]
    elif mode == "assert":
        rules = [Assert(_supported())]
    return CitedRAG(
        retriever, k=settings.k, assertions=rules, max_backtracks=settings.backtracks, max_tokens=settings.max_tokens
    )


def refine_answerer(program: Program, lm: LM) -> Answerer:
    def answer(question: Question) -> Answer:
        try:
            result = program(question=question.example.question, passages=list(question.passages), lm=lm)
        except AssertionFailed as failed:  # the hard rule still failed after every retry: no answer
            usage = failed.usage
            return Answer(
                None, (), False, usage.calls, usage.prompt_tokens, usage.completion_tokens, "assertion failed"
            )
        usage = result.usage
        cited = tuple(n for n, _ in result.cited)
        invalid = tuple(0 for _ in result.report.invalid)  # a marker naming no passage: counted, never gold
        return Answer(
            result.answer, cited + invalid, result.valid, usage.calls, usage.prompt_tokens, usage.completion_tokens
        )

    return answer


def compile_program(
    settings: Settings, train: Sequence[Example], retriever: BM25Retriever, lm: LM
) -> tuple[Program, dict[str, Any]]:
    """``refine+suggest`` compiled on ``train`` (their passages from ``retriever``), and what compiling cost."""
    started = time.perf_counter()
    optimizer = BootstrapFewShot(
        metrics.f1, max_bootstrapped_demos=2, max_labeled_demos=0, threshold=0.5, progress=False
    )
    result = optimizer.optimize(refine_program("suggest", settings, retriever), list(train), lm=lm)
    demos = dict(result.program.named_predictors())["predict"].demos
    cost = {
        "compile_seconds": time.perf_counter() - started,
        "compile_questions": len(train),
        "compile_calls": result.report.usage.calls,
        "demos": len(demos),
    }
    return result.program, cost


def compiled(
    out: Path,
    name: str,
    settings: Settings,
    train: Sequence[Example],
    retriever: BM25Retriever,
    lm: LM,
    runner: Runner,
    console: Console,
) -> tuple[Program, dict[str, Any]]:
    """The compiled program for one data set: loaded from beside ``out`` when an earlier run of these
    settings saved it (its rows keep what compiling cost), else compiled now and saved there, so a
    run resumed in steps compiles once."""
    saved = out.with_name(f"{out.stem}-compiled-{name}-{settings.tag()}.json")
    earlier = [
        row for (system, dataset, _), row in runner.done.items() if (system, dataset) == ("refine compiled", name)
    ]
    if saved.exists() and earlier and "compile_seconds" in earlier[0]:
        program = refine_program("suggest", settings, retriever).load(saved)
        cost = {key: earlier[0][key] for key in ("compile_seconds", "compile_questions", "compile_calls", "demos")}
        console.print(f"loaded the program compiled on {name} from {saved.name}")
        return program, cost
    program, cost = compile_program(settings, train, retriever, lm)
    console.print(f"compiled on {len(train)} {name} questions: {cost}")
    program.save(saved)
    return program, cost


# DSPy ------------------------------------------------------------------------------------------


def dspy_available() -> bool:
    return importlib.util.find_spec("dspy") is not None


def dspy_answerers(base_url: str, settings: Settings) -> dict[str, Answerer]:
    """DSPy's Predict, ChainOfThought and Refine(N=3), each reaching the server at ``base_url``."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # litellm must not fetch its cost map
    import dspy  # the bench extra
    from dspy.clients.base_lm import GLOBAL_HISTORY  # Refine's rollouts call copies of the LM: count them all
    from dspy.utils.exceptions import AdapterParseError

    class CitedPassagesQA(dspy.Signature):
        question: str = dspy.InputField()
        passages: list[str] = dspy.InputField(desc="numbered sources to cite")
        answer: str = dspy.OutputField()
        citations: list[int] = dspy.OutputField(desc="the numbers of the passages that support the answer")

    signature = CitedPassagesQA.with_instructions(CitedQA().instructions)
    lm = dspy.LM(
        f"openai/{SERVED}",
        api_base=base_url,
        api_key="none",
        engine="litellm",
        temperature=0.0,
        max_tokens=settings.max_tokens,
        cache=False,
        num_retries=0,
    )

    def valid(question: Question, numbers: Sequence[int]) -> bool:
        return bool(numbers) and all(1 <= n <= len(question.passages) for n in numbers)

    def numbers_of(prediction: Any) -> tuple[int, ...]:
        cited = getattr(prediction, "citations", None) or []
        return tuple(n for n in cited if isinstance(n, int))

    def reward(arguments: dict, prediction: Any) -> float:
        count = len(arguments["passages"])
        numbers = numbers_of(prediction)
        return float(
            bool(str(prediction.answer or "").strip()) and bool(numbers) and all(1 <= n <= count for n in numbers)
        )

    def make(build: Callable[[], Any]) -> Answerer:
        def answer(question: Question) -> Answer:
            module = build()  # Refine keeps a failure count on its instance: a new one per question
            texts = [f"[{n}] {p.title}: {p.text}" for n, p in enumerate(question.passages, 1)]
            before = len(GLOBAL_HISTORY)
            error = None
            try:
                with dspy.context(lm=lm):
                    prediction = module(question=question.example.question, passages=texts)
                text: str | None = str(prediction.answer)
                numbers = numbers_of(prediction)
            except AdapterParseError as failed:
                text, numbers, error = None, (), f"parse: {str(failed)[:120]}"
            except RuntimeError as failed:  # dspy.Refine raises this when every rollout failed
                text, numbers, error = None, (), f"{type(failed).__name__}: {str(failed)[:120]}"
            calls = GLOBAL_HISTORY[before:]
            usage = [entry.get("usage") or {} for entry in calls]
            return Answer(
                text,
                numbers,
                text is not None and valid(question, numbers),
                len(calls),
                sum(int(u.get("prompt_tokens") or 0) for u in usage),
                sum(int(u.get("completion_tokens") or 0) for u in usage),
                error,
            )

        return answer

    return {
        "dspy Predict": make(lambda: dspy.Predict(signature)),
        "dspy ChainOfThought": make(lambda: dspy.ChainOfThought(signature)),
        "dspy Refine(N=3)": make(lambda: dspy.Refine(dspy.Predict(signature), N=3, reward_fn=reward, threshold=1.0)),
    }


# the server -----------------------------------------------------------------------------------


def llama_server(settings: Settings, log_file: Path) -> contextlib.AbstractContextManager[str]:
    """The benchmarks' server on the embedded model, with this process's thread count (its default is half the CPUs)."""
    threads = str(max(1, os.cpu_count() or 1))
    return backends.llama_server(settings.n_ctx, log_file, extra=("--n_threads", threads))


# the run --------------------------------------------------------------------------------------

REFINE_LOCAL = ("refine", "refine+suggest", "refine+assert", "refine compiled")
SERVER = ("refine (server)", "dspy Predict", "dspy ChainOfThought", "dspy Refine(N=3)")
SYSTEMS = REFINE_LOCAL + SERVER


def questions(data: Path, name: str, n: int, settings: Settings) -> tuple[list[Question], list[Example], BM25Retriever]:
    """The first ``n`` questions of one data set with their top-k passages; the training questions after them."""
    path = data / FILES[name]
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: pass --data DIR, the shared data folder (see its MANIFEST.md)")
    dataset = load_dataset(path)
    retriever = BM25Retriever.build(dataset.passages)
    scored = []
    for index, example in enumerate(dataset.examples[:n]):
        hits = retriever.search(example.question, k=settings.k)
        scored.append(Question(name, index, example, tuple(hit.passage for hit in hits)))
    train = list(dataset.examples[n : n + settings.n_train])
    return scored, train, retriever


def done_rows(path: Path, settings: Settings) -> dict[tuple[str, str, int], dict[str, Any]]:
    """The rows already in ``path`` for these settings, by (system, dataset, index); a torn last line is skipped."""
    rows: dict[tuple[str, str, int], dict[str, Any]] = {}
    if not path.exists():
        return rows
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue  # a run killed mid-write: that question is answered again
        if isinstance(row, dict) and row.get("settings") == settings.key() and "system" in row:
            rows[(row["system"], row["dataset"], row["index"])] = row
    return rows


def summarise(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    def mean(key: str) -> float | None:
        values = [float(r[key]) for r in rows if r.get(key) is not None]
        return statistics.fmean(values) if values else None

    f1 = [float(r["f1"]) for r in rows]
    low, high = bootstrap_interval(f1, seed=0) if f1 else (None, None)
    return {
        "n": len(rows),
        "em": mean("em"),
        "f1": mean("f1"),
        "f1_low": low,  # the 95% bootstrap interval of the mean F1: at n = 20 it is wide
        "f1_high": high,
        **{key: mean(key) for key in ("parsed", "valid", "gold_precision", "gold_recall")},
        **{key: mean(key) for key in ("calls", "prompt_tokens", "completion_tokens", "seconds")},
        "errors": sum(1 for r in rows if r.get("error")),
    }


class Runner:
    """Answers each (system, question) not yet in ``out``, appending its row as it finishes."""

    def __init__(self, out: Path, settings: Settings, *, console: Console, progress: bool = True) -> None:
        self.out = out
        self.settings = settings
        self.console = console
        self.progress = progress
        self.done = done_rows(out, settings)
        self.notes: dict[str, str] = {}

    def missing(self, system: str, asked: Sequence[Question]) -> list[Question]:
        return [q for q in asked if (system, q.dataset, q.index) not in self.done]

    def answer_all(
        self, system: str, answer: Answerer, asked: Sequence[Question], extra: Mapping[str, Any] | None = None
    ) -> None:
        todo = self.missing(system, asked)
        if not todo:
            return
        self.out.parent.mkdir(parents=True, exist_ok=True)
        with Progress(console=self.console, disable=not self.progress, transient=True) as bar:
            task = bar.add_task(f"{system} on {todo[0].dataset}", total=len(todo))
            for question in todo:
                started = time.perf_counter()
                try:
                    said = answer(question)
                except RefineError as error:  # a typed runtime failure: the row says so, the run goes on
                    said = Answer(None, (), False, 0, 0, 0, f"{type(error).__name__}: {error}"[:200])
                row = {"system": system, **score(question, said, time.perf_counter() - started)}
                row |= {"settings": self.settings.key(), **(extra or {})}
                with self.out.open("a", encoding="utf-8") as sink:
                    sink.write(json.dumps(row, ensure_ascii=False) + "\n")
                self.done[(system, question.dataset, question.index)] = row
                bar.advance(task)


def measure(
    data: Path,
    *,
    n: int,
    systems: Sequence[str],
    out: Path,
    settings: Settings,
    console: Console,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Answer what is missing, then one summary row per (system, data set) over the first ``n`` questions."""
    runner = Runner(out, settings, console=console, progress=progress)
    asked: dict[str, list[Question]] = {}
    trains: dict[str, tuple[list[Example], BM25Retriever]] = {}
    for name in FILES:
        asked[name], train, retriever = questions(data, name, n, settings)
        trains[name] = (train, retriever)
    everything = [q for found in asked.values() for q in found]

    local = [s for s in systems if s in REFINE_LOCAL and runner.missing(s, everything)]
    if local:
        lm = LlamaCpp(n_ctx=settings.n_ctx)
        for system in local:
            if system == "refine compiled":
                for name, found in asked.items():
                    if not runner.missing(system, found):
                        continue
                    train, retriever = trains[name]
                    program, cost = compiled(out, name, settings, train, retriever, lm, runner, console)
                    runner.answer_all(system, refine_answerer(program, lm), found, cost)
                continue
            mode = {"refine": "plain", "refine+suggest": "suggest", "refine+assert": "assert"}[system]
            answerer = refine_answerer(refine_program(mode, settings), lm)
            for found in asked.values():
                runner.answer_all(system, answerer, found)
        del lm

    served = [s for s in systems if s in SERVER and runner.missing(s, everything)]
    if any(s.startswith("dspy") for s in served) and not dspy_available():
        for s in [s for s in served if s.startswith("dspy")]:
            runner.notes[s] = DSPY_MISSING
        served = [s for s in served if not s.startswith("dspy")]
    if served:
        with contextlib.ExitStack() as stack:
            scratch = stack.enter_context(tempfile.TemporaryDirectory())
            base = stack.enter_context(llama_server(settings, Path(scratch) / "server.log"))
            answerers: dict[str, Answerer] = {}
            if "refine (server)" in served:
                client = stack.enter_context(contextlib.closing(OpenAICompatible(base, SERVED)))
                answerers["refine (server)"] = refine_answerer(refine_program("plain", settings), client)
            if any(s.startswith("dspy") for s in served):
                answerers |= dspy_answerers(base, settings)
            for system in served:
                for found in asked.values():
                    runner.answer_all(system, answerers[system], found)

    summaries = []
    for system in systems:
        if system in runner.notes:
            summaries.append({"system": system, "dataset": None, "n": 0, "skipped": runner.notes[system]})
            continue
        for name, found in asked.items():
            rows = [runner.done[(system, name, q.index)] for q in found if (system, name, q.index) in runner.done]
            summary = {"system": system, "dataset": name, **summarise(rows)}
            if rows and "compile_seconds" in rows[0]:
                summary |= {
                    key: rows[0].get(key) for key in ("compile_seconds", "compile_questions", "compile_calls", "demos")
                }
            summaries.append(summary)
    return summaries


def table(rows: Sequence[Mapping[str, Any]]) -> Table:
    columns: tuple[str, ...] = (
        "system",
        "dataset",
        "n",
        "em",
        "f1",
        "f1_low",
        "f1_high",
        "parsed",
        "valid",
        "gold_precision",
        "gold_recall",
        "calls",
    )
    columns += ("prompt_tokens", "completion_tokens", "seconds")
    out = Table(title="cited answers, same model, same passages")
    for column in columns:
        out.add_column(column)
    for row in rows:
        if row.get("skipped"):
            out.add_row(str(row["system"]), f"skipped: {row['skipped']}", *([""] * (len(columns) - 2)))
            continue
        cells = []
        for column in columns:
            value = row.get(column)
            cells.append("—" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value))
        out.add_row(*cells)
    return out


def run(*, quick: bool = False, data: Path | None = None, n: int | None = None) -> list[dict[str, Any]]:
    """For ``python -m benchmarks``: the summaries of every system (``quick``: 5 questions per data set,
    3 training questions, in a fresh file; otherwise ``n``, by default 100, resuming
    ``benchmarks/results/quality.jsonl``)."""
    data = data or corpora.shared_data_dir()
    if data is None:
        raise FileNotFoundError("no shared data folder: set REFINE_DATA or put ../shared/data beside the checkout")
    console = Console(stderr=True)
    if quick:
        with tempfile.TemporaryDirectory() as scratch:
            return measure(
                data,
                n=n or 5,
                systems=SYSTEMS,
                out=Path(scratch) / "quality.jsonl",
                settings=Settings(n_train=3),
                console=console,
                progress=False,
            )
    return measure(data, n=n or 100, systems=SYSTEMS, out=RESULTS, settings=Settings(), console=console)


def _systems(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in SYSTEMS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"{text!r}: unknown systems {unknown}; choose from {', '.join(SYSTEMS)}")
    return names


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100, help="questions per data set (default 100)")
    parser.add_argument("--systems", type=_systems, default=SYSTEMS, help="comma-separated (default: all)")
    parser.add_argument("--data", type=Path, default=corpora.shared_data_dir(), help="the shared data folder")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"rows, appended (default {RESULTS})")
    parser.add_argument("--max-tokens", type=int, default=Settings.max_tokens)
    parser.add_argument("--n-train", type=int, default=Settings.n_train)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.data is None:
        parser.error("no shared data folder: pass --data DIR")
    console = Console(stderr=True, width=200)
    settings = Settings(max_tokens=args.max_tokens, n_train=args.n_train)
    rows = measure(args.data, n=args.n, systems=args.systems, out=args.out, settings=settings, console=console)
    Console(width=200).print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
