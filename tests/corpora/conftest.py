"""Fixtures for the corpora tests: the shared data folder, skipped cleanly when absent."""

from __future__ import annotations

from pathlib import Path

import pytest

import corpora


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (or ``$REFINE_DATA``); the test is skipped when there is none."""
    path = corpora.shared_data_dir()
    if path is None:
        pytest.skip("no shared data folder: set REFINE_DATA or run from a checkout next to ../shared/data")
    return path
