"""examples/property_test_my_rag.py runs as documented: one property passes, hypothesis breaks the other."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "property_test_my_rag.py"


def test_the_example_passes_one_property_and_breaks_the_other(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "pytest", str(EXAMPLE), "-p", "no:cacheprovider", "-q", "--rootdir", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )
    out = run.stdout
    assert run.returncode == 1, out[-3000:]
    assert "1 failed, 1 passed" in out
    assert "test_house_style_rag_cites_only_the_passages_it_was_given" in out and "PropertyFailed" in out
    assert "cites passages that were not retrieved" in out
    assert "Failing test case" in out and "LM call 1 replied" in out
