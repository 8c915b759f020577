"""Data sets as examples plus the pooled corpus to retrieve from.

HotpotQA (IRCoT's processed rows, or the original ``{"_id", "question", "answer", "context",
"supporting_facts"}`` rows), NQ-open (lost-in-the-middle rows) and any JSON-lines file become a
:class:`Dataset`: :class:`~refine.Example` values whose input is the ``question`` and whose labels
are the gold ``answers`` and ``gold_ids`` (the ids of the supporting passages), and the
``passages`` of every loaded row pooled into one corpus, so that retrieval has to find the gold
passages among the others::

    data = refine.load_dataset("../shared/data/hotpotqa/dev397.jsonl", limit=20)
    rag = refine.CitedRAG(refine.BM25Retriever.build(data.passages))
    report = refine.evaluate(rag, data.examples, refine.metrics.f1)

The HotpotQA and NQ loaders build on :func:`corpora.load_hotpotqa` and :func:`corpora.load_nq`.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import corpora
from corpora import Passage, QADataset, QAExample, check_file, read_json_lines
from refine._options import check_int
from refine.errors import CorpusError, UsageError
from refine.example import Example

__all__ = ["FORMATS", "DataFormat", "Dataset", "load_dataset", "load_hotpotqa", "load_jsonl", "load_nq"]

logger = logging.getLogger(__name__)

DataFormat = Literal["hotpotqa", "nq", "jsonl"]
FORMATS: tuple[DataFormat, ...] = ("hotpotqa", "nq", "jsonl")
_JSONL_EXAMPLE = '{"id": "q1", "question": "...", "answers": ["..."]}'


@dataclass(frozen=True, slots=True)
class Dataset:
    """Examples and the one pooled corpus they are asked over."""

    name: str
    examples: tuple[Example, ...]
    passages: tuple[Passage, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "examples", tuple(self.examples))
        object.__setattr__(self, "passages", tuple(self.passages))
        for position, example in enumerate(self.examples):
            if not isinstance(example, Example):
                raise UsageError(f"Dataset examples[{position}]={example!r} must be a refine.Example")

    @classmethod
    def from_qa(cls, data: QADataset) -> Dataset:
        """A :class:`corpora.QADataset` as examples: ``question`` is the input; ``answers``,
        ``gold_ids`` and ``context_ids`` (the passages given with the question) are labels."""
        return cls(data.name, tuple(_from_qa(example) for example in data.examples), data.passages)

    def with_examples(self, examples: Iterable[Example]) -> Dataset:
        """The same corpus with other examples (a slice, a shuffle, a filter)."""
        return Dataset(self.name, tuple(examples), self.passages)

    def __len__(self) -> int:
        return len(self.examples)

    def __repr__(self) -> str:
        return f"Dataset(name={self.name!r}, examples={len(self.examples)}, passages={len(self.passages)})"


def _from_qa(example: QAExample) -> Example:
    return Example(
        id=example.id,
        question=example.question,
        answers=example.answers,
        gold_ids=example.gold_ids,
        context_ids=tuple(example.metadata.get("context_ids", ())),
    ).with_inputs("question")


def load_hotpotqa(path: str | os.PathLike[str], *, limit: int | None = None) -> Dataset:
    """HotpotQA, distractor setting, in IRCoT's processed format or the original one.

    The original format is read from a ``.json`` file holding a list of rows (as HotpotQA ships
    it) or from JSON lines. Either way paragraphs are pooled by title, a passage's id depends only
    on its title (so both formats give the same ids), and ``gold_ids`` are the supporting
    paragraphs (the titles of ``supporting_facts``, in the original format).
    """
    return Dataset.from_qa(corpora.load_hotpotqa(path, limit=_check_limit(limit)))


def load_nq(path: str | os.PathLike[str], *, limit: int | None = None) -> Dataset:
    """NQ-open in the lost-in-the-middle format (see :func:`corpora.load_nq`); ids are ``nq-{line}``."""
    return Dataset.from_qa(corpora.load_nq(path, limit=_check_limit(limit)))


def load_jsonl(
    path: str | os.PathLike[str],
    *,
    inputs: Sequence[str] = ("question",),
    id_key: str | None = "id",
    passages_key: str | None = None,
    limit: int | None = None,
) -> Dataset:
    """Examples from any JSON-lines file, one object a line.

    ``inputs`` names the keys the program is called with; every other key is a label (name the
    gold answers ``answers`` or ``answer`` and the gold passage ids ``gold_ids`` for the
    metrics in :mod:`refine.metrics` to find them). ``id_key`` names the key holding each row's
    id (a str or int); ``id_key=None`` numbers the rows by line instead (``line-7``), which stays
    stable only as long as the file does. ``passages_key``, when given, names a list of passage
    objects (``{"id"?, "title"?, "text"}``) in each row: they are pooled into the corpus and their
    ids kept as the row's ``context_ids``.
    """
    limit = _check_limit(limit)
    if isinstance(inputs, str) or not inputs or not all(isinstance(key, str) for key in inputs):
        raise UsageError(f"inputs={inputs!r} must name one key or more, e.g. inputs=('question',)")
    p = check_file(path, hint="pass a .jsonl (or .jsonl.gz) file with one example per line")
    examples: list[Example] = []
    first_line: dict[str, int] = {}
    pool: dict[str, Passage] = {}
    with contextlib.closing(read_json_lines(p, example=_JSONL_EXAMPLE)) as rows:
        for lineno, row in rows:
            if limit is not None and len(examples) >= limit:
                break
            where = f"{p}:{lineno}"
            values = dict(row)
            id_ = _row_id(values, id_key, lineno, where)
            if id_ in first_line:
                raise CorpusError(
                    f"{where}: id {id_!r} also on line {first_line[id_]}; ids must be unique (or pass id_key=None)"
                )
            first_line[id_] = lineno
            missing = [key for key in inputs if key not in values]
            if missing:
                raise CorpusError(
                    f"{where}: no input {', '.join(map(repr, missing))} (keys: {', '.join(sorted(row)) or 'none'}); "
                    f"name the input keys with inputs=(...)"
                )
            if passages_key is not None:
                values["context_ids"] = _pool(values.pop(passages_key, None), passages_key, pool, where)
            try:
                examples.append(Example.from_dict(values, id=id_, inputs=tuple(inputs)))
            except UsageError as exc:
                raise CorpusError(f"{where}: {exc}") from exc
    if not examples:
        raise CorpusError(f"{p} has no rows; add lines like {_JSONL_EXAMPLE}")
    return Dataset(p.name, tuple(examples), tuple(pool.values()))


def load_dataset(
    path: str | os.PathLike[str],
    *,
    format: DataFormat | None = None,
    limit: int | None = None,
    inputs: Sequence[str] = ("question",),
    id_key: str | None = "id",
    passages_key: str | None = None,
) -> Dataset:
    """A data set in any of :data:`FORMATS`; without ``format`` it is told from the first row's keys.

    ``inputs``, ``id_key`` and ``passages_key`` apply to the ``jsonl`` format (see :func:`load_jsonl`).
    """
    if format is not None and format not in FORMATS:
        raise UsageError(f"format={format!r} must be one of {', '.join(FORMATS)} (or None to tell it from the file)")
    p = check_file(path, hint="pass a .jsonl, .jsonl.gz or .json data file")
    chosen = format or sniff_format(p)
    if chosen == "hotpotqa":
        return load_hotpotqa(p, limit=limit)
    if chosen == "nq":
        return load_nq(p, limit=limit)
    return load_jsonl(p, inputs=inputs, id_key=id_key, passages_key=passages_key, limit=limit)


def sniff_format(path: Path) -> DataFormat:
    """``hotpotqa`` for IRCoT or original HotpotQA rows, ``nq`` for NQ-open rows, else ``jsonl``."""
    if path.suffix.lower() == ".json":
        return "hotpotqa"  # the original HotpotQA files are JSON lists; nothing else here is one
    with contextlib.closing(read_json_lines(path, example=_JSONL_EXAMPLE)) as rows:
        first = next(rows, None)
    keys = set(first[1]) if first else set()
    if {"question_id", "contexts"} <= keys or {"_id", "context", "supporting_facts"} <= keys:
        return "hotpotqa"
    if {"question", "ctxs"} <= keys:
        return "nq"
    return "jsonl"


def _check_limit(limit: int | None) -> int | None:
    return None if limit is None else check_int("limit", limit, minimum=1)


def _row_id(row: dict[str, Any], id_key: str | None, lineno: int, where: str) -> str:
    if id_key is None:
        return f"line-{lineno}"
    if id_key not in row:
        raise CorpusError(
            f"{where}: no {id_key!r} key (keys: {', '.join(sorted(row)) or 'none'}); name the id key with "
            f"id_key=..., or pass id_key=None to number the rows by line"
        )
    value = row.pop(id_key)
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
        raise CorpusError(f"{where}: id {id_key}={value!r} must be a non-empty str or an int")
    return str(value)


def _pool(items: Any, key: str, pool: dict[str, Passage], where: str) -> tuple[str, ...]:
    if not isinstance(items, list):
        raise CorpusError(f"{where}: {key!r} must be a list of passage objects like {{'title': ..., 'text': ...}}")
    ids = []
    for item in items:
        try:
            passage = Passage.from_dict(item)
        except CorpusError as exc:
            raise CorpusError(f"{where}: {key!r}: {exc}") from exc
        kept = pool.setdefault(passage.id, passage)
        if kept.text != passage.text:
            logger.warning("%s: passage id %r has other text than before; kept the first", where, passage.id)
        ids.append(passage.id)
    return tuple(dict.fromkeys(ids))
