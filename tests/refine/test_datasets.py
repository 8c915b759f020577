from __future__ import annotations

import json
from pathlib import Path

import pytest

import corpora
from refine import UsageError
from refine.errors import CorpusError
from refine.evaluation._datasets import Dataset, load_dataset, load_hotpotqa, load_jsonl, load_nq, sniff_format
from refine.example import Example

ORIGINAL = [
    {
        "_id": "h1",
        "question": "Which city is the capital of the country where the Seine flows?",
        "answer": "Paris",
        "type": "bridge",
        "context": [
            ["Seine", ["The Seine is a river in France.", " It flows through Paris."]],
            ["France", ["France's capital is Paris."]],
            ["Rhine", ["The Rhine flows through Germany."]],
        ],
        "supporting_facts": [["Seine", 0], ["France", 0], ["France", 0]],
    },
    {
        "_id": "h2",
        "question": "Where does the Rhine flow?",
        "answer": "Germany",
        "context": [["Rhine", ["The Rhine flows through Germany."]], ["Seine", ["Other text."]]],
        "supporting_facts": [["Rhine", 0]],
    },
]


def _ircot(row: dict) -> dict:
    gold = {title for title, _ in row["supporting_facts"]}
    return {
        "question_id": row["_id"],
        "question_text": row["question"],
        "answers_objects": [{"spans": [row["answer"]]}],
        "contexts": [
            {"id": str(i), "title": t, "paragraph_text": "".join(s), "is_supporting": t in gold}
            for i, (t, s) in enumerate(row["context"])
        ],
    }


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


@pytest.fixture
def original(tmp_path: Path) -> Path:
    return _write_jsonl(tmp_path / "hotpot_original.jsonl", ORIGINAL)


def test_original_hotpotqa_rows(original):
    data = load_hotpotqa(original)
    assert isinstance(data, Dataset) and len(data) == 2
    first = data.examples[0]
    assert first == Example(
        id="h1",
        question=ORIGINAL[0]["question"],
        answers=("Paris",),
        gold_ids=first.gold_ids,
        context_ids=first.context_ids,
    ).with_inputs("question")
    titles = {p.id: p.title for p in data.passages}
    assert [titles[i] for i in first.gold_ids] == ["Seine", "France"]  # in order, once each
    assert sorted(titles.values()) == ["France", "Rhine", "Seine"]  # pooled by title
    seine = next(p for p in data.passages if p.title == "Seine")
    assert seine.text == "The Seine is a river in France. It flows through Paris."  # the first text is kept


def test_both_hotpotqa_formats_give_the_same_examples_and_passages(original, tmp_path):
    ircot = _write_jsonl(tmp_path / "ircot.jsonl", [_ircot(row) for row in ORIGINAL])
    a, b = load_hotpotqa(original), load_hotpotqa(ircot)
    assert a.examples == b.examples
    assert {p.id: p.text for p in a.passages} == {p.id: p.text for p in b.passages}


def test_original_hotpotqa_as_a_json_list(tmp_path):
    path = tmp_path / "hotpot_dev_distractor_v1.json"
    path.write_text(json.dumps(ORIGINAL))
    assert [e.id for e in load_dataset(path, limit=1).examples] == ["h1"]


def test_original_hotpotqa_mistakes_name_the_row(tmp_path):
    bad = [dict(ORIGINAL[0], supporting_facts=[["Nowhere", 0]])]
    with pytest.raises(CorpusError, match=r":1: supporting fact title 'Nowhere' is not in the row's context"):
        load_hotpotqa(_write_jsonl(tmp_path / "a.jsonl", bad))
    bad = [dict(ORIGINAL[0], context=[["Seine", "not a list"]])]
    with pytest.raises(CorpusError, match=r"each context entry must be \[title, \[sentences\]\]"):
        load_hotpotqa(_write_jsonl(tmp_path / "b.jsonl", bad))
    with pytest.raises(UsageError, match="limit=0 must be >= 1"):
        load_hotpotqa(tmp_path / "a.jsonl", limit=0)


def test_any_jsonl(tmp_path):
    rows = [
        {"id": 1, "question": "Q1?", "answers": ["a"], "topic": "x"},
        {"id": "two", "question": "Q2?", "answer": "b"},
    ]
    data = load_jsonl(_write_jsonl(tmp_path / "qa.jsonl", rows))
    assert [e.id for e in data.examples] == ["1", "two"]
    assert dict(data.examples[0].labels) == {"answers": ("a",), "topic": "x"}
    assert data.passages == ()
    numbered = _write_jsonl(tmp_path / "n.jsonl", [{"question": "Q1?", "topic": "x"}])
    numbered_data = load_jsonl(numbered, id_key=None, inputs=("question", "topic"), limit=1)
    assert numbered_data.examples[0].id == "line-1"
    assert numbered_data.examples[0].input_keys == ("question", "topic")
    with pytest.raises(UsageError, match=r"qa.jsonl:1: Example value 'id'=1 clashes with Example.id"):
        load_jsonl(tmp_path / "qa.jsonl", id_key=None)


def test_jsonl_with_passages_pools_them(tmp_path):
    rows = [
        {"id": "a", "question": "Q?", "docs": [{"id": "d1", "title": "T", "text": "one"}, {"text": "two"}]},
        {"id": "b", "question": "R?", "docs": [{"id": "d1", "title": "T", "text": "one"}]},
    ]
    data = load_jsonl(_write_jsonl(tmp_path / "qa.jsonl", rows), passages_key="docs")
    assert len(data.passages) == 2
    assert data.examples[1].context_ids == ("d1",) and "docs" not in data.examples[0]


@pytest.mark.parametrize(
    ("rows", "options", "message"),
    [
        ([{"question": "Q?"}], {}, r"qa.jsonl:1: no 'id' key \(keys: question\); name the id key with id_key=..."),
        ([{"id": "a", "q": "Q?"}], {}, r"no input 'question' \(keys: id, q\); name the input keys with inputs"),
        ([{"id": "a", "question": "Q"}, {"id": "a", "question": "R"}], {}, r":2: id 'a' also on line 1"),
        ([{"id": True, "question": "Q"}], {}, r"id id=True must be a non-empty str or an int"),
        ([{"id": "a", "question": "Q", "inputs": 1}], {}, r"qa.jsonl:1: Example value 'inputs' clashes"),
        ([{"id": "a", "question": "Q"}], {"inputs": "question"}, r"inputs='question' must name one key or more"),
    ],
)
def test_jsonl_mistakes(tmp_path, rows, options, message):
    with pytest.raises(UsageError, match=message):
        load_jsonl(_write_jsonl(tmp_path / "qa.jsonl", rows), **options)


def test_format_is_told_from_the_first_row(original, tmp_path):
    assert sniff_format(original) == "hotpotqa"
    assert sniff_format(_write_jsonl(tmp_path / "i.jsonl", [_ircot(ORIGINAL[0])])) == "hotpotqa"
    nq = _write_jsonl(tmp_path / "nq.jsonl", [{"question": "q", "answers": ["a"], "ctxs": []}])
    assert sniff_format(nq) == "nq"
    assert sniff_format(_write_jsonl(tmp_path / "x.jsonl", [{"id": "1", "question": "q"}])) == "jsonl"
    with pytest.raises(UsageError, match="format='csv' must be one of hotpotqa, nq, jsonl"):
        load_dataset(original, format="csv")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="no such file"):
        load_dataset(tmp_path / "missing.jsonl")


def test_dataset_values():
    example = Example(question="q", id="1").with_inputs("question")
    data = Dataset("d", [example], [])
    assert repr(data) == "Dataset(name='d', examples=1, passages=0)"
    assert data.with_examples([]).examples == ()
    with pytest.raises(UsageError, match=r"Dataset examples\[0\]='q' must be a refine.Example"):
        Dataset("d", ["q"], [])  # type: ignore[list-item]


@pytest.fixture(scope="module")
def shared_data() -> Path:
    path = corpora.shared_data_dir()
    if path is None:
        pytest.skip("no shared data folder: set REFINE_DATA or run from a checkout next to ../shared/data")
    return path


@pytest.mark.data
def test_real_hotpotqa(shared_data):
    data = load_dataset(shared_data / "hotpotqa" / "dev397.jsonl", limit=5)
    ids = {p.id for p in data.passages}
    assert data.name == "hotpotqa" and len(data.examples) == 5
    for example in data.examples:
        assert example.input_keys == ("question",) and example.answers and len(example.gold_ids) == 2
        assert set(example.gold_ids) <= set(example.context_ids) <= ids


@pytest.mark.data
def test_real_nq(shared_data):
    data = load_nq(shared_data / "nq_open" / "oracle1500.jsonl.gz", limit=5)
    assert [e.id for e in data.examples] == [f"nq-{n}" for n in range(1, 6)]
    assert all(set(e.gold_ids) <= {p.id for p in data.passages} for e in data.examples)
