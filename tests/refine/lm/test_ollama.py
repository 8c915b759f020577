"""refine.Ollama: pure translation, then the official client against a loopback Ollama server."""

from __future__ import annotations

import json
import threading
import time

import pytest

from refine.constraints import Choice, JsonSchema, Quote, Regex
from refine.errors import LMError, UnsupportedConstraint, UsageError
from refine.lm import (
    BackendError,
    BackendUnavailable,
    LMRequest,
    Message,
    ModelNotServed,
    Ollama,
    RetryPolicy,
)
from refine.lm._ollama import MalformedReply, chat_args, ollama_host, parse_chat

QUESTION = (Message("system", "Answer briefly."), Message("user", "What is the capital of France?"))
SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
FAST = RetryPolicy(attempts=3, base=0.01, max_delay=0.05, jitter=0.0)


# --- pure translation -------------------------------------------------------------------------


def test_chat_args_carry_messages_sampling_and_the_schema_as_format():
    request = LMRequest(QUESTION, JsonSchema.of(SCHEMA), temperature=0.7, max_tokens=64, seed=5, stop=("\n\n",))
    args = chat_args(request, model="llama3.2", options={"num_ctx": 8192}, keep_alive="5m")
    assert args == {
        "model": "llama3.2",
        "messages": [
            {"role": "system", "content": "Answer briefly."},
            {"role": "user", "content": "What is the capital of France?"},
        ],
        "stream": False,
        "options": {"num_ctx": 8192, "temperature": 0.7, "seed": 5, "num_predict": 64, "stop": ["\n\n"]},
        "keep_alive": "5m",
        "format": SCHEMA,
    }
    assert "format" not in chat_args(LMRequest(QUESTION), model="m")


@pytest.mark.parametrize("constraint", [Regex("[0-9]+"), Choice(("yes", "no")), Quote(("Paris is in France.",))])
def test_a_constraint_ollama_cannot_enforce_is_refused_by_name_with_the_alternative(constraint):
    lm = Ollama("llama3.2", host="127.0.0.1:9")
    assert not lm.supports(constraint) and lm.supports(JsonSchema.of(SCHEMA))
    name = type(constraint).__name__
    with pytest.raises(UnsupportedConstraint, match=rf"'ollama:llama3.2@http://127.0.0.1:9' cannot enforce {name}"):
        lm.complete(LMRequest(QUESTION, constraint))
    with pytest.raises(UnsupportedConstraint, match=r"validated after decoding\) or use .*refine.LlamaCpp"):
        lm.complete(LMRequest(QUESTION, constraint))


def test_parse_chat_reads_text_usage_and_finish_reason():
    body = {
        "message": {"role": "assistant", "content": "Paris."},
        "done": True,
        "done_reason": "length",
        "prompt_eval_count": 21,
        "eval_count": 3,
    }
    response = parse_chat(body, name="ollama:m@h", seconds=0.5)
    assert (response.text, response.prompt_tokens, response.completion_tokens) == ("Paris.", 21, 3)
    assert response.finish_reason == "length" and response.model == "ollama:m@h" and response.seconds == 0.5
    cached_prompt = {"message": {"content": "x"}, "done": True, "eval_count": 1}  # prompt_eval_count left out
    assert parse_chat(cached_prompt, name="m", seconds=0).prompt_tokens == 0


@pytest.mark.parametrize(
    "body",
    [[1, 2], {"done": True}, {"message": {"content": 3}}, {"message": {"content": "x"}, "eval_count": "many"}],
    ids=["list", "no-message", "content-not-str", "bad-count"],
)
def test_parse_chat_refuses_a_body_that_is_not_a_chat_reply(body):
    with pytest.raises(MalformedReply):
        parse_chat(body, name="m", seconds=0)


@pytest.mark.parametrize(
    ("host", "url"),
    [
        (None, "http://127.0.0.1:11434"),
        ("gpu-box", "http://gpu-box:11434"),
        ("10.1.2.3:8080", "http://10.1.2.3:8080"),
        ("https://ollama.example.org/", "https://ollama.example.org:443"),
        ("http://[::1]:11434", "http://[::1]:11434"),
    ],
)
def test_ollama_host_is_read_as_ollama_reads_it(host, url, monkeypatch):
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    assert ollama_host(host) == url


def test_constructor_errors_name_the_value_and_the_fix():
    with pytest.raises(UsageError, match=r"model='' must name an Ollama model, e.g. Ollama\('llama3.2'\)"):
        Ollama("")
    with pytest.raises(UsageError, match=r"sets temperature, seed, which each request sets"):
        Ollama("m", options={"temperature": 0.1, "seed": 3})
    with pytest.raises(UsageError, match=r"host='ftp://x' must be an http\(s\) URL"):
        Ollama("m", host="ftp://x")
    with pytest.raises(UsageError, match=r"max_concurrency=0 must be >= 1"):
        Ollama("m", max_concurrency=0)


# --- against the loopback server --------------------------------------------------------------


def test_a_reply_and_its_usage_through_the_official_client(fake_server):
    fake_server.reply = lambda body: _answer('{"answer": "Paris"}', prompt_tokens=7, completion_tokens=6)
    with Ollama("smollm2", host=fake_server.url, options={"num_ctx": 2048}, keep_alive=0) as lm:
        response = lm.complete(LMRequest(QUESTION, JsonSchema.of(SCHEMA), seed=3, max_tokens=20))
    assert response.text == '{"answer": "Paris"}'
    assert (response.prompt_tokens, response.completion_tokens) == (7, 6)
    assert response.model == f"ollama:smollm2@{fake_server.url}"
    path, body = fake_server.requests[0]
    assert path == "/api/chat" and body["stream"] is False and body["format"] == SCHEMA
    assert body["options"] == {"num_ctx": 2048, "temperature": 0.0, "seed": 3, "num_predict": 20}
    assert body["keep_alive"] == 0


def test_the_server_speaks_ollama_to_the_official_client_streaming_and_not(fake_server):
    import ollama

    client = ollama.Client(host=fake_server.url)
    assert [m.model for m in client.list().models] == ["smollm2"]
    assert client.show("smollm2").details.family == "llama"
    streamed = "".join(
        part.message.content for part in client.chat("smollm2", [{"role": "user", "content": "hi"}], stream=True)
    )
    assert streamed == "Paris is the capital of France [1]."
    assert client.generate("smollm2", "hi").response == streamed
    assert "".join(p.response for p in client.generate("smollm2", "hi", stream=True)) == streamed
    client.close()


def test_an_unknown_model_is_its_own_error_naming_the_fix_and_what_the_server_has(fake_server):
    lm = Ollama("llama9", host=fake_server.url, retry=FAST)
    with pytest.raises(
        ModelNotServed, match=r"has no model 'llama9'; it has smollm2; pull it with `ollama pull llama9`"
    ) as info:
        lm.complete(LMRequest(QUESTION))
    assert info.value.available == ("smollm2",) and info.value.host == fake_server.url
    assert [path for path, _ in fake_server.requests] == ["/api/chat", "/api/tags"]  # not retried


def test_connection_refused_is_retried_then_says_to_start_ollama(closed_port):
    lm = Ollama("smollm2", host=f"127.0.0.1:{closed_port}", retry=FAST)
    started = time.monotonic()
    with pytest.raises(BackendUnavailable, match=r"cannot connect to http://127.0.0.1:\d+, after 3 attempts") as info:
        lm.complete(LMRequest(QUESTION))
    assert "`ollama serve`" in str(info.value) and "model 'smollm2'" in str(info.value)
    assert info.value.attempts == 3 and time.monotonic() - started < 2


@pytest.mark.parametrize(
    ("faults", "requests"),
    [(["500"], 2), (["drop", "drop"], 3), (["garbage"], 2), (["wrong-shape", "500"], 3), (["429:0"], 2)],
    ids=["500", "dropped-twice", "garbage-json", "wrong-shape-then-500", "429"],
)
def test_transient_faults_are_retried_and_the_call_then_succeeds(fake_server, faults, requests):
    fake_server.faults = list(faults)
    response = Ollama("smollm2", host=fake_server.url, retry=FAST).complete(LMRequest(QUESTION))
    assert response.text == "Paris is the capital of France [1]."
    assert len(fake_server.requests) == requests


def test_faults_that_persist_raise_one_typed_error_after_bounded_backoff(fake_server):
    fake_server.faults = ["500"] * 4
    policy = RetryPolicy(attempts=4, base=0.05, max_delay=0.1, jitter=0.0)
    started = time.monotonic()
    with pytest.raises(BackendUnavailable, match=r"HTTP 500: out of memory, after 4 attempts") as info:
        Ollama("smollm2", host=fake_server.url, retry=policy).complete(LMRequest(QUESTION))
    elapsed = time.monotonic() - started
    assert len(fake_server.requests) == 4 and info.value.status == 500
    assert 0.05 + 0.1 + 0.1 <= elapsed < 2  # the three waits, 0.05 then capped at 0.1
    assert isinstance(info.value, LMError) and isinstance(info.value, BackendError)


def test_a_garbage_body_is_never_a_crash(fake_server):
    fake_server.faults = ["garbage"] * 3
    with pytest.raises(
        BackendUnavailable, match=r"not an Ollama chat reply .*check that http://127.0.0.1:\d+ is an Ollama server"
    ):
        Ollama("smollm2", host=fake_server.url, retry=FAST).complete(LMRequest(QUESTION))


def test_a_timeout_is_retried_and_says_which_timeout(fake_server):
    fake_server.faults = ["delay:0.6", "delay:0.6"]
    lm = Ollama("smollm2", host=fake_server.url, timeout=0.2, retry=RetryPolicy(attempts=2, base=0.01, jitter=0.0))
    with pytest.raises(
        BackendUnavailable, match=r"no reply within timeout=0.2s, after 2 attempts.*pass a larger timeout="
    ):
        lm.complete(LMRequest(QUESTION))
    fake_server.faults = ["delay:0.3"]
    slow_but_in_time = Ollama("smollm2", host=fake_server.url, timeout=2.0)
    assert slow_but_in_time.complete(LMRequest(QUESTION)).text.startswith("Paris")


def test_a_reply_that_breaks_the_schema_it_was_given_is_an_error_not_a_reply(fake_server):
    fake_server.reply = lambda body: _answer("not json")
    with pytest.raises(BackendError, match="breaks the JSON schema it was given"):
        Ollama("smollm2", host=fake_server.url).complete(LMRequest(QUESTION, JsonSchema.of(SCHEMA)))


def _answer(text, prompt_tokens=1, completion_tokens=1):
    from types import SimpleNamespace

    return SimpleNamespace(
        text=text, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens, finish_reason="stop"
    )


def test_max_concurrency_bounds_requests_in_flight_across_threads(fake_server):
    fake_server.faults = ["delay:0.1"] * 12
    lm = Ollama("smollm2", host=fake_server.url, max_concurrency=2)
    threads = [threading.Thread(target=lm.complete, args=(LMRequest(QUESTION),)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(fake_server.requests) == 8 and fake_server.most_active == 2


@pytest.mark.model
def test_format_is_honoured_with_a_real_json_schema_grammar(model_server):
    """The loopback server backed by the embedded model: ``format`` becomes a grammar, as in Ollama."""
    fake_server = model_server
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string", "enum": ["Paris", "Lyon"]}, "sure": {"type": "boolean"}},
        "required": ["city", "sure"],
        "additionalProperties": False,
    }
    lm = Ollama("smollm2", host=fake_server.url)
    for seed in range(3):
        response = lm.complete(LMRequest(QUESTION, JsonSchema.of(schema), temperature=0.8, seed=seed, max_tokens=48))
        reply = json.loads(response.text)
        assert set(reply) == {"city", "sure"} and reply["city"] in ("Paris", "Lyon") and isinstance(reply["sure"], bool)
        assert response.prompt_tokens > 10 and response.completion_tokens > 3


@pytest.mark.model
def test_a_cited_answer_through_ollama_format_has_valid_citations(model_server):
    import citations
    from corpora import Passage
    from refine.signatures import cited_answer_constraint, render_cited

    fake_server = model_server
    passages = [
        Passage.create("Cats", "Cats purr when they are content."),
        Passage.create("Dogs", "Dogs bark at strangers."),
        Passage.create("Owls", "Owls hunt at night."),
    ]
    numbered = "\n".join(f"[{i}] {p.text}" for i, p in enumerate(passages, 1))
    lm = Ollama("smollm2", host=fake_server.url)
    for question in ("Why do cats purr?", "When do owls hunt?", "What do dogs do?"):
        messages = (Message("user", f"Passages:\n{numbered}\n\nQuestion: {question}"),)
        response = lm.complete(LMRequest(messages, cited_answer_constraint(3), max_tokens=512))
        report = citations.check(render_cited(response.text), passages)
        assert report.valid and not report.uncited, response.text


@pytest.mark.model
def test_cited_rag_through_ollama_keeps_the_citation_guarantee_end_to_end(model_server):
    """CitedRAG on Ollama: Predict lowers CitedQA to a JSON schema, the server decodes under it, and
    every answer comes back as [n] prose whose citations name retrieved passages, in one call."""
    import corpora
    from refine import BM25Retriever, CitedRAG

    retriever = BM25Retriever.build(corpora.load_corpus("python-docs"))
    rag = CitedRAG(retriever, lm=Ollama("smollm2", host=model_server.url))
    questions = ("What does the yield statement do?", "How do I open a file?", "What is a lambda expression?")
    for question in questions:
        result = rag(question=question)
        assert result.valid and result.ok and not result.report.invalid and not result.report.uncited, result.answer
        assert result.usage.calls == 1
    (path, body) = model_server.requests[-1]
    assert path == "/api/chat" and body["format"]["properties"]["answer"]["properties"]["sentences"]
