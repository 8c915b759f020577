"""The one progress display of long work (building an index, evaluating, compiling, training), on stderr.

Every bar looks alike: what runs, the bar, done/total, a status (the running metric, the loss),
elapsed time and time left. rich is imported only when a bar is drawn, so ``import refine``
stays cheap; a disabled display draws nothing and costs nothing, so callers need one code path.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, Protocol

__all__ = ["PROGRESS_THRESHOLD", "Advance", "Tasks", "progress", "progress_bar", "wants_progress"]


class Advance(Protocol):
    """Moves a bar on by ``steps``; a ``status`` (not None) replaces the one shown beside it."""

    def __call__(self, steps: int = 1, status: str | None = None) -> None: ...


# add(what, total, completed=0, status=""): a new bar on the same display.
Tasks = Callable[..., Advance]

# Work on more items than this shows progress unless the caller says otherwise.
PROGRESS_THRESHOLD = 5_000


def wants_progress(show_progress: bool | None, count: int) -> bool:
    """``show_progress``, or, when it is None, whether ``count`` items are many enough to show."""
    if show_progress is None:
        return count > PROGRESS_THRESHOLD
    return show_progress


def _silent(steps: int = 1, status: str | None = None) -> None:
    return None


@contextlib.contextmanager
def progress(enabled: bool) -> Iterator[Tasks]:
    """A display on stderr; yields ``add(what, total, completed=0, status="") -> advance``."""
    if not enabled:
        yield lambda *args, **kwargs: _silent
        return
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
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True)) as display:

        def add(what: str, total: int | None, completed: int = 0, status: str = "") -> Advance:
            task = display.add_task(what, total=total, completed=completed, status=status)

            def advance(steps: int = 1, status: str | None = None) -> None:
                fields: dict[str, Any] = {} if status is None else {"status": status}
                display.update(task, advance=steps, **fields)

            return advance

        yield add


@contextlib.contextmanager
def progress_bar(
    enabled: bool, what: str, total: int | None, *, completed: int = 0, status: str = ""
) -> Iterator[Advance]:
    """One bar: ``what``, ``total`` steps of which ``completed`` are done (a resumed run)."""
    with progress(enabled) as add:
        yield add(what, total, completed, status)
