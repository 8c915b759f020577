"""The one backend protocol: a request in, a response out."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Literal, Protocol, Self, runtime_checkable

from corpora import encoding_problem
from refine._options import check_int, check_number
from refine.constraints import Constraint
from refine.errors import UsageError
from refine.lm._support import refusal

__all__ = ["LM", "Closing", "LMRequest", "LMResponse", "Message", "Role", "require_support"]

Role = Literal["system", "user", "assistant"]
_ROLES = ("system", "user", "assistant")


@dataclass(frozen=True, slots=True)
class Message:
    """One turn of a chat.

    ``generated=True`` marks an assistant turn that is the model's own reply to the turns before
    it, quoted verbatim (a retry quotes the reply it rejects). A backend with a prefix cache may
    then reuse what it computed while generating it; few-shot demonstrations are not generated.
    """

    role: Role
    content: str
    generated: bool = False

    def __post_init__(self) -> None:
        if self.role not in _ROLES:
            raise UsageError(f"Message role={self.role!r} must be one of {', '.join(_ROLES)}")
        if not isinstance(self.content, str):
            raise UsageError(f"Message content={self.content!r} must be a str")
        if problem := encoding_problem(self.content):
            raise UsageError(
                f"Message content {self.content[:60]!r} holds {problem}; a model reads UTF-8 text, so decode "
                "the input as UTF-8 first (errors='replace' keeps the rest of it)"
            )
        if self.generated and self.role != "assistant":
            raise UsageError(f"Message(role={self.role!r}, generated=True): only an assistant turn is generated")


@dataclass(frozen=True, slots=True)
class LMRequest:
    """Everything a backend needs for one completion; hashable, so it can key a cache."""

    messages: tuple[Message, ...]
    constraint: Constraint | None = None
    temperature: float = 0.0
    max_tokens: int = 256
    seed: int = 0
    stop: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "messages", tuple(self.messages))
        object.__setattr__(self, "stop", tuple(self.stop))
        if not self.messages:
            raise UsageError("LMRequest(messages=()) needs at least one message")
        for position, message in enumerate(self.messages):
            if not isinstance(message, Message):
                raise UsageError(f"messages[{position}]={message!r} must be a Message, e.g. Message('user', 'text')")
        if not all(isinstance(text, str) for text in self.stop):
            raise UsageError(f"stop={self.stop!r} must be strings, e.g. stop=('\\n',)")
        object.__setattr__(self, "max_tokens", check_int("max_tokens", self.max_tokens, minimum=1))
        object.__setattr__(self, "temperature", check_number("temperature", self.temperature, minimum=0.0))
        object.__setattr__(self, "seed", check_int("seed", self.seed, minimum=0))

    def with_messages(self, *messages: Message) -> LMRequest:
        """The same request with ``messages`` appended; the original prompt stays a prefix."""
        return replace(self, messages=self.messages + messages)

    def with_constraint(self, constraint: Constraint | None) -> LMRequest:
        return replace(self, constraint=constraint)

    def with_sampling(self, *, temperature: float, seed: int) -> LMRequest:
        return replace(self, temperature=temperature, seed=seed)


@dataclass(frozen=True, slots=True)
class LMResponse:
    """A reply and its cost; ``cached_tokens`` of the ``prompt_tokens`` were reused from a prefix cache.

    ``cache`` is ``"hit"`` when a response cache (:class:`refine.CachedLM`) served the reply (it is
    then the stored response, with ``seconds`` the time of the lookup), ``"miss"`` when the
    backend was called and the reply stored, and ``None`` when no response cache was asked.
    """

    text: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    model: str
    finish_reason: Literal["stop", "length"] = "stop"
    cached_tokens: int = 0
    metadata: dict[str, object] = field(default_factory=dict, compare=False, hash=False)
    cache: Literal["hit", "miss"] | None = field(default=None, compare=False, hash=False)


@runtime_checkable
class LM(Protocol):
    """A language model backend. Backends only move bytes; prompts are built elsewhere.

    ``close()`` releases what the backend holds (connections, a loaded model); every backend is
    also a context manager that closes it on exit.
    """

    @property
    def name(self) -> str: ...

    def supports(self, constraint: Constraint) -> bool:
        """Whether this backend enforces ``constraint`` while decoding."""
        ...

    def complete(self, request: LMRequest) -> LMResponse: ...

    def close(self) -> None: ...


class Closing:
    """``with backend: ...`` closes the backend on exit; a backend defines ``close()``."""

    def close(self) -> None:
        """Release what the backend holds; nothing, unless a backend says otherwise."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


def require_support(lm: LM, constraint: Constraint | None) -> None:
    """Raise :class:`UnsupportedConstraint` naming the backend, the constraint and the way out."""
    if constraint is not None and not lm.supports(constraint):
        raise refusal(lm.name, constraint)
