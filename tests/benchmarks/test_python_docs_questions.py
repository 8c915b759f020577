"""benchmarks/python_docs.py without the model: its question file, target checks and a retrieval-only run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import corpora
from benchmarks import python_docs
from benchmarks.python_docs import QUESTIONS, CorpusNames, QuestionFileError, load_questions, target_rank
from corpora import Passage


@pytest.fixture(scope="module")
def names() -> CorpusNames:
    return CorpusNames.of(corpora.load_python_docs())


def write(path: Path, records: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_sixty_unique_questions_whose_targets_are_in_the_corpus(names: CorpusNames) -> None:
    questions = load_questions(QUESTIONS, names)
    assert len(questions) == 60
    assert len({q.question for q in questions}) == 60
    kinds = [names.kind(q.target) for q in questions]
    assert None not in kinds
    assert kinds.count("topic") == 30  # half the language reference, half the library


def test_an_unknown_target_is_an_error_naming_it(tmp_path: Path, names: CorpusNames) -> None:
    path = write(tmp_path / "q.jsonl", [{"question": "How do I read a JSON file?", "target": "jsno"}])
    with pytest.raises(QuestionFileError, match=r"q\.jsonl:1: target 'jsno' is not in the python-docs corpus"):
        load_questions(path, names)
    path = write(tmp_path / "q.jsonl", [{"question": "What does nonlocal do?", "target": "python-docs:nonlocl"}])
    with pytest.raises(QuestionFileError, match="'python-docs:nonlocl'"):
        load_questions(path, names)


def test_a_repeated_question_and_a_malformed_line_are_errors(tmp_path: Path, names: CorpusNames) -> None:
    record = {"question": "What does the with statement do?", "target": "python-docs:with"}
    with pytest.raises(QuestionFileError, match=r"q\.jsonl:2 repeats the question .* of line 1"):
        load_questions(write(tmp_path / "q.jsonl", [record, record]), names)
    with pytest.raises(QuestionFileError, match="exactly 'question' and 'target'"):
        load_questions(write(tmp_path / "q.jsonl", [{"question": "What is None?"}]), names)


def test_on_a_corpus_without_modules_module_targets_are_misses(tmp_path: Path) -> None:
    topics_only = CorpusNames(topics=frozenset({"with"}), modules=frozenset(), objects=frozenset())
    path = write(
        tmp_path / "q.jsonl",
        [
            {"question": "What does the with statement do?", "target": "python-docs:with"},
            {"question": "How do I read a JSON file?", "target": "json"},
        ],
    )
    questions = load_questions(path, topics_only)
    assert [q.target for q in questions] == ["python-docs:with", "json"]
    topic = Passage(id="python-docs:with#3", title="with", text="The with statement.", metadata={"topic": "with"})
    assert target_rank("json", [topic]) is None
    assert target_rank("python-docs:with", [topic]) == 1
    assert target_rank("python-docs:wit", [topic]) is None


def test_targets_hit_by_module_or_object() -> None:
    opened = Passage(
        id="python-docs:builtins#90",
        title="builtins.open",
        text="Open file.",
        metadata={"module": "builtins", "object": "builtins.open"},
    )
    assert target_rank("builtins.open", [opened]) == 1
    assert target_rank("builtins", [opened]) == 1
    assert target_rank("builtins.len", [opened]) is None


def test_retrieval_only_on_three_questions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], names: CorpusNames
) -> None:
    out = tmp_path / "rows.jsonl"
    argv = ["--retrieval-only", "--n", "3", "--label", "test", "--out", str(out)]
    assert python_docs.main(argv) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["question"] for r in rows] == [q.question for q in load_questions(QUESTIONS, names)][:3]
    assert all(len(r["retrieved"]) == 5 and "answer" not in r for r in rows)
    assert "test" in capsys.readouterr().out
    assert python_docs.main(argv) == 0  # resumed: nothing redone
    assert len(out.read_text().splitlines()) == 3
