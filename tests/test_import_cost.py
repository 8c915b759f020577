"""`import refine` stays light (issue 17): the heavy packages load only where they are used.

Each check runs a fresh interpreter, since this test session has imported all of them already.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import refine

HEAVY = (
    "bm25s",
    "numpy",
    "scipy",
    "rich",
    "guidance",
    "llama_cpp",
    "hypothesis",
    "httpx",
    "ollama",
    "tiktoken",
)


def _loaded_after(code: str) -> list[str]:
    """The modules a fresh interpreter has loaded after running ``code``, importing this refine."""
    root = str(Path(refine.__file__).resolve().parents[1])
    path = os.pathsep.join([root, *filter(None, [os.environ.get("PYTHONPATH")])])
    env = {**os.environ, "PYTHONPATH": path}
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env)
    return json.loads(result.stdout.splitlines()[-1])


def _heavy(modules: list[str]) -> list[str]:
    return [name for name in HEAVY if any(m == name or m.startswith(name + ".") for m in modules)]


@pytest.mark.parametrize("module", ["refine", "refine.cli", "refine.retrieval", "citations", "corpora"])
def test_import_loads_no_heavy_package(module: str) -> None:
    assert _heavy(_loaded_after(f"import {module}")) == []


def test_the_subprocess_imports_this_refine() -> None:
    loaded = _loaded_after(f"import refine\nassert refine.__file__ == {refine.__file__!r}, refine.__file__")
    assert "refine" in loaded


def test_the_retriever_loads_bm25s_when_first_asked_for() -> None:
    # The check above would pass vacuously if the heavy names never loaded; they do, on use.
    loaded = _loaded_after("from refine import BM25Retriever")
    assert {"bm25s", "numpy", "scipy"} <= set(_heavy(loaded))


def test_import_refine_loads_refine_alone() -> None:
    # Every public name is imported from its module on first use (PEP 562): `import refine` loads
    # no module of this project but the package itself, and no pydantic.
    loaded = _loaded_after("import refine")
    ours = [m for m in loaded if m.split(".")[0] in ("refine", "citations", "corpora")]
    assert ours == ["refine"] and "pydantic" not in loaded


def test_each_name_loads_its_own_module_on_first_use() -> None:
    loaded = _loaded_after("import refine\nrefine.Message")
    assert "refine.lm._types" in loaded and "refine.rag" not in loaded and "refine.optimizers" not in loaded
    # The retriever is the one exported name that stands on heavy packages, and rich is not one.
    assert _heavy(_loaded_after("from refine import *")) == ["bm25s", "numpy", "scipy"]
