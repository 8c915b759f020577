"""The ``refine`` command: ``ask``, ``index``, ``eval`` and ``optimize`` (``refine --help``)."""

from refine.cli._main import main

__all__ = ["main"]
