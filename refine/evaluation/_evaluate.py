"""Evaluate a program on examples: one row per example, streamed to a file, aggregated in a report.

:func:`evaluate` calls ``program(lm=lm, **example.inputs)`` for each example, scores what comes
back with ``metric(example, prediction)``, and returns an :class:`EvalReport` (rows in the order
of the examples; mean with a bootstrap interval, pass rate per rule, LM usage; the failing and
slowest rows).

- A :class:`~refine.RefineError` raised by the program (an exhausted assertion, a reply that
  never parsed, a failed LM call, a question the retriever cannot match) is that row's error,
  and the row scores 0. Any other exception is a bug in the program or a metric: the run stops
  (after the rows in flight finish, when threaded), keeps every finished row, and re-raises it.
- With ``out``, each row is appended to a JSON-lines file as it finishes (after a header line
  naming the metrics and the program), one whole line at a time: a run killed at any moment,
  even by SIGKILL, loses no finished row, and ``resume=True`` skips the examples already there.
- ``threads=n`` runs ``n`` examples at a time. A program's call depends only on its inputs (and a
  reproducible backend, as the embedded model is by default), so the rows are the same as with
  ``threads=1``; only the order in which they finish differs. The ``refine.using`` default LM
  reaches every thread.
- Ctrl-C stops the run: with one thread at the model's next decoding step, the row in progress
  being dropped; with more, no new row starts and the rows in flight finish (a second Ctrl-C
  stops waiting for them). It raises :class:`EvaluationInterrupted`, a ``KeyboardInterrupt``
  whose ``report`` holds the finished rows.

(This module is ``evaluation``, not ``evaluate``, so that ``refine.evaluate`` can be the function
without hiding the module.)
"""

from __future__ import annotations

import contextvars
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from refine._options import check_bool, check_int
from refine._progress import progress_bar
from refine.errors import UsageError
from refine.evaluation._checks import check_examples, check_inputs, describe, extra_metrics, named
from refine.evaluation._datasets import Dataset
from refine.evaluation._file import RowFile, RunHeader
from refine.evaluation._report import EvalReport, RuleStats
from refine.evaluation._rows import EvalRow, RowError, RowFailure, run_row
from refine.example import Example
from refine.lm import LM
from refine.lm._interrupt import deferred_interrupts, raise_if_interrupted
from refine.metrics import Metric

__all__ = [
    "EvalReport",
    "EvalRow",
    "EvaluationInterrupted",
    "RowError",
    "RowFailure",
    "RuleStats",
    "evaluate",
]

logger = logging.getLogger(__name__)

# How often a threaded run looks for a Ctrl-C while it waits for rows.
_POLL_SECONDS = 0.1


class EvaluationInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped an evaluation; ``report`` holds the rows that finished (all of them in ``out``)."""

    def __init__(self, report: EvalReport) -> None:
        super().__init__(f"evaluation interrupted after {len(report.rows)} rows")
        self.report = report


def evaluate(
    program: Any,
    examples: Iterable[Example] | Dataset,
    metric: Metric,
    *,
    lm: LM | None = None,
    threads: int = 1,
    progress: bool = True,
    out: str | os.PathLike[str] | None = None,
    resume: bool = False,
    metrics: Sequence[Metric] | Mapping[str, Metric] = (),
    seed: int = 0,
) -> EvalReport:
    """Run ``program`` on every example and score it with ``metric`` (and each of ``metrics``).

    ``lm`` is passed to every call (else the program uses its own, or the ``refine.using``
    default); ``progress`` shows a progress bar on stderr; ``out`` streams the rows to a
    JSON-lines file, which ``resume=True`` continues; ``seed`` draws the bootstrap interval.
    Every example needs an ``id`` (ids name rows in ``out``) and its inputs named with
    :meth:`Example.with_inputs`. See the module docstring for errors, threads and Ctrl-C.
    """
    threads = check_int("threads", threads, minimum=1)
    progress = check_bool("progress", progress)
    resume = check_bool("resume", resume)
    seed = check_int("seed", seed, minimum=0)
    if not callable(program):
        raise UsageError(f"program={program!r} is not callable; pass a refine.Predict or refine.Module")
    if lm is not None and not callable(getattr(lm, "complete", None)):
        raise UsageError(f"lm={lm!r} is not an LM (it has no complete(request) method); pass e.g. refine.LlamaCpp()")
    if resume and out is None:
        raise UsageError("resume=True needs out=PATH, the file of the run to continue")
    main = (named(metric, "metric"), metric)
    extra = extra_metrics(metrics, main[0])
    todo_all = check_examples(examples)
    check_inputs(program, todo_all, lm)
    header = RunHeader(main[0], tuple(extra), describe(program))

    started = time.perf_counter()
    done: dict[str, EvalRow] = {}
    file: RowFile | None = None
    if out is not None:
        file, previous = RowFile.open(out, header, resume=resume)
        wanted = {example.id for example in todo_all}
        done.update((row.id, row) for row in previous if row.id in wanted)
        if len(done) < len(previous):
            logger.info(
                "%s: %d rows are of examples not given this time; left out of the report",
                out,
                len(previous) - len(done),
            )
    resumed = len(done)
    todo = [example for example in todo_all if example.id not in done]

    def report() -> EvalReport:
        rows = [done[str(e.id)] for e in todo_all if e.id in done]
        return EvalReport.of(
            rows,
            metric=main[0],
            metrics=tuple(extra),
            program=header.program,
            seconds=time.perf_counter() - started,
            seed=seed,
            resumed=resumed,
            out=None if out is None else os.fspath(out),
        )

    def task(example: Example) -> EvalRow:
        return run_row(program, example, main, extra, lm)

    try:
        tally = _Tally(main[0], done.values())
        with progress_bar(progress, "evaluate", len(todo_all), completed=tally.rows, status=tally.text()) as advance:

            def finished(row: EvalRow) -> None:
                if file is not None:
                    file.append(row)
                done[row.id] = row
                advance(1, tally.add(row))

            if threads == 1 or len(todo) <= 1:
                for example in todo:
                    finished(task(example))
            else:
                _threaded(task, todo, threads, finished)
    except KeyboardInterrupt:
        partial = report()
        logger.info("interrupted after %d of %d rows", len(partial.rows), len(todo_all))
        raise EvaluationInterrupted(partial) from None
    except BaseException as exc:
        where = f"; the {len(done)} finished rows are in {os.fspath(out)} (resume=True continues)" if out else ""
        exc.add_note(f"refine.evaluate stopped at this error after {len(done)} rows{where}")
        raise
    finally:
        if file is not None:
            file.close()
    return report()


class _Tally:
    """The running metric and errors of the rows finished so far, as the progress bar shows them."""

    def __init__(self, metric: str, rows: Iterable[EvalRow]) -> None:
        self.metric, self.rows, self.errors, self.total = metric, 0, 0, 0.0
        for row in rows:
            self.add(row)

    def add(self, row: EvalRow) -> str:
        self.rows += 1
        self.errors += row.error is not None
        self.total += row.value()
        return self.text()

    def text(self) -> str:
        if not self.rows:
            return f"{self.metric} -"
        errors = f"  errors {self.errors}" if self.errors else ""
        return f"{self.metric} {self.total / self.rows:.3f}{errors}"


def _threaded(
    task: Callable[[Example], EvalRow], todo: Sequence[Example], threads: int, finished: Callable[[EvalRow], None]
) -> None:
    """Run ``task`` on ``threads`` examples at a time, passing each row to ``finished`` in the
    calling thread as it comes. At Ctrl-C or a bug no new row starts; the rows in flight finish.

    Ctrl-C is taken between steps of this loop (never inside its bookkeeping, where it could lose
    a row that finished); a second one stops waiting for the rows in flight.
    """
    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="refine-evaluate")
    pending: Iterator[Example] = iter(todo)
    running: set[Future[EvalRow]] = set()
    crash: BaseException | None = None
    interrupted = False
    try:
        with deferred_interrupts():
            while True:
                if crash is None and not interrupted:
                    while len(running) < threads and (example := next(pending, None)) is not None:
                        # Each task runs in a copy of this context, so refine.using reaches it.
                        running.add(pool.submit(contextvars.copy_context().run, task, example))
                if not running:
                    break
                done, _ = wait(running, timeout=_POLL_SECONDS, return_when=FIRST_COMPLETED)
                for future in done:
                    running.discard(future)
                    error = future.exception()
                    if error is None:
                        finished(future.result())
                    elif crash is None:
                        crash = error
                        logger.warning(
                            "a row raised %s; finishing the %d rows in flight", type(error).__name__, len(running)
                        )
                try:
                    raise_if_interrupted()
                except KeyboardInterrupt:
                    if interrupted or not running:
                        raise  # a second Ctrl-C: stop waiting for the rows in flight
                    interrupted = True
                    logger.warning(
                        "interrupted: finishing the %d rows in flight (Ctrl-C again to stop now)", len(running)
                    )
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    if crash is not None:
        raise crash
    if interrupted:
        raise KeyboardInterrupt
