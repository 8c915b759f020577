"""Question-answering data sets with gold passages: HotpotQA (multi-hop) and Natural Questions (open).

Each loader pools the paragraphs of all loaded questions into one corpus, so that retrieval has to
find the gold passages among the others, and returns a frozen :class:`QADataset`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from corpora._files import check_file, read_json_lines, require
from corpora._passage import Passage, stable_id
from corpora.errors import CorpusError

__all__ = ["QADataset", "QAExample", "load_hotpotqa", "load_nq"]

logger = logging.getLogger(__name__)

_HOTPOT_EXAMPLE = (
    '{"question_id": "...", "question_text": "...", "answers_objects": [{"spans": ["..."]}], '
    '"contexts": [{"id": "0", "title": "...", "paragraph_text": "...", "is_supporting": true}]}'
)
_HOTPOT_FIX = f"load_hotpotqa expects IRCoT-style HotpotQA rows like {_HOTPOT_EXAMPLE}"
_ORIGINAL_EXAMPLE = (
    '{"_id": "...", "question": "...", "answer": "...", "context": [["Title", ["Sentence one.", " Two."]]], '
    '"supporting_facts": [["Title", 0]]}'
)
_ORIGINAL_FIX = f"original HotpotQA rows look like {_ORIGINAL_EXAMPLE}"
_NQ_EXAMPLE = '{"question": "...", "answers": ["..."], "ctxs": [{"title": "...", "text": "...", "isgold": true}]}'
_NQ_FIX = f"load_nq expects NQ-open rows (lost-in-the-middle format) like {_NQ_EXAMPLE}"


def _freeze(metadata: Mapping[str, Any] | None, owner: str) -> Mapping[str, Any]:
    try:
        # A JSON round trip checks the metadata can be saved and detaches it from the caller.
        return MappingProxyType(json.loads(json.dumps(dict(metadata or {}))))
    except (TypeError, ValueError) as exc:
        raise CorpusError(
            f"{owner} metadata must be JSON-serialisable, got {metadata!r}: {exc}; "
            "convert values to str, int, float, bool, list or dict"
        ) from exc


def _strings(values: Iterable[str], name: str, owner: str) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise CorpusError(f"{owner} {name}={values!r} must be a list or tuple of str")
    result = tuple(values)
    for value in result:
        if not isinstance(value, str):
            raise CorpusError(f"{owner} {name}={result!r} must hold only str, got {value!r}")
    return result


@dataclass(frozen=True, slots=True)
class QAExample:
    """A question, its accepted answers, and the ids of the passages that support an answer."""

    id: str
    question: str
    answers: tuple[str, ...]
    gold_ids: tuple[str, ...]
    metadata: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("id", "question"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise CorpusError(f"QAExample {name}={value!r} must be a non-empty str")
        object.__setattr__(self, "answers", _strings(self.answers, "answers", f"QAExample {self.id!r}"))
        object.__setattr__(self, "gold_ids", _strings(self.gold_ids, "gold_ids", f"QAExample {self.id!r}"))
        object.__setattr__(self, "metadata", _freeze(self.metadata, f"QAExample {self.id!r}"))

    def __repr__(self) -> str:
        return (
            f"QAExample(id={self.id!r}, question={self.question!r}, "
            f"answers={self.answers!r}, gold_ids={self.gold_ids!r})"
        )


@dataclass(frozen=True, slots=True)
class QADataset:
    """Questions and the one pooled corpus they are asked over; every gold id names one of ``passages``."""

    name: str
    examples: tuple[QAExample, ...]
    passages: tuple[Passage, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "examples", tuple(self.examples))
        object.__setattr__(self, "passages", tuple(self.passages))
        _unique((e.id for e in self.examples), f"{self.name}: question id")
        ids = _unique((p.id for p in self.passages), f"{self.name}: passage id")
        for example in self.examples:
            missing = [gold for gold in example.gold_ids if gold not in ids]
            if missing:
                raise CorpusError(
                    f"{self.name}: question {example.id!r} has gold ids {missing!r} that are not among "
                    f"the {len(ids)} passages; add those passages or drop them from gold_ids"
                )

    def __repr__(self) -> str:
        return f"QADataset(name={self.name!r}, examples={len(self.examples)}, passages={len(self.passages)})"


def _unique(ids: Iterable[str], what: str) -> set[str]:
    seen: set[str] = set()
    for id_ in ids:
        if id_ in seen:
            raise CorpusError(f"{what} {id_!r} occurs twice; ids must be unique")
        seen.add(id_)
    return seen


def _check_limit(limit: int | None) -> int | None:
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise CorpusError(f"limit={limit!r} must be None (all questions) or an int >= 1")
    return limit


def _example(
    where: str,
    id: str,
    question: str,
    answers: Iterable[str],
    gold_ids: Iterable[str],
    dataset: str,
    lineno: int,
    context_ids: list[str],
) -> QAExample:
    try:
        return QAExample(
            id=id,
            question=question.strip(),
            answers=tuple(dict.fromkeys(a.strip() for a in answers if a.strip())),
            gold_ids=tuple(dict.fromkeys(gold_ids)),
            metadata={"dataset": dataset, "line": lineno, "context_ids": context_ids},
        )
    except CorpusError as exc:
        raise CorpusError(f"{where}: {exc}") from exc


def load_hotpotqa(path: str | os.PathLike[str], *, limit: int | None = None) -> QADataset:
    """HotpotQA (distractor setting): the first ``limit`` questions and their pooled paragraphs, from
    IRCoT's processed rows or from the original format (a ``.json`` list of rows, as HotpotQA ships
    it, or the same rows as JSON lines; ``gold_ids`` are then the titles of ``supporting_facts``).

    Paragraphs are pooled over the loaded rows and deduplicated by title; a passage's id depends only
    on its title. ``gold_ids`` are the ``is_supporting`` paragraphs. Each example's metadata holds
    ``line`` and ``context_ids`` (the paragraphs given with that question).
    """
    p = check_file(path, hint="pass a HotpotQA .jsonl (or .json) file, e.g. <shared data>/hotpotqa/dev397.jsonl")
    _check_limit(limit)
    original = _original_rows(p, limit)
    if original is not None:
        return _original_hotpotqa(p, original)
    pool: dict[str, Passage] = {}  # title -> passage
    conflicts = 0
    examples: list[QAExample] = []
    with contextlib.closing(read_json_lines(p, example=_HOTPOT_EXAMPLE)) as rows:
        for lineno, row in rows:
            if limit is not None and len(examples) >= limit:
                break
            where = f"{p}:{lineno}"
            answers: list[str] = []
            for obj in require(row, "answers_objects", list, where, fix=_HOTPOT_FIX):
                if not isinstance(obj, dict):
                    raise CorpusError(f"{where}: each of 'answers_objects' must be an object; {_HOTPOT_FIX}")
                answers.extend(_strings(require(obj, "spans", list, where, fix=_HOTPOT_FIX), "spans", where))
            context_ids: list[str] = []
            gold_ids: list[str] = []
            for ctx in require(row, "contexts", list, where, fix=_HOTPOT_FIX):
                if not isinstance(ctx, dict):
                    raise CorpusError(f"{where}: each of 'contexts' must be an object; {_HOTPOT_FIX}")
                title = require(ctx, "title", str, where, fix=_HOTPOT_FIX)
                text = require(ctx, "paragraph_text", str, where, fix=_HOTPOT_FIX)
                passage = pool.get(title)
                if passage is None:
                    passage = Passage(
                        id=stable_id(title, "", prefix="hp"),
                        title=title,
                        text=text,
                        metadata={"dataset": "hotpotqa"},
                    )
                    pool[title] = passage
                elif passage.text != text:
                    conflicts += 1
                context_ids.append(passage.id)
                if require(ctx, "is_supporting", bool, where, fix=_HOTPOT_FIX):
                    gold_ids.append(passage.id)
            question_id = require(row, "question_id", str, where, fix=_HOTPOT_FIX)
            question = require(row, "question_text", str, where, fix=_HOTPOT_FIX)
            examples.append(_example(where, question_id, question, answers, gold_ids, "hotpotqa", lineno, context_ids))
    if conflicts:
        logger.warning("%s: %d paragraphs share a title with different text; kept the first of each", p, conflicts)
    return _finish("hotpotqa", p, examples, pool.values())


def _original_rows(path: Path, limit: int | None) -> list[tuple[int, dict[str, Any]]] | None:
    """The rows of an original-format HotpotQA file (``(number, row)``), or None for IRCoT rows."""
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CorpusError(f"{path}: not a JSON file ({exc}); {_ORIGINAL_FIX}, in a JSON list") from exc
        if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
            raise CorpusError(f"{path}: expected a JSON list of objects; {_ORIGINAL_FIX}")
        return list(enumerate(data[:limit], start=1))
    rows: list[tuple[int, dict[str, Any]]] = []
    with contextlib.closing(read_json_lines(path, example=_ORIGINAL_EXAMPLE)) as lines:
        for lineno, row in lines:
            if not rows and "_id" not in row:
                return None  # IRCoT rows: corpora reads them
            if limit is not None and len(rows) >= limit:
                break
            rows.append((lineno, row))
    return rows


def _original_hotpotqa(path: Path, rows: list[tuple[int, dict[str, Any]]]) -> QADataset:
    pool: dict[str, Passage] = {}
    examples: list[QAExample] = []
    for number, row in rows:
        where = f"{path}:{number}"
        context_ids: list[str] = []
        for pair in require(row, "context", list, where, fix=_ORIGINAL_FIX):
            title, sentences = _context(pair, where)
            passage = pool.setdefault(title, Passage(stable_id(title, "", prefix="hp"), title, "".join(sentences)))
            context_ids.append(passage.id)
        given = set(context_ids)
        gold_ids: list[str] = []
        for fact in require(row, "supporting_facts", list, where, fix=_ORIGINAL_FIX):
            if not (isinstance(fact, list) and fact and isinstance(fact[0], str)):
                raise CorpusError(f"{where}: each supporting fact must be [title, sentence index]; {_ORIGINAL_FIX}")
            gold = stable_id(fact[0], "", prefix="hp")
            if gold not in given:
                raise CorpusError(f"{where}: supporting fact title {fact[0]!r} is not in the row's context")
            gold_ids.append(gold)
        answer = require(row, "answer", str, where, fix=_ORIGINAL_FIX)
        try:
            examples.append(
                QAExample(
                    id=require(row, "_id", str, where, fix=_ORIGINAL_FIX),
                    question=require(row, "question", str, where, fix=_ORIGINAL_FIX).strip(),
                    answers=(answer.strip(),) if answer.strip() else (),
                    gold_ids=tuple(dict.fromkeys(gold_ids)),
                    metadata={"dataset": "hotpotqa", "line": number, "context_ids": context_ids},
                )
            )
        except CorpusError as exc:
            raise CorpusError(f"{where}: {exc}") from exc
    if not examples:
        raise CorpusError(f"{path} has no questions; is it the right file?")
    return QADataset(name="hotpotqa", examples=tuple(examples), passages=tuple(pool.values()))


def _context(pair: Any, where: str) -> tuple[str, list[str]]:
    if (
        isinstance(pair, list)
        and len(pair) == 2
        and isinstance(pair[0], str)
        and isinstance(pair[1], list)
        and all(isinstance(s, str) for s in pair[1])
    ):
        return pair[0], pair[1]
    raise CorpusError(
        f"{where}: each context entry must be [title, [sentences]], got {str(pair)[:80]}; {_ORIGINAL_FIX}"
    )


def load_nq(path: str | os.PathLike[str], *, limit: int | None = None) -> QADataset:
    """Natural Questions (open), lost-in-the-middle format: the first ``limit`` questions, pooled ctxs.

    Contexts are pooled over the loaded rows and deduplicated by (title, text); a passage's id depends
    only on its content. ``gold_ids`` are the ctxs with ``isgold`` true. Rows carry no question id,
    so an example's id is ``"nq-{line}"``; its metadata holds ``line`` and ``context_ids``.
    """
    p = check_file(path, hint="pass the NQ-open .jsonl(.gz) file, e.g. <shared data>/nq_open/oracle1500.jsonl.gz")
    _check_limit(limit)
    pool: dict[str, Passage] = {}  # id -> passage
    examples: list[QAExample] = []
    with contextlib.closing(read_json_lines(p, example=_NQ_EXAMPLE)) as rows:
        for lineno, row in rows:
            if limit is not None and len(examples) >= limit:
                break
            where = f"{p}:{lineno}"
            answers = _strings(require(row, "answers", list, where, fix=_NQ_FIX), "answers", where)
            context_ids: list[str] = []
            gold_ids: list[str] = []
            for ctx in require(row, "ctxs", list, where, fix=_NQ_FIX):
                if not isinstance(ctx, dict):
                    raise CorpusError(f"{where}: each of 'ctxs' must be an object; {_NQ_FIX}")
                title = require(ctx, "title", str, where, fix=_NQ_FIX)
                text = require(ctx, "text", str, where, fix=_NQ_FIX)
                passage_id = stable_id(title, text, prefix="nq")
                if passage_id not in pool:
                    pool[passage_id] = Passage(id=passage_id, title=title, text=text, metadata={"dataset": "nq_open"})
                context_ids.append(passage_id)
                if ctx.get("isgold") is True:
                    gold_ids.append(passage_id)
            question = require(row, "question", str, where, fix=_NQ_FIX)
            examples.append(
                _example(where, f"nq-{lineno}", question, answers, gold_ids, "nq_open", lineno, context_ids)
            )
    return _finish("nq_open", p, examples, pool.values())


def _finish(name: str, path: os.PathLike[str], examples: list[QAExample], passages: Iterable[Passage]) -> QADataset:
    if not examples:
        raise CorpusError(f"{path} has no questions; is it the right file?")
    dataset = QADataset(name=name, examples=tuple(examples), passages=tuple(passages))
    logger.debug("loaded %r from %s", dataset, path)
    return dataset
