"""The progress bar of a compile, on stderr: examples run, traces kept, elapsed time."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

__all__ = ["Advance", "progress_bar"]

# advance(steps, status): move the bar on by ``steps`` and show ``status`` beside it.
Advance = Callable[[int, str], None]


@contextlib.contextmanager
def progress_bar(enabled: bool, what: str, total: int) -> Iterator[Advance]:
    if not enabled:
        yield lambda steps, status: None
        return
    # rich is imported when a bar is drawn, so `import refine` stays cheap (issue 17).
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn(f"[bold]{what}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as progress:
        task = progress.add_task(what, total=total, status="")

        def advance(steps: int, status: str) -> None:
            progress.update(task, advance=steps, status=status)

        yield advance
