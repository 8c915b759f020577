"""Every Python example in the README runs, and the public API is what the README and __all__ say."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def _needs_model(code: str) -> bool:
    return "LlamaCpp(" in code


@pytest.mark.parametrize(
    "code",
    [pytest.param(code, marks=[pytest.mark.model] if _needs_model(code) else []) for code in BLOCKS],
    ids=[f"block{i}" for i in range(len(BLOCKS))],
)
def test_readme_example_runs(code, request):
    if _needs_model(code):
        request.getfixturevalue("embedded_lm")  # skips (or fails on CI) without the model
    # A name that is not a file: tools that read source (hypothesis does) must not read README.md
    # at the wrong lines.
    exec(compile(code, "<README example>", "exec", dont_inherit=True), {"__name__": "readme"})


def test_readme_has_examples():
    assert len(BLOCKS) >= 4


def test_public_api_is_explicit():
    import citations
    import corpora
    import refine

    for module in (refine, citations, corpora):
        exported = set(module.__all__)
        # A name imported on first use (refine.BM25Retriever) is in dir() but not yet in vars().
        public = {name for name in {*vars(module), *dir(module)} if not name.startswith("_")}
        missing = {name for name in exported if not hasattr(module, name)}
        assert not missing, f"{module.__name__}.__all__ names {missing} that do not exist"
        unlisted = exported - set(dir(module))
        assert not unlisted, f"dir({module.__name__}) leaves out {unlisted}"
        undeclared = public - exported - {"annotations", "errors", "lm", "retrieval"} - _submodules(module)
        assert not undeclared, f"{module.__name__} exposes {undeclared} without listing it in __all__"


def _submodules(module) -> set[str]:
    import types

    return {name for name, value in vars(module).items() if isinstance(value, types.ModuleType)}
