"""refine.OpenAICompatible: pure translation, faults on loopback, and llama-cpp-python's real server."""

from __future__ import annotations

import json
import time

import httpx
import pytest

import citations
import corpora
from refine.constraints import Choice, JsonSchema
from refine.errors import UnsupportedConstraint, UsageError
from refine.lm import (
    BackendError,
    BackendUnavailable,
    LMRequest,
    Message,
    ModelNotServed,
    OpenAICompatible,
    RetryPolicy,
)
from refine.lm._openai import (
    MalformedReply,
    base_url_of,
    chat_payload,
    detect_flavour,
    error_message,
    parse_completion,
)
from refine.lm._retry import backoff, retry_after_seconds
from refine.signatures import cited_answer_constraint, render_cited

QUESTION = (Message("system", "Answer briefly."), Message("user", "What is the capital of France?"))
SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
FAST = RetryPolicy(attempts=3, base=0.01, max_delay=0.05, jitter=0.0)


# --- pure translation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flavour", "response_format"),
    [
        ("llama-cpp", {"type": "json_object", "schema": SCHEMA}),
        ("vllm", {"type": "json_schema", "json_schema": {"name": "reply", "schema": SCHEMA, "strict": True}}),
        ("openai", {"type": "json_schema", "json_schema": {"name": "reply", "schema": SCHEMA, "strict": True}}),
    ],
)
def test_the_payload_puts_the_schema_where_each_flavour_enforces_it(flavour, response_format):
    request = LMRequest(QUESTION, JsonSchema.of(SCHEMA), temperature=0.5, max_tokens=32, seed=9, stop=("\n",))
    assert chat_payload(request, model="m", flavour=flavour) == {
        "model": "m",
        "messages": [
            {"role": "system", "content": "Answer briefly."},
            {"role": "user", "content": "What is the capital of France?"},
        ],
        "max_tokens": 32,
        "temperature": 0.5,
        "seed": 9,
        "stream": False,
        "stop": ["\n"],
        "response_format": response_format,
    }


def test_a_plain_server_enforces_nothing_and_says_so_with_the_alternative():
    lm = OpenAICompatible("http://127.0.0.1:9/v1", "m", flavour="plain")
    assert not lm.supports(JsonSchema.of(SCHEMA))
    with pytest.raises(
        UnsupportedConstraint,
        match=r"cannot enforce JsonSchema .* or use a backend that enforces it: refine.LlamaCpp, refine.Ollama",
    ):
        lm.complete(LMRequest(QUESTION, JsonSchema.of(SCHEMA)))
    with pytest.raises(UnsupportedConstraint, match="cannot enforce Choice"):
        chat_payload(LMRequest(QUESTION, Choice(("a", "b"))), model="m", flavour="vllm")


def test_parse_completion_reads_text_usage_cached_tokens_and_finish_reason():
    body = {
        "choices": [{"message": {"role": "assistant", "content": "Paris."}, "finish_reason": "length"}],
        "usage": {"prompt_tokens": 30, "completion_tokens": 2, "prompt_tokens_details": {"cached_tokens": 24}},
    }
    response = parse_completion(body, name="openai:m@u", seconds=0.25)
    assert (response.text, response.prompt_tokens, response.completion_tokens, response.cached_tokens) == (
        "Paris.",
        30,
        2,
        24,
    )
    assert response.finish_reason == "length" and response.model == "openai:m@u"


@pytest.mark.parametrize(
    "body",
    [
        None,
        {"choices": []},
        {"choices": [{"message": {"content": None}}]},
        {"choices": [{"message": {"content": "x"}}], "usage": 3},
    ],
    ids=["null", "no-choices", "null-content", "usage-not-object"],
)
def test_parse_completion_refuses_what_is_not_a_completion(body):
    with pytest.raises(MalformedReply):
        parse_completion(body, name="m", seconds=0)


@pytest.mark.parametrize(
    ("models", "flavour"),
    [
        ({"data": [{"id": "smollm2", "owned_by": "me"}]}, "llama-cpp"),
        ({"data": [{"id": "Qwen/Qwen2.5-7B", "owned_by": "vllm"}]}, "vllm"),
        ({"data": [{"id": "gpt-4o", "owned_by": "system"}]}, "openai"),
        ({"data": [{"id": "x", "owned_by": "someone"}]}, "plain"),
        ("garbage", "plain"),
    ],
)
def test_detect_flavour_from_the_model_list(models, flavour):
    assert detect_flavour(models) == flavour


def test_urls_error_bodies_and_retry_after_are_read_leniently():
    assert base_url_of("http://127.0.0.1:8000") == "http://127.0.0.1:8000/v1"
    assert base_url_of("http://127.0.0.1:8000/v1/") == "http://127.0.0.1:8000/v1"
    with pytest.raises(UsageError, match=r"base_url='127.0.0.1:8000' must be an http\(s\) URL"):
        base_url_of("127.0.0.1:8000")
    assert error_message('{"error": {"message": "bad schema"}}') == "bad schema"
    assert error_message('{"error": "busy"}') == "busy"
    assert error_message("<html>502</html>") == "<html>502</html>"
    assert retry_after_seconds("3", now=0) == 3.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412475.0) == 5.0
    assert retry_after_seconds("soon", now=0) is None


def test_backoff_is_exponential_bounded_jittered_and_respects_retry_after():
    policy = RetryPolicy(attempts=6, base=0.5, max_delay=4.0, jitter=0.5)
    assert [backoff(policy, n, retry_after=None, draw=0.0) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, None]
    assert backoff(policy, 1, retry_after=None, draw=0.999) == pytest.approx(0.25, abs=1e-3)
    assert backoff(policy, 1, retry_after=3.0, draw=0.0) == 3.0
    assert backoff(policy, 1, retry_after=60.0, draw=0.0) is None  # longer than we wait: stop now


def test_mock_transport_seam_429_with_retry_after_is_waited_for():
    calls: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(time.monotonic())
        if len(calls) == 1:
            return httpx.Response(429, json={"error": {"message": "slow down"}}, headers={"Retry-After": "0.2"})
        return httpx.Response(200, json={"choices": [{"message": {"content": "ok"}}], "usage": {}})

    policy = RetryPolicy(attempts=2, base=0.01, max_delay=1.0)
    lm = OpenAICompatible("http://x/v1", "m", flavour="vllm", retry=policy, transport=httpx.MockTransport(handler))
    assert lm.complete(LMRequest(QUESTION)).text == "ok"
    assert len(calls) == 2 and calls[1] - calls[0] >= 0.2


# --- faults against the loopback server -------------------------------------------------------


def test_flavour_auto_asks_the_server_once(fake_server):
    lm = OpenAICompatible(fake_server.url, "smollm2")
    fake_server.reply = lambda body: _answer('{"answer": "Paris"}')
    for _ in range(2):
        assert json.loads(lm.complete(LMRequest(QUESTION, JsonSchema.of(SCHEMA))).text) == {"answer": "Paris"}
    assert lm.flavour == "llama-cpp"
    assert [path for path, _ in fake_server.requests] == ["/v1/models", "/v1/chat/completions", "/v1/chat/completions"]
    assert fake_server.requests[1][1]["response_format"] == {"type": "json_object", "schema": SCHEMA}


def test_an_unknown_model_says_where_the_list_is(fake_server):
    lm = OpenAICompatible(fake_server.url, "gpt-9", flavour="vllm", retry=FAST)
    with pytest.raises(
        ModelNotServed, match=r"does not serve model 'gpt-9' .*GET http://127.0.0.1:\d+/v1/models lists"
    ):
        lm.complete(LMRequest(QUESTION))
    assert len(fake_server.requests) == 1


@pytest.mark.parametrize("faults", [["500"], ["drop"], ["garbage"], ["wrong-shape"], ["429:0.05"], ["500", "drop"]])
def test_transient_faults_are_retried(fake_server, faults):
    fake_server.faults = list(faults)
    lm = OpenAICompatible(fake_server.url, "smollm2", flavour="llama-cpp", retry=FAST)
    assert lm.complete(LMRequest(QUESTION)).text == "Paris is the capital of France [1]."
    assert len(fake_server.requests) == len(faults) + 1


def test_persistent_faults_and_refused_connections_end_in_one_typed_error(fake_server, closed_port):
    fake_server.faults = ["garbage"] * 3
    lm = OpenAICompatible(fake_server.url, "smollm2", flavour="llama-cpp", retry=FAST)
    with pytest.raises(
        BackendUnavailable,
        match=r"the reply is not JSON .*after 3 attempts.*check that http://127.0.0.1:\d+/v1 is the API root",
    ):
        lm.complete(LMRequest(QUESTION))
    refused = OpenAICompatible(f"http://127.0.0.1:{closed_port}/v1", "m", flavour="vllm", retry=FAST)
    with pytest.raises(
        BackendUnavailable, match=r"cannot connect to http://127.0.0.1:\d+/v1 .*start the server"
    ) as info:
        refused.complete(LMRequest(QUESTION))
    assert info.value.attempts == 3 and info.value.model == "m"


def test_a_timeout_names_the_timeout(fake_server):
    fake_server.faults = ["delay:0.5"] * 2
    lm = OpenAICompatible(
        fake_server.url, "smollm2", flavour="llama-cpp", timeout=0.1, retry=RetryPolicy(attempts=2, base=0.01)
    )
    with pytest.raises(BackendUnavailable, match=r"no reply within timeout=0.1s, after 2 attempts"):
        lm.complete(LMRequest(QUESTION))


def test_a_bad_key_is_not_retried():
    lm = OpenAICompatible(
        "http://x/v1", "m", api_key="k", flavour="openai",
        transport=httpx.MockTransport(lambda r: httpx.Response(401, json={"error": {"message": "bad key"}})),
    )  # fmt: skip
    with pytest.raises(BackendError, match=r"HTTP 401: bad key; pass a valid api_key="):
        lm.complete(LMRequest(QUESTION))


def test_a_server_that_ignores_the_schema_is_caught_not_believed(fake_server):
    fake_server.reply = lambda body: _answer("Paris, I think")
    lm = OpenAICompatible(fake_server.url, "smollm2", flavour="vllm")
    with pytest.raises(BackendError, match=r"breaks the JSON schema it was asked to enforce.*flavour='plain'"):
        lm.complete(LMRequest(QUESTION, JsonSchema.of(SCHEMA)))


def _answer(text):
    from types import SimpleNamespace

    return SimpleNamespace(text=text, prompt_tokens=1, completion_tokens=1, finish_reason="stop")


# --- llama-cpp-python's real server on the embedded model -------------------------------------


@pytest.mark.model
def test_the_real_server_enforces_the_schema_seed_and_stop(llama_server):
    lm = OpenAICompatible(llama_server, "smollm2")
    assert lm.flavour == "llama-cpp" and lm.supports(JsonSchema.of(SCHEMA))
    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string", "enum": ["Paris", "Lyon"]},
            "n": {"type": "integer", "enum": [1, 2, 3]},
        },
        "required": ["city", "n"],
        "additionalProperties": False,
    }
    for seed in range(5):
        request = LMRequest(QUESTION, JsonSchema.of(schema), temperature=1.0, seed=seed, max_tokens=40)
        reply = json.loads(lm.complete(request).text)
        assert set(reply) == {"city", "n"} and reply["city"] in ("Paris", "Lyon") and reply["n"] in (1, 2, 3)
    sampled = LMRequest(QUESTION, temperature=1.0, seed=11, max_tokens=24)
    assert lm.complete(sampled).text == lm.complete(sampled).text
    stopped = lm.complete(LMRequest(QUESTION, max_tokens=40, stop=(" ",)))
    assert " " not in stopped.text.strip() and stopped.prompt_tokens > 10


@pytest.mark.model
def test_cited_answers_through_the_real_server_have_valid_citations_on_20_questions(llama_server):
    from refine.retrieval import BM25Retriever

    retriever = BM25Retriever.build(corpora.load_corpus("python-docs"))
    questions = [
        "What does the yield statement do?", "How do I open a file?", "What is a lambda expression?",
        "What does the nonlocal statement do?", "How do I catch an exception?", "What is a generator?",
        "What does the with statement do?", "How are default argument values evaluated?", "What is a decorator?",
        "What does the global statement do?", "How does the for statement work?", "What is a list comprehension?",
        "What does the assert statement do?", "What is the difference between is and ==?",
        "How do I raise an exception?",
        "What does the del statement do?", "What is a class?", "How does the import statement find modules?",
        "What does the pass statement do?", "What is an f-string?",
    ]  # fmt: skip
    lm = OpenAICompatible(llama_server, "smollm2", flavour="llama-cpp")
    for question in questions:
        passages = [hit.passage for hit in retriever.search(question, k=3)]
        numbered = "\n\n".join(f"[{i}] {p.title}\n{p.text[:400]}" for i, p in enumerate(passages, 1))
        messages = (
            Message("system", "Answer from the passages. Give each sentence and the numbers of the passages it uses."),
            Message("user", f"Passages:\n{numbered}\n\nQuestion: {question}"),
        )
        constraint = cited_answer_constraint(len(passages), per="sentence")
        response = lm.complete(LMRequest(messages, constraint, max_tokens=512))
        assert response.finish_reason == "stop", response.text
        answer = render_cited(response.text)
        report = citations.check(answer, passages)
        assert report.valid and not report.uncited and not report.invalid, (question, answer)


@pytest.mark.model
def test_cited_rag_through_the_real_server_keeps_the_citation_guarantee_end_to_end(llama_server):
    """CitedRAG on OpenAICompatible: CitedQA lowered to a JSON schema, enforced by llama-cpp-python's
    server, rendered back into [n] prose; every answer cites only retrieved passages, in one call."""
    from refine import CitedRAG, Predict
    from refine.rag import CitedQA
    from refine.retrieval import BM25Retriever

    retriever = BM25Retriever.build(corpora.load_corpus("python-docs"))
    lm = OpenAICompatible(llama_server, "smollm2")
    rag = CitedRAG(retriever, lm=lm)
    for question in ("What does the with statement do?", "What is a decorator?", "How do I raise an exception?"):
        result = rag(question=question)
        assert result.valid and result.ok and not result.report.invalid and not result.report.uncited, result.answer
        assert result.usage.calls == 1
    passages = [hit.passage for hit in retriever.search("What is a generator?", k=3)]
    prediction = Predict(CitedQA, lm=lm)(passages=passages, question="What is a generator?")
    report = citations.check(prediction.answer, passages)
    assert prediction.ok and report.valid and not report.uncited, prediction.answer
    assert json.loads(prediction.attempts[0].request.constraint.schema)["properties"]["answer"]["type"] == "object"
