from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import corpora
from corpora import CorpusError, corpus_names, count_tokens, load_corpus, load_python_docs, shared_data_dir

PUBLIC_API = {
    "FOLDER_SUFFIXES",
    "CorpusError",
    "Passage",
    "QADataset",
    "QAExample",
    "ShippedCorpus",
    "check_file",
    "corpus_names",
    "count_tokens",
    "encoding_problem",
    "load_corpus",
    "load_folder",
    "load_hotpotqa",
    "load_jsonl",
    "load_nq",
    "load_python_docs",
    "read_json_lines",
    "shared_data_dir",
    "shipped_corpus",
    "split_text",
    "stable_id",
}


def test_public_api_is_exactly_what_is_documented() -> None:
    assert set(corpora.__all__) == PUBLIC_API
    assert all(hasattr(corpora, name) for name in corpora.__all__)


def test_import_is_cheap_and_imports_nothing_from_upper_layers() -> None:
    code = (
        "import sys, corpora; "
        "print(sorted(m for m in ('tiktoken', 'pydoc_data.topics', 'refine', 'citations') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --- python-docs ---------------------------------------------------------------------------------


def test_python_docs_has_a_passage_about_nonlocal() -> None:
    passages = load_python_docs()
    by_id = {p.id: p for p in passages}
    nonlocal_ = by_id["python-docs:nonlocal#0"]
    assert nonlocal_.title == 'The "nonlocal" statement'
    assert "nonlocal_stmt" in nonlocal_.text
    assert "****" not in nonlocal_.text  # the heading's underline went into the title
    assert dict(nonlocal_.metadata) == {"topic": "nonlocal", "chunk": 0}


def test_python_docs_is_large_unique_and_within_the_limit() -> None:
    passages = load_python_docs()
    assert len(passages) > 300
    assert len({p.id for p in passages}) == len(passages)
    assert all(p.text.strip() and count_tokens(p.text) <= 200 for p in passages)
    assert all(p.title and not p.title.startswith("*") for p in passages)


def test_python_docs_is_cached_per_max_tokens() -> None:
    assert load_python_docs() is load_python_docs()
    assert load_corpus("python-docs") is load_python_docs()
    assert len(load_python_docs(max_tokens=100)) > len(load_python_docs())


# --- load_corpus ---------------------------------------------------------------------------------


def test_corpus_names() -> None:
    assert corpus_names() == ("python-docs",)


def test_load_corpus_from_jsonl_and_folder(tmp_path: Path) -> None:
    (tmp_path / "c.jsonl").write_text(json.dumps({"id": "a", "text": "A."}) + "\n", encoding="utf-8")
    assert [p.id for p in load_corpus(tmp_path / "c.jsonl")] == ["a"]
    assert [p.id for p in load_corpus(str(tmp_path / "c.jsonl"))] == ["a"]
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "x.md").write_text("# X\n\n" + "words " * 300, encoding="utf-8")
    assert len(load_corpus(docs, max_tokens=100)) > len(load_corpus(docs))


def test_load_corpus_unknown_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CorpusError) as info:
        load_corpus("foo")
    assert str(info.value) == (
        "unknown corpus 'foo': not a shipped corpus name (python-docs) and no such file or folder; "
        "pass a corpus name or a path to a .jsonl file or a folder of .txt/.md files"
    )


def test_load_corpus_unsupported_file(tmp_path: Path) -> None:
    (tmp_path / "c.csv").write_text("a,b", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"c\.csv': unsupported file type; pass a \.jsonl or \.jsonl\.gz file"):
        load_corpus(tmp_path / "c.csv")


def test_load_corpus_validates_max_tokens() -> None:
    with pytest.raises(CorpusError, match=r"max_tokens=0 must be >= 16"):
        load_corpus("python-docs", max_tokens=0)


def test_load_corpus_rejects_non_paths() -> None:
    with pytest.raises(CorpusError, match=r"name_or_path=None must be a str or pathlib\.Path"):
        load_corpus(None)  # type: ignore[arg-type]


# --- shared_data_dir -----------------------------------------------------------------------------


def test_shared_data_dir_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFINE_DATA", str(tmp_path))
    assert shared_data_dir() == tmp_path


def test_shared_data_dir_env_must_be_a_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFINE_DATA", str(tmp_path / "missing"))
    with pytest.raises(CorpusError, match=r"REFINE_DATA='.*missing' is not a folder; .* or unset it"):
        shared_data_dir()


def test_shared_data_dir_next_to_the_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REFINE_DATA", raising=False)
    expected = Path(corpora.__file__).resolve().parent.parent.parent / "shared" / "data"
    assert shared_data_dir() == (expected if expected.is_dir() else None)
