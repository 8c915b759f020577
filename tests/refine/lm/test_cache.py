"""The response cache: keys, hits and misses, sampled requests, corruption, threads and processes."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import threading

import pytest

from refine.constraints import Choice, JsonSchema
from refine.errors import UsageError
from refine.lm import CachedLM, CacheWarning, LMRequest, LMResponse, Message, Ollama, ResponseCache, ScriptedLM
from refine.lm._cache import decode_response, encode_response, request_key

QUESTION = (Message("user", "What is the capital of France?"),)


class Counting:
    """A backend whose reply names the request and counts the calls (optionally claiming seeded sampling)."""

    def __init__(self, *, seeded: bool = False, identity: str = "counting") -> None:
        self.calls = 0
        self._seeded = seeded
        self._identity = identity
        self._lock = threading.Lock()

    name = "counting"

    @property
    def cache_identity(self) -> str:
        return self._identity

    @property
    def seeded(self) -> bool:
        return self._seeded

    def supports(self, constraint):
        return True

    def complete(self, request: LMRequest) -> LMResponse:
        with self._lock:
            self.calls += 1
        text = f"{request.messages[-1].content} / seed {request.seed}"
        return LMResponse(text=text, prompt_tokens=5, completion_tokens=3, seconds=0.1, model="counting")

    def close(self) -> None:
        pass


def test_the_key_is_a_canonical_hash_of_the_whole_request():
    base = LMRequest(QUESTION, Choice(("a", "b")), temperature=0.0, max_tokens=10, seed=1)
    assert request_key("x", base) == request_key("x", LMRequest(QUESTION, Choice(("a", "b")), max_tokens=10, seed=1))
    variants = [
        base.with_constraint(Choice(("a", "c"))),
        base.with_constraint(None),
        base.with_sampling(temperature=0.5, seed=1),
        base.with_sampling(temperature=0.0, seed=2),
        base.with_messages(Message("assistant", "a", generated=True)),
        LMRequest(QUESTION, Choice(("a", "b")), max_tokens=11, seed=1),
        LMRequest(QUESTION, Choice(("a", "b")), max_tokens=10, seed=1, stop=("\n",)),
    ]
    keys = {request_key("x", request) for request in variants} | {request_key("y", base), request_key("x", base)}
    assert len(keys) == len(variants) + 2


def test_a_second_call_is_a_hit_counted_as_such(tmp_path):
    backend = Counting()
    lm = CachedLM(backend, tmp_path / "cache.sqlite")
    first = lm.complete(LMRequest(QUESTION))
    second = lm.complete(LMRequest(QUESTION))
    assert (first.cache, second.cache) == ("miss", "hit") and backend.calls == 1
    assert second.text == first.text and second.prompt_tokens == 5 and second.seconds < 0.1
    assert lm.name == "counting" and lm.supports(Choice(("a",)))
    lm.close()
    reopened = CachedLM(Counting(), tmp_path / "cache.sqlite")
    assert reopened.complete(LMRequest(QUESTION)).cache == "hit"  # on disk, across opens


def test_sampled_requests_bypass_the_cache_unless_the_backend_reproduces_their_seed(tmp_path):
    sampled = LMRequest(QUESTION, temperature=0.9, seed=4)
    unseeded = Counting()
    lm = CachedLM(unseeded, tmp_path / "a.sqlite")
    assert [lm.complete(sampled).cache for _ in range(2)] == [None, None] and unseeded.calls == 2
    seeded = Counting(seeded=True)
    lm = CachedLM(seeded, tmp_path / "b.sqlite")
    assert [lm.complete(sampled).cache for _ in range(2)] == ["miss", "hit"] and seeded.calls == 1
    assert lm.complete(sampled.with_sampling(temperature=0.9, seed=5)).cache == "miss"  # a fresh sample


def test_refresh_goes_to_the_backend_and_replaces_the_stored_reply(tmp_path):
    path = tmp_path / "cache.sqlite"
    CachedLM(Counting(), path).complete(LMRequest(QUESTION))
    backend = Counting()
    assert CachedLM(backend, path, refresh=True).complete(LMRequest(QUESTION)).cache == "miss" and backend.calls == 1


def test_backends_take_cache_directly(tmp_path, fake_server):
    lm = Ollama("smollm2", host=fake_server.url, cache=tmp_path / "c.sqlite")
    assert [lm.complete(LMRequest(QUESTION)).cache for _ in range(3)] == ["miss", "hit", "hit"]
    assert len(fake_server.requests) == 1
    other = Ollama("smollm2", host=fake_server.url, options={"num_ctx": 1024}, cache=tmp_path / "c.sqlite")
    assert other.complete(LMRequest(QUESTION)).cache == "miss"  # other options, other replies


def test_responses_round_trip_and_bad_rows_are_refused():
    response = LMResponse("Paris [1].", 10, 3, 0.2, "m", finish_reason="length", cached_tokens=4)
    assert decode_response(encode_response(response)) == response
    for bad in ('{"text": 1}', "[]", '{"text": "x", "prompt_tokens": "many"}'):
        with pytest.raises(ValueError):
            decode_response(bad)


def test_a_corrupt_file_is_moved_aside_and_recreated_with_a_warning(tmp_path):
    path = tmp_path / "cache.sqlite"
    path.write_bytes(b"this is no database" * 100)
    with pytest.warns(CacheWarning, match=r"cache.sqlite' is not a refine response cache .*moved it to .*corrupt-"):
        lm = CachedLM(Counting(), path)
    assert lm.complete(LMRequest(QUESTION)).cache == "miss"
    assert [p.name for p in tmp_path.glob("cache.sqlite.corrupt-*")]


def test_a_foreign_database_is_set_aside_too(tmp_path):
    path = tmp_path / "cache.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE other(x)")
    connection.close()
    with pytest.warns(CacheWarning, match="is not a refine response cache"):
        ResponseCache(path).close()


def test_a_damaged_row_is_dropped_with_a_warning_and_fetched_again(tmp_path):
    path = tmp_path / "cache.sqlite"
    backend = Counting()
    lm = CachedLM(backend, path)
    lm.complete(LMRequest(QUESTION))
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE responses SET response = replace(response, 'seed', 'SEED')")
    connection.close()
    with pytest.warns(CacheWarning, match="dropped a damaged entry"):
        again = lm.complete(LMRequest(QUESTION))
    assert again.cache == "miss" and backend.calls == 2 and "seed" in again.text


def test_a_newer_format_is_refused_rather_than_destroyed(tmp_path):
    path = tmp_path / "cache.sqlite"
    ResponseCache(path).close()
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE meta SET value = '9' WHERE key = 'format'")
    connection.close()
    with pytest.raises(UsageError, match="has format 9, newer than this refine reads"):
        ResponseCache(path)
    with pytest.raises(UsageError, match="is a folder; pass a file path"):
        ResponseCache(tmp_path)


def test_scripted_lm_behind_a_cache(tmp_path):
    lm = CachedLM(ScriptedLM(["yes"]), tmp_path / "s.sqlite")
    assert lm.complete(LMRequest(QUESTION, Choice(("yes", "no")))).text == "yes"
    assert lm.complete(LMRequest(QUESTION, Choice(("yes", "no")))).text == "yes"  # the script has one reply


_WORKER = textwrap.dedent(
    """
    import sys, threading
    from refine.lm import CachedLM, LMRequest, LMResponse, Message

    class Echo:
        name = "echo"
        def supports(self, constraint): return True
        def complete(self, request):
            return LMResponse(request.messages[0].content.upper(), 1, 1, 0.0, "echo")
        def close(self): pass

    lm = CachedLM(Echo(), sys.argv[1])
    worker = sys.argv[2]
    def hammer(thread):
        for i in range(60):
            key = f"question {i % 40}"  # shared keys across threads and processes, and own ones
            for text in (key, f"{worker}-{thread}-{i}"):
                response = lm.complete(LMRequest((Message("user", text),)))
                assert response.text == text.upper(), response
    threads = [threading.Thread(target=hammer, args=(t,)) for t in range(8)]
    for t in threads: t.start()
    for t in threads: t.join()
    print("ok")
    """
)


def test_eight_threads_in_each_of_two_processes_lose_and_corrupt_nothing(tmp_path):
    path = tmp_path / "shared.sqlite"
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(path), name], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for name in ("a", "b")
    ]
    for worker in workers:
        out, err = worker.communicate(timeout=240)
        assert worker.returncode == 0 and out.strip() == b"ok", err.decode()[-2000:]
    cache = ResponseCache(path)
    assert len(cache) == 40 + 2 * 8 * 60  # every write kept
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    connection.close()
    for i in range(40):
        stored = cache.get(request_key("echo", LMRequest((Message("user", f"question {i}"),))))
        assert stored is not None and stored.text == f"QUESTION {i}"
    cache.close()


def test_json_schema_constraints_key_by_their_canonical_text():
    one = JsonSchema.of({"b": 1, "a": 2})
    two = JsonSchema.of({"a": 2, "b": 1})
    assert request_key("x", LMRequest(QUESTION, one)) == request_key("x", LMRequest(QUESTION, two))
