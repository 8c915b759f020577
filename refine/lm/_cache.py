"""A response cache on disk: ``CachedLM(lm, path)``, or ``cache=path`` on a backend.

The file is SQLite in WAL mode, so many threads and processes read and write it at once. A
request's key is a SHA-256 of its canonical JSON: the backend (its name and settings), the
messages, the constraint, the sampling (temperature, seed, max_tokens, stop). Each stored
response carries a digest of its own bytes; a row that does not match it is dropped, and a file
that is not a readable cache of this format is moved aside (``<name>.corrupt-<time>``) and made
anew, with a :class:`CacheWarning`. A sampled request (temperature > 0) is served from the cache
only when the backend reproduces a sample from its seed (the ``seeded`` column of
:mod:`refine.lm._support`); otherwise it goes to the backend every time, as does every request
when ``refresh=True`` (whose replies then replace the stored ones).

Layout (format 1)::

    meta(key TEXT PRIMARY KEY, value TEXT)          -- ('format', '1'), ('created_by', 'refine')
    responses(key TEXT PRIMARY KEY, backend TEXT, response TEXT, digest TEXT, created REAL)
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import logging
import sqlite3
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from refine._options import check_bool
from refine.constraints import Constraint
from refine.errors import UsageError
from refine.lm._types import Closing, LMRequest, LMResponse

__all__ = [
    "CACHE_FORMAT",
    "CacheAware",
    "CacheWarning",
    "CachedLM",
    "ResponseCache",
    "cached_complete",
    "decode_response",
    "encode_response",
    "open_cache",
    "request_key",
]

logger = logging.getLogger(__name__)
CACHE_FORMAT = 1
_BUSY_MS = 60_000  # how long a writer waits for another one, in milliseconds


class CacheWarning(UserWarning):
    """A damaged cache file (or row) was found and set aside; the cache goes on without it."""


@runtime_checkable
class CacheAware(Protocol):
    """What a backend may tell the cache: settings that change its replies, and whether a seed reproduces a sample."""

    @property
    def cache_identity(self) -> str: ...

    @property
    def seeded(self) -> bool: ...


def _canonical(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: _canonical(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"kind": type(value).__name__, **fields}
    if isinstance(value, tuple | list):
        return [_canonical(item) for item in value]
    return value


def request_key(backend: str, request: LMRequest) -> str:
    """The cache key of ``request`` sent to ``backend`` (its identity): a hex SHA-256 of canonical JSON."""
    constraint: Constraint | None = request.constraint
    document = {
        "format": CACHE_FORMAT,
        "backend": backend,
        "messages": [[m.role, m.content, m.generated] for m in request.messages],
        "constraint": _canonical(constraint),
        "temperature": request.temperature,
        "max_tokens": request.max_tokens,
        "seed": request.seed,
        "stop": list(request.stop),
    }
    text = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def encode_response(response: LMResponse) -> str:
    """``response`` as the JSON stored in the cache (its metadata is not kept)."""
    return json.dumps(
        {
            "text": response.text,
            "prompt_tokens": response.prompt_tokens,
            "completion_tokens": response.completion_tokens,
            "seconds": response.seconds,
            "model": response.model,
            "finish_reason": response.finish_reason,
            "cached_tokens": response.cached_tokens,
        },
        ensure_ascii=False,
        sort_keys=True,
    )


def decode_response(text: str) -> LMResponse:
    """The response stored as ``text``; ValueError if it is not one."""
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("a stored response is a JSON object")
    try:
        response = LMResponse(
            text=data["text"],
            prompt_tokens=data["prompt_tokens"],
            completion_tokens=data["completion_tokens"],
            seconds=data["seconds"],
            model=data["model"],
            finish_reason=data["finish_reason"],
            cached_tokens=data["cached_tokens"],
        )
    except KeyError as exc:
        raise ValueError(f"a stored response lacks {exc}") from None
    kinds = (
        (response.text, str),
        (response.model, str),
        (response.prompt_tokens, int),
        (response.completion_tokens, int),
        (response.cached_tokens, int),
        (response.seconds, int | float),
    )
    if not all(isinstance(value, kind) for value, kind in kinds) or response.finish_reason not in ("stop", "length"):
        raise ValueError("a stored response has a field of the wrong type")
    return response


def _damaged(exc: sqlite3.DatabaseError) -> bool:
    """Whether ``exc`` says the file is damaged or foreign (not merely busy, locked or out of space)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None and code & 0xFF in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return True
    return not isinstance(exc, sqlite3.OperationalError) or "no such table" in str(exc)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class ResponseCache:
    """The cache file at ``path``; one per process is enough, and it may be shared by threads."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            example = str(self.path / "lm-cache.sqlite")
            raise UsageError(f"cache path {str(self.path)!r} is a folder; pass a file path, e.g. {example!r}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._generation = 0  # bumped when the file is rebuilt: older connections are then reopened
        with self._file_lock():
            self._check_or_rebuild()

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        """One process at a time creates, checks or rebuilds the file."""
        with self._lock, open(self.path.with_name(self.path.name + ".lock"), "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=_BUSY_MS / 1000, isolation_level=None, check_same_thread=False)
        connection.execute(f"PRAGMA busy_timeout={_BUSY_MS}")
        return connection

    def _check_or_rebuild(self) -> None:
        problem = self._problem()
        if problem is None:
            return
        if self.path.exists() and self.path.stat().st_size > 0:
            stamp = f"{time.strftime('%Y%m%dT%H%M%S')}-{time.time_ns() % 10**9:09d}"
            aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
            for suffix in ("", "-wal", "-shm"):
                source = self.path.with_name(self.path.name + suffix)
                if source.exists():
                    source.rename(aside.with_name(aside.name + suffix))
            warnings.warn(
                f"response cache {str(self.path)!r} {problem}; moved it to {str(aside)!r} and started an empty cache",
                CacheWarning,
                stacklevel=4,
            )
        else:
            for suffix in ("-wal", "-shm"):
                self.path.with_name(self.path.name + suffix).unlink(missing_ok=True)
        self._create()

    def _problem(self) -> str | None:
        """What is wrong with the file, or None when it is a sound cache of this format (or absent)."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return "is new"
        try:
            connection = self._connect()
        except sqlite3.DatabaseError as exc:
            return f"cannot be opened ({exc})"
        try:
            rows = connection.execute("PRAGMA quick_check").fetchall()
            if rows != [("ok",)]:
                return f"is damaged (quick_check: {'; '.join(str(r[0]) for r in rows[:3])})"
            meta = dict(connection.execute("SELECT key, value FROM meta").fetchall())
            connection.execute("SELECT key, backend, response, digest, created FROM responses LIMIT 1").fetchall()
        except sqlite3.DatabaseError as exc:
            if not _damaged(exc):
                raise
            return f"is not a refine response cache ({exc})"
        finally:
            connection.close()
        if meta.get("created_by") != "refine":
            return "was not written by refine"
        if meta.get("format") != str(CACHE_FORMAT):
            version = meta.get("format")
            if isinstance(version, str) and version.isdigit() and int(version) > CACHE_FORMAT:
                raise UsageError(
                    f"response cache {str(self.path)!r} has format {version}, newer than this refine reads "
                    f"({CACHE_FORMAT}); upgrade refine or pass another cache path"
                )
            return f"has format {version!r}, not {CACHE_FORMAT}"
        return None

    def _create(self) -> None:
        connection = self._connect()
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT)")
            connection.execute(
                "CREATE TABLE IF NOT EXISTS responses("
                "key TEXT PRIMARY KEY, backend TEXT, response TEXT, digest TEXT, created REAL)"
            )
            connection.execute(
                "INSERT OR REPLACE INTO meta VALUES ('format', ?), ('created_by', 'refine')", (str(CACHE_FORMAT),)
            )
        finally:
            connection.close()
        self._generation += 1

    def _connection(self) -> sqlite3.Connection:
        local = self._local
        if getattr(local, "generation", None) != self._generation:
            if getattr(local, "connection", None) is not None:
                local.connection.close()
            local.connection = self._connect()
            local.generation = self._generation
            with self._lock:
                self._connections.append(local.connection)
        connection: sqlite3.Connection = local.connection
        return connection

    def _recover(self, exc: sqlite3.DatabaseError) -> None:
        """After a failed statement: rebuild a damaged file; a busy or full one is only logged."""
        if not _damaged(exc):
            logger.warning("response cache %s: %s; going on without it for this call", self.path, exc)
            return
        with self._file_lock():
            self._check_or_rebuild()
            self._generation += 1  # reconnect even if the file turned out sound (another process rebuilt it)

    def get(self, key: str) -> LMResponse | None:
        """The response stored under ``key``, or None (also when its row was damaged and dropped)."""
        try:
            row = self._connection().execute("SELECT response, digest FROM responses WHERE key = ?", (key,)).fetchone()
        except sqlite3.DatabaseError as exc:
            self._recover(exc)
            return None
        if row is None:
            return None
        text, digest = row
        try:
            if not isinstance(text, str) or digest != _digest(text):
                raise ValueError("its digest does not match")
            return decode_response(text)
        except ValueError as exc:
            warnings.warn(
                f"response cache {str(self.path)!r}: dropped a damaged entry ({exc}); it will be fetched again",
                CacheWarning,
                stacklevel=3,
            )
            with contextlib.suppress(sqlite3.DatabaseError):
                self._connection().execute("DELETE FROM responses WHERE key = ?", (key,))
            return None

    def put(self, key: str, backend: str, response: LMResponse) -> None:
        """Store ``response`` under ``key`` (replacing what was there); a cache that fails is logged, not raised."""
        text = encode_response(response)
        row = (key, backend, text, _digest(text), time.time())
        for _ in range(2):  # once more on a rebuilt file
            try:
                self._connection().execute("INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?)", row)
                return
            except sqlite3.DatabaseError as exc:
                self._recover(exc)
                if not _damaged(exc):
                    return

    def __len__(self) -> int:
        (count,) = self._connection().execute("SELECT COUNT(*) FROM responses").fetchone()
        return int(count)

    def close(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()
        self._generation += 1

    def __repr__(self) -> str:
        return f"ResponseCache({str(self.path)!r})"


def open_cache(cache: str | Path | ResponseCache | None) -> ResponseCache | None:
    """``cache=`` as a backend takes it: a path, a cache already open, or None for none."""
    if cache is None or isinstance(cache, ResponseCache):
        return cache
    if isinstance(cache, str | Path):
        return ResponseCache(cache)
    raise UsageError(f"cache={cache!r} must be a file path or a refine.ResponseCache, e.g. cache='lm-cache.sqlite'")


@dataclass(frozen=True, slots=True)
class _Identity:
    backend: str
    seeded: bool


def _identity(lm: Any) -> _Identity:
    if isinstance(lm, CacheAware):
        return _Identity(lm.cache_identity, lm.seeded)
    return _Identity(lm.name, False)


def cached_complete(
    cache: ResponseCache,
    lm: Any,
    request: LMRequest,
    call: Callable[[LMRequest], LMResponse],
    *,
    refresh: bool = False,
) -> LMResponse:
    """``call(request)`` through ``cache``: the stored reply on a hit, else the backend's, stored."""
    identity = _identity(lm)
    if request.temperature > 0 and not identity.seeded:
        return call(request)  # a sample the backend cannot reproduce: never served from the cache
    key = request_key(identity.backend, request)
    started = time.perf_counter()
    if not refresh and (hit := cache.get(key)) is not None:
        return replace(hit, seconds=time.perf_counter() - started, cache="hit")
    response = call(request)
    cache.put(key, identity.backend, response)
    return replace(response, cache="miss")


class CachedLM(Closing):
    """``lm`` with its replies kept in the response cache at ``path`` (or a :class:`ResponseCache`).

    Responses served from the cache have ``cache="hit"``, those fetched and stored ``"miss"``.
    ``close()`` closes the cache when this object opened it; the backend stays open.
    """

    def __init__(self, lm: Any, path: str | Path | ResponseCache, *, refresh: bool = False) -> None:
        if not callable(getattr(lm, "complete", None)):
            raise UsageError(f"CachedLM(lm={lm!r}) needs a refine LM (with complete(request)), e.g. refine.LlamaCpp()")
        self.refresh = check_bool("refresh", refresh)
        self._owns = not isinstance(path, ResponseCache)
        self.cache = path if isinstance(path, ResponseCache) else ResponseCache(path)
        self.lm = lm

    @property
    def name(self) -> str:
        return str(self.lm.name)

    @property
    def cache_identity(self) -> str:
        return _identity(self.lm).backend

    @property
    def seeded(self) -> bool:
        return _identity(self.lm).seeded

    def supports(self, constraint: Constraint) -> bool:
        return bool(self.lm.supports(constraint))

    def complete(self, request: LMRequest) -> LMResponse:
        return cached_complete(self.cache, self.lm, request, self.lm.complete, refresh=self.refresh)

    def close(self) -> None:
        if self._owns:
            self.cache.close()

    def __repr__(self) -> str:
        return f"CachedLM({self.lm!r}, {str(self.cache.path)!r})"
