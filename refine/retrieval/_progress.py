"""The progress display for building large indexes, on stderr through rich."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.progress import Progress

__all__ = ["PROGRESS_THRESHOLD", "build_progress", "wants_progress"]

# Corpora larger than this show progress unless the caller says otherwise.
PROGRESS_THRESHOLD = 5_000


def wants_progress(show_progress: bool | None, count: int) -> bool:
    if show_progress is None:
        return count > PROGRESS_THRESHOLD
    return show_progress


def build_progress(enabled: bool) -> Progress:
    """A progress display on stderr; a disabled one draws nothing, so callers need one code path."""
    # rich is imported here, when an index is built, not when the retriever is.
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=not enabled,
    )
