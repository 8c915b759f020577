"""On a CPU with AMX the embedded model loads without llama.cpp's extra weight buffers (a segfault otherwise)."""

from __future__ import annotations

import pytest

pytest.importorskip("llama_cpp")

import llama_cpp.llama_cpp as llama_api

from refine.lm import _amx


@pytest.mark.parametrize("amx", [True, False])
def test_extra_buffers_are_off_while_a_model_loads_on_a_cpu_with_amx(monkeypatch, amx):
    monkeypatch.setattr(_amx, "_has_amx", lambda: amx)
    default = llama_api.llama_model_default_params
    with _amx.without_extra_buffers():
        assert llama_api.llama_model_default_params().use_extra_bufts is (not amx)
    assert llama_api.llama_model_default_params is default and default().use_extra_bufts is True
