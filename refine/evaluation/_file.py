"""The JSON-lines file an evaluation streams its rows to, written so that no finished row is lost.

The first line is a header naming what is evaluated (the format version, the metrics, the
program); each later line is one finished row. A row is appended with one ``write`` of the whole
line to a file opened with ``O_APPEND``, so a process killed at any moment (even by SIGKILL)
leaves every finished row on disk and at most one half-written last line, which a resume drops.
The file is locked (``flock``) while a run writes it, so two runs cannot interleave their rows.
The data reaches the kernel at once; only a power cut, not a killed process, can lose it.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from refine.errors import RuntimeFailure, UsageError
from refine.evaluation._rows import EvalRow

__all__ = ["FORMAT_VERSION", "RowFile", "RunHeader"]

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
_HEADER_KEY = "refine_eval"


@dataclass(frozen=True, slots=True)
class RunHeader:
    """What a run evaluates; a resumed file must hold a run of the same."""

    metric: str
    metrics: tuple[str, ...]
    program: str

    def to_json(self) -> dict[str, Any]:
        return {
            _HEADER_KEY: FORMAT_VERSION,
            "metric": self.metric,
            "metrics": list(self.metrics),
            "program": self.program,
        }

    def describe(self) -> str:
        extra = f" (and {', '.join(self.metrics)})" if self.metrics else ""
        return f"metric {self.metric}{extra} of {self.program}"


def _line(data: Mapping[str, Any]) -> bytes:
    # json.dumps escapes newlines inside strings, so a row is exactly one line.
    try:
        return (json.dumps(data, ensure_ascii=False) + "\n").encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate in some text: escape it rather than fail the row
        return (json.dumps(data) + "\n").encode("ascii")


class RowFile:
    """An open, locked evaluation file: :meth:`open` it, :meth:`append` rows, :meth:`close` it."""

    def __init__(self, path: Path, fd: int, size: int) -> None:
        self.path = path
        self._fd = fd
        self._size = size  # bytes up to the end of the last complete line
        self._torn = False  # a write was interrupted: cut the file back before the next one

    @classmethod
    def open(cls, path: str | os.PathLike[str], header: RunHeader, *, resume: bool) -> tuple[RowFile, list[EvalRow]]:
        """The file at ``path``, ready to append to, and the rows already in it (when resuming).

        Without ``resume`` the file must not hold a run yet; with it, it must hold a run of the
        same ``header`` (or none). A half-written last line is dropped.
        """
        if not isinstance(path, str | os.PathLike):
            raise UsageError(f"out={path!r} must be a file path (str or pathlib.Path)")
        p = Path(path)
        if p.is_dir():
            raise UsageError(f"out='{p}' is a folder; pass a file path such as {p / 'rows.jsonl'}")
        if not p.parent.is_dir():
            raise UsageError(f"out='{p}': folder '{p.parent}' does not exist; create it or pass another path")
        if p.exists() and not p.is_file():
            raise _not_a_file(p, p.stat().st_mode)
        try:
            # O_NONBLOCK: a FIFO put in its place since the check must not hang the open.
            fd = os.open(p, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_NONBLOCK, 0o644)
        except OSError as exc:
            problem = exc.strerror or exc
            raise UsageError(f"out='{p}' cannot be opened for writing: {problem}; pass another out") from None
        try:
            mode = os.fstat(fd).st_mode
            if not stat.S_ISREG(mode):
                raise _not_a_file(p, mode)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise UsageError(
                    f"out='{p}' is being written by another evaluation right now; wait for it or pass another out"
                ) from None
            rows, size = cls._read(p, fd, header, resume=resume)
            if size == 0:
                os.ftruncate(fd, 0)
                _write(p, fd, _line(header.to_json()))
                size = os.fstat(fd).st_size
            return cls(p, fd, size), rows
        except BaseException:
            os.close(fd)  # and with it the lock; the error goes on
            raise

    @staticmethod
    def _read(p: Path, fd: int, header: RunHeader, *, resume: bool) -> tuple[list[EvalRow], int]:
        """The rows in the file and the length of its complete lines (0: no header yet)."""
        buffer = bytearray()
        while chunk := os.pread(fd, 1 << 20, len(buffer)):
            buffer += chunk
        data = bytes(buffer)
        end = data.rfind(b"\n") + 1
        if end < len(data):
            logger.warning("%s: dropped a half-written last line (%d bytes)", p, len(data) - end)
            os.ftruncate(fd, end)
        lines = data[:end].splitlines()
        if not lines:
            return [], 0
        found = _header(p, lines[0])
        if not resume:
            raise UsageError(
                f"out='{p}' already holds a run ({len(lines) - 1} rows of {found.describe()}); pass resume=True "
                f"(--resume) to continue it, or another out"
            )
        if found != header:
            raise UsageError(
                f"out='{p}' holds a run of {found.describe()}, not of {header.describe()}; resume it with the "
                "same program and metrics, or pass another out"
            )
        rows: dict[str, EvalRow] = {}
        for number, line in enumerate(lines[1:], start=2):
            row = _row(p, number, line)
            if row.id in rows:
                logger.warning("%s:%d: row %r was already on an earlier line; kept the first", p, number, row.id)
            rows.setdefault(row.id, row)
        return list(rows.values()), end

    def append(self, row: EvalRow) -> None:
        """Write ``row`` as one whole line; when this returns, the row survives the process being killed."""
        if self._torn:  # an earlier write was interrupted (Ctrl-C): drop its partial line first
            os.ftruncate(self._fd, self._size)
        data = _line(row.to_json())
        self._torn = True
        try:
            _write(self.path, self._fd, data)
        except RuntimeFailure:
            os.ftruncate(self._fd, self._size)  # the file ends with its last whole row
            self._torn = False
            raise
        self._torn = False
        self._size += len(data)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _write(p: Path, fd: int, data: bytes) -> None:
    view = memoryview(data)
    try:
        while view:  # one write in practice; more only for a line larger than the kernel takes at once
            view = view[os.write(fd, view) :]
    except OSError as exc:  # a full disk, a file-size limit (ulimit -f): the rows before stay
        raise RuntimeFailure(
            f"cannot write to out='{p}': {exc.strerror or exc}; the rows written so far are kept: make room "
            "(or lift the limit) and run again with resume=True (--resume), or pass another out"
        ) from None


def _not_a_file(p: Path, mode: int) -> UsageError:
    kind = "a character device" if stat.S_ISCHR(mode) else "a pipe" if stat.S_ISFIFO(mode) else "not a regular file"
    return UsageError(f"out='{p}' is {kind}; rows go to a regular file: pass a path such as rows.jsonl")


def _header(p: Path, line: bytes) -> RunHeader:
    try:
        data = json.loads(line)
        if not isinstance(data, dict) or data.get(_HEADER_KEY) is None:
            raise ValueError("no header")
    except ValueError:
        raise UsageError(
            f"out='{p}' is not an evaluation file written by refine (its first line is {line[:60]!r}); pass another out"
        ) from None
    if data[_HEADER_KEY] != FORMAT_VERSION:
        raise UsageError(
            f"out='{p}' was written in evaluation format {data[_HEADER_KEY]!r}; this refine reads format "
            f"{FORMAT_VERSION}; pass another out"
        )
    return RunHeader(str(data.get("metric")), tuple(map(str, data.get("metrics") or ())), str(data.get("program")))


def _row(p: Path, number: int, line: bytes) -> EvalRow:
    try:
        return EvalRow.from_json(json.loads(line))
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(
            f"out='{p}' line {number} is not an evaluation row ({type(exc).__name__}: {exc}); the file was edited "
            "or written by something else: remove that line, or pass another out"
        ) from None
