"""The progress bar of an evaluation, on stderr: rows done, the running metric, errors, ETA."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from refine._eval_rows import EvalRow

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

__all__ = ["ProgressBar", "progress_bar"]


class ProgressBar:
    """Counts finished rows and shows them; without a rich ``Progress`` it only counts."""

    def __init__(self, metric: str, rows: Iterable[EvalRow], progress: Progress | None = None) -> None:
        self._metric = metric
        self._progress = progress
        self._task: TaskID | None = None
        self.rows = 0
        self.errors = 0
        self._sum = 0.0
        for row in rows:
            self._count(row)

    def _count(self, row: EvalRow) -> None:
        self.rows += 1
        self.errors += row.error is not None
        self._sum += row.value()

    def text(self) -> str:
        if not self.rows:
            return f"{self._metric} -"
        errors = f"  errors {self.errors}" if self.errors else ""
        return f"{self._metric} {self._sum / self.rows:.3f}{errors}"

    def start(self, total: int) -> None:
        if self._progress is not None:
            self._task = self._progress.add_task("evaluate", total=total, completed=self.rows, score=self.text())

    def advance(self, row: EvalRow) -> None:
        self._count(row)
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, advance=1, score=self.text())


@contextlib.contextmanager
def progress_bar(enabled: bool, metric: str, *, total: int, rows: Iterable[EvalRow]) -> Iterator[ProgressBar]:
    """A bar on stderr for ``total`` rows, of which ``rows`` are already done (a resumed run)."""
    if not enabled:
        yield ProgressBar(metric, rows)
        return
    # rich is imported when a bar is drawn, so `import refine` stays cheap (issue 17).
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("[bold]evaluate"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[score]}"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True)) as progress:
        bar = ProgressBar(metric, rows, progress)
        bar.start(total)
        yield bar
