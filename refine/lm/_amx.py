"""llama.cpp's AMX weight buffers, kept out of the embedded model's way.

Also run as ``python -m refine.lm._amx ARGS``: ``python -m llama_cpp.server ARGS`` under the same
guard, the OpenAI-compatible server the tests and benchmarks start.
"""

from __future__ import annotations

import contextlib
import runpy
import sys
import threading
from collections.abc import Iterator

import llama_cpp.llama_cpp as llama_api

__all__ = ["without_extra_buffers"]

_LOADING = threading.Lock()


def _has_amx() -> bool:
    return b"AMX_INT8 = 1" in llama_api.llama_print_system_info()


@contextlib.contextmanager
def without_extra_buffers() -> Iterator[None]:
    """Models loaded within keep their weights as the file has them, on a CPU with AMX.

    There llama.cpp moves quantized weights into AMX buffers, and with SmolLM2's Q4_1 weights
    (llama-cpp-python 0.3.36) the first llama_decode then segfaults; elsewhere nothing changes, so
    weight repacking still speeds up the CPUs it helps. llama-cpp-python's Llama takes no option for
    it, so its default model parameters are amended while it loads.
    """
    default = llama_api.llama_model_default_params
    if not _has_amx() or not any(field[0] == "use_extra_bufts" for field in llama_api.llama_model_params._fields_):
        yield
        return

    def plain() -> llama_api.llama_model_params:
        params = default()
        params.use_extra_bufts = False
        return params

    with _LOADING:
        llama_api.llama_model_default_params = plain  # what llama_cpp.Llama calls
        try:
            yield
        finally:
            llama_api.llama_model_default_params = default


if __name__ == "__main__":
    sys.argv[0] = "llama_cpp.server"
    with without_extra_buffers():
        runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
