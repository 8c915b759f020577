from __future__ import annotations

import dataclasses
import gzip
import json
from pathlib import Path

import pytest

from corpora import CorpusError, Passage, QADataset, QAExample, load_hotpotqa, load_nq


def _ctx(title: str, text: str, supporting: bool = False) -> dict[str, object]:
    return {"id": "0", "title": title, "paragraph_text": text, "is_supporting": supporting}


def _hotpot_row(qid: str, contexts: list[dict[str, object]], answers: tuple[str, ...] = ("yes",)) -> dict[str, object]:
    return {
        "question_id": qid,
        "question_text": f"Question {qid}? ",
        "answers_objects": [{"number": "", "spans": list(answers)}],
        "contexts": contexts,
    }


def _write(path: Path, rows: list[object]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


@pytest.fixture
def hotpot(tmp_path: Path) -> Path:
    return _write(
        tmp_path / "hotpot.jsonl",
        [
            _hotpot_row("q1", [_ctx("A", "About A.", True), _ctx("B", "About B.", True), _ctx("C", "About C.")]),
            _hotpot_row("q2", [_ctx("C", "About C.", True), _ctx("D", "About D.", True)], answers=("no", "no ")),
            _hotpot_row("q3", [_ctx("E", "About E.", True), _ctx("A", "About A.", True)]),
        ],
    )


def test_hotpotqa_pools_paragraphs_by_title(hotpot: Path) -> None:
    data = load_hotpotqa(hotpot)
    assert data.name == "hotpotqa"
    assert [p.title for p in data.passages] == ["A", "B", "C", "D", "E"]
    ids = {p.title: p.id for p in data.passages}
    q1, q2, q3 = data.examples
    assert q1.id == "q1"
    assert q1.question == "Question q1?"
    assert q1.gold_ids == (ids["A"], ids["B"])
    assert q1.metadata["context_ids"] == [ids["A"], ids["B"], ids["C"]]
    assert q2.answers == ("no",)
    assert q3.gold_ids == (ids["E"], ids["A"])


def test_hotpotqa_ids_depend_only_on_the_title(hotpot: Path, tmp_path: Path) -> None:
    other = _write(tmp_path / "other.jsonl", [_hotpot_row("x", [_ctx("A", "About A.", True)])])
    assert load_hotpotqa(other).passages[0].id == load_hotpotqa(hotpot).passages[0].id


def test_hotpotqa_limit_keeps_only_loaded_rows_passages(hotpot: Path) -> None:
    data = load_hotpotqa(hotpot, limit=1)
    assert [e.id for e in data.examples] == ["q1"]
    assert [p.title for p in data.passages] == ["A", "B", "C"]


@pytest.mark.parametrize("limit", [0, -1, True, 1.5, "2"])
def test_limit_is_validated(hotpot: Path, limit: object) -> None:
    with pytest.raises(CorpusError, match=r"^limit=.* must be None \(all questions\) or an int >= 1$"):
        load_hotpotqa(hotpot, limit=limit)  # type: ignore[arg-type]


def test_hotpotqa_missing_key_names_line_and_format(tmp_path: Path) -> None:
    row = _hotpot_row("q1", [_ctx("A", "a", True)])
    del row["contexts"]
    path = _write(tmp_path / "h.jsonl", [_hotpot_row("q0", []), row])
    with pytest.raises(
        CorpusError,
        match=r"h\.jsonl:2: missing 'contexts' key \(keys: answers_objects, question_id, question_text\); "
        r"load_hotpotqa expects IRCoT-style HotpotQA rows",
    ):
        load_hotpotqa(path)


def test_hotpotqa_wrong_type(tmp_path: Path) -> None:
    path = _write(tmp_path / "h.jsonl", [_hotpot_row("q1", [{**_ctx("A", "a"), "is_supporting": "yes"}])])
    with pytest.raises(CorpusError, match=r"h\.jsonl:1: 'is_supporting' must be a bool, got 'yes'"):
        load_hotpotqa(path)


def test_hotpotqa_blank_question_names_line(tmp_path: Path) -> None:
    row = {**_hotpot_row("q1", []), "question_text": "  "}
    path = _write(tmp_path / "h.jsonl", [row])
    with pytest.raises(CorpusError, match=r"h\.jsonl:1: QAExample question='' must be a non-empty str"):
        load_hotpotqa(path)


def test_hotpotqa_duplicate_question_ids(tmp_path: Path) -> None:
    path = _write(tmp_path / "h.jsonl", [_hotpot_row("q1", []), _hotpot_row("q1", [])])
    with pytest.raises(CorpusError, match=r"hotpotqa: question id 'q1' occurs twice"):
        load_hotpotqa(path)


def test_hotpotqa_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match=r"no such file: .*; pass a HotpotQA \.jsonl \(or \.json\) file"):
        load_hotpotqa(tmp_path / "dev.jsonl")


def test_empty_dataset_file(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    path.write_text("", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"h\.jsonl has no questions; is it the right file\?"):
        load_hotpotqa(path)


def test_nq_pools_contexts_by_title_and_text(tmp_path: Path) -> None:
    gold = {"title": "T", "text": "Gold text.", "hasanswer": True, "isgold": True}
    other = {"title": "T", "text": "Other text.", "hasanswer": False, "isgold": False}
    rows = [
        {"question": "who? ", "answers": ["Ann", "Ann"], "ctxs": [gold, other]},
        {"question": "what?", "answers": ["Bob"], "ctxs": [other]},
    ]
    path = tmp_path / "nq.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.writelines(json.dumps(row) + "\n" for row in rows)
    data = load_nq(path)
    assert data.name == "nq_open"
    assert [p.text for p in data.passages] == ["Gold text.", "Other text."]
    first, second = data.examples
    assert (first.id, first.question, first.answers) == ("nq-1", "who?", ("Ann",))
    assert first.gold_ids == (data.passages[0].id,)
    assert second.gold_ids == ()
    assert load_nq(path, limit=1).examples == (first,)


def test_nq_missing_key(tmp_path: Path) -> None:
    path = _write(tmp_path / "nq.jsonl", [{"question": "q", "answers": ["a"]}])
    with pytest.raises(CorpusError, match=r"nq\.jsonl:1: missing 'ctxs' key .*load_nq expects NQ-open rows"):
        load_nq(path)


def test_qa_values_are_frozen_and_validated() -> None:
    passage = Passage(id="p1", title="T", text="x")
    example = QAExample(id="q", question="Why?", answers=["because"], gold_ids=["p1"])  # type: ignore[arg-type]
    assert example.answers == ("because",)
    with pytest.raises(dataclasses.FrozenInstanceError):
        example.question = "other"  # type: ignore[misc]
    data = QADataset(name="tiny", examples=(example,), passages=(passage,))
    assert repr(data) == "QADataset(name='tiny', examples=1, passages=1)"
    with pytest.raises(CorpusError, match=r"tiny: question 'q' has gold ids \['p1'\] that are not among the 0"):
        QADataset(name="tiny", examples=(example,), passages=())
    with pytest.raises(CorpusError, match=r"QAExample 'q' answers='yes' must be a list or tuple of str"):
        QAExample(id="q", question="Why?", answers="yes", gold_ids=())  # type: ignore[arg-type]


# --- the real files ------------------------------------------------------------------------------


@pytest.mark.data
def test_real_hotpotqa(shared_data: Path) -> None:
    data = load_hotpotqa(shared_data / "hotpotqa" / "dev397.jsonl")
    ids = {p.id for p in data.passages}
    assert len(data.examples) == 397
    assert len(ids) == len(data.passages) == len({p.title for p in data.passages})
    assert 3500 < len(data.passages) < 4000
    for example in data.examples:
        assert len(example.gold_ids) == 2
        assert set(example.gold_ids) <= ids
        assert set(example.gold_ids) <= set(example.metadata["context_ids"])
        assert example.answers and example.question


@pytest.mark.data
def test_real_hotpotqa_limit(shared_data: Path) -> None:
    data = load_hotpotqa(shared_data / "hotpotqa" / "dev397.jsonl", limit=5)
    assert len(data.examples) == 5
    assert {p.id for p in data.passages} == {i for e in data.examples for i in e.metadata["context_ids"]}


@pytest.mark.data
def test_real_nq(shared_data: Path) -> None:
    data = load_nq(shared_data / "nq_open" / "oracle1500.jsonl.gz")
    ids = {p.id for p in data.passages}
    assert len(data.examples) == 1500
    assert len(ids) == len(data.passages) == 1481  # some questions share a gold passage
    assert all(len(e.gold_ids) == 1 and e.gold_ids[0] in ids and e.answers for e in data.examples)
    assert load_nq(shared_data / "nq_open" / "oracle1500.jsonl.gz", limit=10).examples == data.examples[:10]
