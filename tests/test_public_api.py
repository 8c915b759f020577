"""The public API of ``refine`` is exactly the 83 names it had before the package layout of issue 28,
each still importable, and the one list of where each lives agrees with ``__all__`` and with the
imports a type checker reads."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import refine

NAMES = [
    "Assert",
    "AssertionFailed",
    "Attempt",
    "BM25Retriever",
    "BackendError",
    "BackendUnavailable",
    "BestOfN",
    "BootstrapFewShot",
    "CacheWarning",
    "CachedLM",
    "Candidate",
    "Check",
    "Choice",
    "Citations",
    "CitedAnswer",
    "CitedQA",
    "CitedRAG",
    "CompileReport",
    "Compiled",
    "Constraint",
    "ContextOverflow",
    "Dataset",
    "Demo",
    "DemoTrimWarning",
    "EvalReport",
    "EvalRow",
    "EvaluationInterrupted",
    "Example",
    "ExampleOutcome",
    "FieldSpec",
    "Hit",
    "IndexCorrupt",
    "InputField",
    "JsonSchema",
    "LM",
    "LMError",
    "LMRequest",
    "LMResponse",
    "LabeledFewShot",
    "LlamaCpp",
    "Message",
    "ModelNotFound",
    "ModelNotServed",
    "Module",
    "Ollama",
    "OneOf",
    "OpenAICompatible",
    "OutputField",
    "ParseError",
    "Predict",
    "Prediction",
    "ProgramFileError",
    "Quote",
    "RandomSearch",
    "Refine",
    "RefineError",
    "Regex",
    "RepairDemo",
    "ResponseCache",
    "RetryPolicy",
    "RuntimeFailure",
    "ScriptedLM",
    "Seq",
    "Signature",
    "SignatureError",
    "SpanRAG",
    "Step",
    "Substring",
    "Suggest",
    "UnsupportedConstraint",
    "Usage",
    "UsageError",
    "Violation",
    "check",
    "checks",
    "evaluate",
    "from_spec",
    "lm_judge",
    "load_dataset",
    "load_program",
    "metrics",
    "save_program",
    "using",
]


def test_the_public_api_is_the_83_names_of_before():
    assert len(NAMES) == 83 and sorted(refine.__all__) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_each_name_imports(name: str) -> None:
    assert getattr(refine, name) is not None
    exec(f"from refine import {name}", {})


def test_the_lists_of_exports_agree():
    source = Path(refine.__file__).read_text()
    tree = ast.parse(source)
    checked: set[str] = set()
    for node in ast.walk(tree):
        test = ast.unparse(node.test) if isinstance(node, ast.If) else ""
        if "TYPE_CHECKING" in test and "not" not in test:
            for statement in node.body:
                assert isinstance(statement, ast.ImportFrom)
                for alias in statement.names:
                    module = statement.module
                    if module == "refine":
                        assert alias.name in refine._SUBMODULES, alias.name
                    else:
                        assert refine._HOME[alias.name] == module, (alias.name, module)
                    checked.add(alias.name)
    assert checked == set(refine.__all__)
    assert set(refine._HOME) | set(refine._SUBMODULES) == set(refine.__all__) | {"retrieval"}


@pytest.mark.parametrize("module", sorted({*refine._EXPORTS, "refine.checks", "refine.metrics", "refine.retrieval"}))
def test_each_home_is_a_public_module_with_all(module: str) -> None:
    imported = importlib.import_module(module)
    assert all(not part.startswith("_") for part in module.split(".")), module
    assert hasattr(imported, "__all__"), module
    for name in refine._EXPORTS.get(module, ()):
        assert name in imported.__all__, (module, name)
