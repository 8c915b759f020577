from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from corpora import CorpusError, Passage, count_tokens, load_folder, load_jsonl, stable_id


def _write_jsonl(path: Path, rows: list[object]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


# --- load_jsonl ---------------------------------------------------------------------------------


def test_jsonl_reads_passages_with_optional_keys(tmp_path: Path) -> None:
    path = _write_jsonl(
        tmp_path / "c.jsonl",
        [
            {"id": "a", "title": "Alpha", "text": "First.", "metadata": {"k": [1]}},
            {"text": "No id or title."},
        ],
    )
    first, second = load_jsonl(path)
    assert first == Passage(id="a", title="Alpha", text="First.")
    assert dict(first.metadata) == {"k": [1]}
    assert second.id == stable_id("", "No id or title.")
    assert second.title == ""


def test_jsonl_accepts_str_paths_blank_lines_and_null_optionals(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text('\n{"text": "x", "id": null, "metadata": null}\n\n', encoding="utf-8")
    (passage,) = load_jsonl(str(path))
    assert passage.text == "x"


def test_jsonl_gz(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write(json.dumps({"id": "z", "text": "zipped"}) + "\n")
    assert load_jsonl(path) == (Passage(id="z", title="", text="zipped"),)


def test_jsonl_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match=r"^no such file: '.*nope\.jsonl' .*; pass a \.jsonl or \.jsonl\.gz file"):
        load_jsonl(tmp_path / "nope.jsonl")


def test_jsonl_given_a_folder(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match=r"is a folder, not a file; pass a \.jsonl"):
        load_jsonl(tmp_path)


def test_jsonl_bad_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text('{"text": "ok"}\n{"text": oops}\n', encoding="utf-8")
    with pytest.raises(CorpusError, match=r"c\.jsonl:2: bad JSON \(Expecting value at column 10\); each line must be"):
        load_jsonl(path)


def test_jsonl_line_not_an_object(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "c.jsonl", [["text"]])
    with pytest.raises(CorpusError, match=r"c\.jsonl:1: expected a JSON object, got list"):
        load_jsonl(path)


def test_jsonl_missing_text_names_the_line_and_keys(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "c.jsonl", [{"text": "ok"}, {"id": "b", "body": "..."}])
    with pytest.raises(
        CorpusError, match=r"c\.jsonl:2: missing 'text' key \(keys: body, id\); each line needs a 'text' string"
    ):
        load_jsonl(path)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"text": 5}, r"'text' must be a str, got 5"),
        ({"text": None}, r"'text' must be a str, got None"),
        ({"text": "x", "title": None}, r"'title' must be a str, got None"),
        ({"text": "x", "id": 7}, r"'id' must be a str, got 7"),
        ({"text": "x", "metadata": [1]}, r"'metadata' must be a dict, got \[1\]"),
        ({"text": "  "}, r"'text' is blank; drop the line or give it some text"),
    ],
)
def test_jsonl_wrong_types(tmp_path: Path, row: dict[str, object], message: str) -> None:
    path = _write_jsonl(tmp_path / "c.jsonl", [row])
    with pytest.raises(CorpusError, match=r"c\.jsonl:1: " + message):
        load_jsonl(path)


def test_jsonl_duplicate_ids(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "c.jsonl", [{"id": "a", "text": "1"}, {"text": "2"}, {"id": "a", "text": "3"}])
    with pytest.raises(
        CorpusError, match=r"c\.jsonl:3: duplicate passage id 'a' \(first on line 1\); give each line a distinct 'id'"
    ):
        load_jsonl(path)


def test_jsonl_duplicate_content_without_ids(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "c.jsonl", [{"text": "same"}, {"text": "same"}])
    with pytest.raises(CorpusError, match=r"c\.jsonl:2: duplicate passage id 'p[0-9a-f]{12}' \(first on line 1\)"):
        load_jsonl(path)


def test_jsonl_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text("\n\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"c\.jsonl has no passages; add lines like"):
        load_jsonl(path)


def test_jsonl_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_bytes(b'{"text": "ok"}\n{"text": "\xff"}\n')
    with pytest.raises(CorpusError, match=r"c\.jsonl:\d+: not UTF-8 text .*save the file as UTF-8"):
        load_jsonl(path)


def test_jsonl_lone_surrogate_escape_names_the_line(tmp_path: Path) -> None:
    # JSON's "\udcff" escape decodes to a str that cannot be encoded: refused where it comes in.
    path = tmp_path / "c.jsonl"
    path.write_text('{"text": "ok"}\n{"title": "x", "text": "bad \\udcff here"}\n')
    with pytest.raises(CorpusError, match=r"c\.jsonl:2: Passage text='bad \\udcff here' holds the byte\(s\) b'\\xff'"):
        load_jsonl(path)


@pytest.mark.parametrize("text", ["a\udcff b", "x\ud800"])
def test_a_passage_holds_text_that_can_be_encoded(text: str) -> None:
    with pytest.raises(CorpusError, match=r"holds .* at character 1; pass text decoded from UTF-8"):
        Passage.create("t", text)
    assert Passage.create("t", "caf\u00e9 \U0001f600").text == "caf\u00e9 \U0001f600"


def test_jsonl_gz_that_is_not_gzip(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl.gz"
    path.write_text('{"text": "plain"}\n', encoding="utf-8")
    with pytest.raises(CorpusError, match=r"not a valid gzip file .*rename it without the \.gz suffix"):
        load_jsonl(path)


# --- load_folder --------------------------------------------------------------------------------


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    root = tmp_path / "notes"
    (root / "sub").mkdir(parents=True)
    (root / "b.txt").write_text("Plain text file.\n", encoding="utf-8")
    (root / "sub" / "a.md").write_text("Intro line.\n\n## Setup guide ##\n\nRun it.\n", encoding="utf-8")
    (root / "a.md").write_text("# Top title\n\nBody.\n", encoding="utf-8")
    (root / "skip.rst").write_text("ignored", encoding="utf-8")
    (root / ".hidden").mkdir()
    (root / ".hidden" / "x.md").write_text("hidden", encoding="utf-8")
    (root / "empty.txt").write_text("  \n", encoding="utf-8")
    return root


def test_folder_reads_txt_and_md_recursively_in_sorted_order(notes: Path) -> None:
    passages = load_folder(notes)
    assert [p.id for p in passages] == ["a.md#0", "b.txt#0", "sub/a.md#0"]
    assert [p.title for p in passages] == ["Top title", "b", "Setup guide"]
    assert passages[0].text == "# Top title\n\nBody."
    assert dict(passages[2].metadata) == {"source": "sub/a.md", "chunk": 0}


def test_folder_splits_long_files_with_stable_ids(tmp_path: Path) -> None:
    text = "\n\n".join(f"Paragraph {i} " + "lorem ipsum " * 20 for i in range(10))
    (tmp_path / "long.md").write_text(text, encoding="utf-8")
    passages = load_folder(tmp_path, max_tokens=64)
    assert len(passages) > 3
    assert [p.id for p in passages] == [f"long.md#{i}" for i in range(len(passages))]
    assert [p.metadata["chunk"] for p in passages] == list(range(len(passages)))
    assert all(count_tokens(p.text) <= 64 for p in passages)
    assert load_folder(tmp_path, max_tokens=64) == passages


def test_folder_missing(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match=r"^no such folder: '.*missing' .*; pass a folder of \.txt/\.md files"):
        load_folder(tmp_path / "missing")


def test_folder_given_a_file(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("x", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"f\.txt' is a file, not a folder; pass a folder"):
        load_folder(tmp_path / "f.txt")


def test_folder_without_text_files(tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_text("a,b", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"no \.txt or \.md files in folder '.*'; add some, or pass a \.jsonl file"):
        load_folder(tmp_path)


def test_folder_with_only_empty_files(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"the 1 \.txt/\.md files in '.*' are all empty"):
        load_folder(tmp_path)


def test_folder_file_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "bad.txt").write_bytes(b"caf\xe9")
    with pytest.raises(CorpusError, match=r"bad\.txt' is not UTF-8 text .*; save it as UTF-8"):
        load_folder(tmp_path)


def test_folder_validates_max_tokens(notes: Path) -> None:
    with pytest.raises(CorpusError, match=r"max_tokens=8 must be >= 16"):
        load_folder(notes, max_tokens=8)


def test_path_must_be_a_path(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match=r"path=42 must be a str or pathlib\.Path, got int"):
        load_folder(42)  # type: ignore[arg-type]
