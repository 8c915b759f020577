"""Loading passages from your own files: a JSON-lines file, or a folder of ``.txt``/``.md`` files."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from corpora._files import check_file, check_folder, read_json_lines, read_text
from corpora._passage import Passage
from corpora._split import DEFAULT_MAX_TOKENS, check_max_tokens, split_text
from corpora._text import encoding_problem
from corpora.errors import CorpusError

__all__ = ["FOLDER_SUFFIXES", "load_folder", "load_jsonl"]

logger = logging.getLogger(__name__)

FOLDER_SUFFIXES = (".md", ".txt")
_JSONL_EXAMPLE = '{"id": "doc1", "title": "Intro", "text": "...", "metadata": {}}'
_JSONL_FIX = "each line needs a 'text' string; 'id', 'title' and 'metadata' are optional"
# (key, type, may be null)
_JSONL_KEYS: tuple[tuple[str, type, bool], ...] = (
    ("text", str, False),
    ("title", str, False),
    ("id", str, True),
    ("metadata", dict, True),
)
_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$", re.MULTILINE)


def load_jsonl(path: str | os.PathLike[str]) -> tuple[Passage, ...]:
    """Passages from a ``.jsonl``/``.jsonl.gz`` file: one ``{"text", "id"?, "title"?, "metadata"?}`` a line.

    Missing ids are derived from the content (:func:`corpora.stable_id`); ids must be unique.
    Passages are taken as they are, not split.
    """
    p = check_file(path, hint="pass a .jsonl or .jsonl.gz file with one passage per line")
    passages: list[Passage] = []
    first_line: dict[str, int] = {}
    for lineno, row in read_json_lines(p, example=_JSONL_EXAMPLE):
        where = f"{p}:{lineno}"
        if "text" not in row:
            keys = ", ".join(sorted(row)) or "none"
            raise CorpusError(f"{where}: missing 'text' key (keys: {keys}); {_JSONL_FIX}")
        for key, kind, optional in _JSONL_KEYS:
            value = row.get(key)
            if key in row and not isinstance(value, kind) and not (optional and value is None):
                raise CorpusError(f"{where}: {key!r} must be a {kind.__name__}, got {value!r}; {_JSONL_FIX}")
        if not row["text"].strip():
            raise CorpusError(f"{where}: 'text' is blank; drop the line or give it some text")
        try:
            passage = Passage.from_dict(row)
        except CorpusError as exc:
            raise CorpusError(f"{where}: {exc}") from exc
        if passage.id in first_line:
            raise CorpusError(
                f"{where}: duplicate passage id {passage.id!r} (first on line {first_line[passage.id]}); "
                "give each line a distinct 'id', or drop the repeated line"
            )
        first_line[passage.id] = lineno
        passages.append(passage)
    if not passages:
        raise CorpusError(f"{p} has no passages; add lines like {_JSONL_EXAMPLE}")
    logger.debug("loaded %d passages from %s", len(passages), p)
    return tuple(passages)


def load_folder(path: str | os.PathLike[str], *, max_tokens: int = DEFAULT_MAX_TOKENS) -> tuple[Passage, ...]:
    """Passages from every ``.txt`` and ``.md`` file under ``path``, recursively, in sorted path order.

    Each file is split with :func:`split_text`. A passage's title is the file's first markdown
    heading, else its stem; its id is ``"{relative/path}#{chunk}"`` and its metadata
    ``{"source": relative/path, "chunk": chunk}``. Hidden files and folders (``.name``) are skipped.
    """
    check_max_tokens(max_tokens)
    root = check_folder(path, hint="pass a folder of .txt/.md files (or use load_jsonl for a .jsonl file)")
    files = sorted(
        (f.relative_to(root).as_posix(), f)
        for f in root.rglob("*")
        if f.suffix.lower() in FOLDER_SUFFIXES
        and f.is_file()
        and not any(part.startswith(".") for part in f.relative_to(root).parts)
    )
    if not files:
        raise CorpusError(f"no .txt or .md files in folder {str(root)!r}; add some, or pass a .jsonl file instead")
    passages: list[Passage] = []
    for relpath, file in files:
        if encoding_problem(relpath) is not None:  # the file system gave bytes that are not UTF-8
            shown = relpath.encode("utf-8", "surrogateescape")
            raise CorpusError(
                f"the file name {shown!r} in folder {str(root)!r} is not UTF-8, so it cannot name a passage; "
                "rename it (e.g. with convmv) or move it out of the folder"
            )
        passages.extend(_file_passages(relpath, file, max_tokens))
    if not passages:
        raise CorpusError(f"the {len(files)} .txt/.md files in {str(root)!r} are all empty; add some text")
    logger.debug("loaded %d passages from %d files in %s", len(passages), len(files), root)
    return tuple(passages)


def _file_passages(relpath: str, file: Path, max_tokens: int) -> list[Passage]:
    text = read_text(file)
    heading = _HEADING.search(text)
    title = heading.group(1).strip() if heading else file.stem
    return [
        Passage(id=f"{relpath}#{i}", title=title, text=chunk, metadata={"source": relpath, "chunk": i})
        for i, chunk in enumerate(split_text(text, max_tokens=max_tokens))
    ]
