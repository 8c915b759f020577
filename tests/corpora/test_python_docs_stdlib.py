"""python-docs documents the standard library from its own pydoc text, the same on every run."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from corpora import Passage, count_tokens, load_corpus, load_python_docs
from corpora._pydoc_text import module_entries, render_modules
from corpora._python_docs import MODULES, python_docs_fingerprint, python_docs_names
from corpora._registry import shipped_corpus
from corpora.errors import CorpusError

REQUIRED = ("builtins", "os", "os.path", "pathlib", "io", "re", "json", "itertools", "functools", "collections",
            "datetime", "subprocess", "typing", "dataclasses", "asyncio")  # fmt: skip


@pytest.fixture(scope="module")
def by_module() -> dict[str, list[Passage]]:
    grouped: dict[str, list[Passage]] = defaultdict(list)
    for passage in load_python_docs():
        if "module" in passage.metadata:
            grouped[passage.metadata["module"]].append(passage)
    return grouped


def test_every_required_module_is_documented(by_module: dict[str, list[Passage]]) -> None:
    assert set(REQUIRED) <= set(MODULES)
    assert list(by_module) == list(MODULES)
    for module, passages in by_module.items():
        assert [p.id for p in passages] == [f"python-docs:{module}#{i}" for i in range(len(passages))]
        assert [p.metadata["chunk"] for p in passages] == list(range(len(passages)))
        assert passages[0].title.startswith(f"{module} "), passages[0].title  # the NAME line
        assert all(p.metadata["object"] == module or p.metadata["object"].startswith(module + ".") for p in passages)


def test_passages_fit_and_are_titled_by_their_object(by_module: dict[str, list[Passage]]) -> None:
    for passages in by_module.values():
        for passage in passages[1:]:
            assert count_tokens(passage.text) <= 200
            if passage.metadata["object"] != passage.metadata["module"]:
                assert passage.title == passage.metadata["object"]


def test_open_is_documented_in_builtins(by_module: dict[str, list[Passage]]) -> None:
    opens = [p for p in by_module["builtins"] if p.metadata["object"] == "builtins.open"]
    assert opens[0].text.startswith("open(file, mode='r'")
    assert any("'r'       open for reading (default)" in p.text for p in opens)
    # io.open is the same object: documented once, pointed to from io.
    (io_open,) = [p for p in by_module["io"] if p.metadata["object"] == "io.open"]
    assert io_open.text.endswith("The same object as builtins.open; see its documentation.")


def test_the_topics_keep_their_ids(by_module: dict[str, list[Passage]]) -> None:
    ids = {p.id for p in load_python_docs()}
    assert {"python-docs:nonlocal#0", "python-docs:with#0", "python-docs:compound#0"} <= ids
    assert load_corpus("python-docs") is load_python_docs()


def test_nothing_about_this_machine_or_process_is_in_the_text(by_module: dict[str, list[Passage]]) -> None:
    texts = [p.text for passages in by_module.values() for p in passages]
    here = str(Path(os.__file__).parent)
    for text in texts:
        assert "environ({" not in text  # DATA sections show os.environ, secrets included
        assert here not in text  # FILE sections
        assert not re.search(r" at 0x[0-9a-f]+", text)  # object addresses in default values
        assert not re.search(r"^\s*\S.* inherited from \S+:$", text, re.M)
        assert "Built-in subclasses:" not in text  # they depend on what the interpreter imported
        assert "\n |  " not in text and not text.startswith(" |")


def test_a_module_that_cannot_be_imported_is_named() -> None:
    with pytest.raises(CorpusError, match=r"^module 'no_such_module_xyz' cannot be imported \(ModuleNotFoundError"):
        render_modules(["json", "no_such_module_xyz"])


def test_aliases_point_to_the_object_they_name() -> None:
    entries = {e.name: e for e in module_entries("builtins", render_modules(["builtins"])["builtins"], {})}
    assert entries["builtins.IOError"].text == (
        "IOError = class OSError(Exception)\n    The same object as builtins.OSError; see its documentation."
    )
    assert entries["builtins.OSError"].text.startswith("class OSError(Exception)\n    Base class for I/O")


def test_names_cover_keywords_topics_modules_and_objects() -> None:
    names = set(python_docs_names(load_python_docs()))
    assert {"with", "nonlocal", "async", "match", "os.path", "builtins.open", "shutil.which"} <= names


def test_fingerprint_follows_the_python_build_and_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    first = python_docs_fingerprint()
    assert first == python_docs_fingerprint() == shipped_corpus("python-docs").fingerprint()
    assert python_docs_fingerprint(max_tokens=100) != first
    monkeypatch.setattr(sys, "version", sys.version.replace(".", ".9", 1))  # another patch release
    assert python_docs_fingerprint() != first


DIGEST = (
    "import hashlib, json, sys; from corpora import load_python_docs; "
    "print(hashlib.sha256(json.dumps([p.to_dict() for p in load_python_docs()]).encode()).hexdigest())"
)


def test_the_same_python_builds_the_same_corpus() -> None:
    """The fingerprint is computed without building, so the build must not depend on the process.

    This one runs under pytest, which patches sys.unraisablehook and adds logging handlers.
    """
    here = hashlib.sha256(json.dumps([p.to_dict() for p in load_python_docs()]).encode()).hexdigest()
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONHASHSEED": "12345", "COLUMNS": "40", "PYTHONPATH": str(root)}
    other = subprocess.run(
        [sys.executable, "-c", DIGEST], capture_output=True, text=True, check=True, env=env, cwd=root
    ).stdout.strip()
    assert other == here


def test_os_path_is_titled_by_its_name(by_module: dict[str, list[Passage]]) -> None:
    title = by_module["os.path"][0].title
    assert title.startswith("os.path (") and "pathnames" in title, title
