"""What a refactor must not change: a program file written by an earlier refine still loads, and
the prompts and response-cache keys of a call are the same, byte for byte.

The fixtures were written by refine at dc6c09a (before the package layout of issue 28): a
CitedRAG with a repair demo and a plain demo, saved; and the request its predictor sends to a
grammar backend and to a JSON-schema backend, with the cache key of each.
"""

from __future__ import annotations

import json
from pathlib import Path

from corpora import Passage
from refine import CitedRAG, Demo, JsonSchema, RepairDemo, ScriptedLM
from refine.lm import LMRequest
from refine.lm._cache import request_key

FIXTURES = Path(__file__).parent / "fixtures"
PASSAGES = [
    Passage.create("Cats", "Cats purr when they are content."),
    Passage.create("Dogs", "Dogs bark at strangers."),
]


def _request(request: LMRequest) -> dict[str, object]:
    return {
        "messages": [[m.role, m.content] for m in request.messages],
        "constraint": repr(request.constraint),
        "temperature": request.temperature,
        "max_tokens": request.max_tokens,
        "seed": request.seed,
        "stop": list(request.stop) if request.stop else None,
    }


def test_a_program_file_of_an_earlier_refine_loads():
    loaded = CitedRAG().load(FIXTURES / "program-dc6c09a.json")
    (name, predict), = loaded.named_predictors()
    assert name == "predict" and [type(d) for d in predict.demos] == [RepairDemo, Demo]
    assert predict.demos[0].reply == "Dogs bark [3]." and predict.demos[1].values["passages"] == [PASSAGES[0]]


def test_prompts_and_cache_keys_are_unchanged():
    pinned = json.loads((FIXTURES / "prompts-dc6c09a.json").read_text())
    program = CitedRAG().load(FIXTURES / "program-dc6c09a.json")
    grammar = ScriptedLM(["Cats purr when they are content [1]."])
    program(question="Why do cats purr?", passages=PASSAGES, lm=grammar)
    reply = {"answer": {"sentences": [{"sentence": "Cats purr when content", "citations": [1]}]}}
    schema = ScriptedLM([json.dumps(reply)], supports=(JsonSchema,))
    program(question="Why do cats purr?", passages=PASSAGES, lm=schema)
    for key, lm, backend in (("grammar", grammar, "llamacpp:test"), ("json", schema, "ollama:test")):
        request = lm.requests[0]
        assert _request(request) == pinned[key]["request"], key
        assert request_key(backend, request) == pinned[key]["cache_key"], key
