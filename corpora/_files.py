"""Checked access to files on disk: existence, kind, encoding, and JSON lines with line numbers."""

from __future__ import annotations

import gzip
import io
import json
import os
import zlib
from collections.abc import Generator
from pathlib import Path
from typing import Any

from corpora.errors import CorpusError

__all__ = ["as_path", "check_file", "check_folder", "read_json_lines", "read_text", "require"]


def as_path(path: str | os.PathLike[str], *, what: str = "path") -> Path:
    if not isinstance(path, str | os.PathLike):
        raise CorpusError(f"{what}={path!r} must be a str or pathlib.Path, got {type(path).__name__}")
    return Path(path)


def check_file(path: str | os.PathLike[str], *, hint: str) -> Path:
    """``path`` as a Path if it is an existing file; ``hint`` says what the caller should pass instead."""
    p = as_path(path)
    if not p.exists():
        raise CorpusError(f"no such file: {str(p)!r} (resolved to {str(p.absolute())!r}); {hint}")
    if not p.is_file():
        raise CorpusError(f"{str(p)!r} is a folder, not a file; {hint}")
    return p


def check_folder(path: str | os.PathLike[str], *, hint: str) -> Path:
    """``path`` as a Path if it is an existing folder."""
    p = as_path(path)
    if not p.exists():
        raise CorpusError(f"no such folder: {str(p)!r} (resolved to {str(p.absolute())!r}); {hint}")
    if not p.is_dir():
        raise CorpusError(f"{str(p)!r} is a file, not a folder; {hint}")
    return p


def read_text(path: Path) -> str:
    """The UTF-8 text of a file, or a CorpusError that names the file."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CorpusError(
            f"{str(path)!r} is not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8"
        ) from exc
    except OSError as exc:
        raise CorpusError(f"cannot read {str(path)!r}: {exc.strerror or exc}; check its permissions") from exc


def _open_lines(path: Path) -> io.TextIOBase:
    if path.name.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    return open(path, encoding="utf-8")  # closed by the caller's with-block


def read_json_lines(path: Path, *, example: str) -> Generator[tuple[int, dict[str, Any]], None, None]:
    """``(line_number, object)`` for each non-blank line of a ``.jsonl`` or ``.jsonl.gz`` file.

    ``example`` is a one-line sample shown in errors about malformed lines.
    """
    lineno = 0
    try:
        with _open_lines(path) as lines:
            for lineno, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise CorpusError(
                        f"{path}:{lineno}: bad JSON ({exc.msg} at column {exc.colno}); "
                        f"each line must be one JSON object, e.g. {example}"
                    ) from exc
                if not isinstance(row, dict):
                    raise CorpusError(
                        f"{path}:{lineno}: expected a JSON object, got {type(row).__name__}; "
                        f"each line must be one JSON object, e.g. {example}"
                    )
                yield lineno, row
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{path}:{lineno + 1}: not UTF-8 text ({exc.reason}); save the file as UTF-8") from exc
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise CorpusError(
            f"{path}: not a valid gzip file ({exc}); decompress it or rename it without the .gz suffix"
        ) from exc
    except OSError as exc:
        raise CorpusError(f"cannot read {str(path)!r}: {exc.strerror or exc}; check its permissions") from exc


def require(row: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str, *, fix: str) -> Any:
    """``row[key]`` if present and of type ``kind``, else a CorpusError naming ``where`` (``path:line``)."""
    if key not in row:
        raise CorpusError(f"{where}: missing {key!r} key (keys: {', '.join(sorted(row)) or 'none'}); {fix}")
    value = row[key]
    if not isinstance(value, kind):
        expected = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise CorpusError(f"{where}: {key!r} must be a {expected}, got {value!r}; {fix}")
    return value
