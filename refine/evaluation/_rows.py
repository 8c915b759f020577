"""One evaluation row: calling the program on one example, scoring it, and the row as JSON.

A row holds JSON values only (outputs as :func:`jsonable` writes them), so a row read back from a
resumed file equals the row that was written.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import numbers
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import citations
from corpora import Passage
from refine.errors import RefineError, UsageError
from refine.example import Example
from refine.lm import LM
from refine.usage import Usage

__all__ = ["EvalRow", "RowError", "RowFailure", "jsonable", "run_row"]

Metric = Callable[[Example, Any], Any]


@dataclass(frozen=True, slots=True)
class RowError:
    """The error a program raised on a row: its type's name and its message."""

    type: str
    message: str

    def __str__(self) -> str:
        return f"{self.type}: {self.message}"


@dataclass(frozen=True, slots=True)
class RowFailure:
    """A check the row's result still fails: the rule's name, and whether it is an assertion (hard)."""

    rule: str
    hard: bool
    field: str | None
    message: str


@dataclass(frozen=True, slots=True)
class EvalRow:
    """What one example gave: the outputs and their score, or the error; what it cost and how it got there.

    ``metric`` is None when the program raised (``error``); ``scores`` holds the extra metrics.
    ``failures`` are the checks the result still fails (for an :class:`~refine.AssertionFailed`,
    the hard ones that gave up); ``attempt_failures`` counts, per rule, the attempts that failed
    it (each caused a retry, or was the last), and ``hard_rules`` names the rules among them that
    are assertions rather than suggestions. For a cited answer (a prediction with a citation
    ``report``), ``passages`` are the ids of the passages it was given and ``cited`` those it
    cites validly; else both are None. ``calls`` counts predictor calls, so
    ``backtracks`` (attempts beyond one per call) is how many retries were made. ``seconds`` is
    the wall time of the program call.
    """

    id: str
    inputs: Mapping[str, Any]
    outputs: Mapping[str, Any] | None
    metric: float | None
    error: RowError | None = None
    scores: Mapping[str, float] = field(default_factory=dict)
    usage: Usage = field(default_factory=Usage)
    attempts: int = 0
    calls: int = 0
    failures: tuple[RowFailure, ...] = ()
    attempt_failures: Mapping[str, int] = field(default_factory=dict)
    hard_rules: tuple[str, ...] = ()
    passages: tuple[str, ...] | None = None
    cited: tuple[str, ...] | None = None
    seconds: float = 0.0

    def __post_init__(self) -> None:
        for name in ("inputs", "scores", "attempt_failures"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))
        if self.outputs is not None:
            object.__setattr__(self, "outputs", MappingProxyType(dict(self.outputs)))
        object.__setattr__(self, "failures", tuple(self.failures))
        object.__setattr__(self, "hard_rules", tuple(self.hard_rules))
        for name in ("passages", "cited"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, tuple(getattr(self, name)))

    @property
    def ok(self) -> bool:
        """The program returned a result (whatever its score)."""
        return self.error is None

    @property
    def backtracks(self) -> int:
        return max(0, self.attempts - self.calls)

    def value(self, name: str | None = None) -> float:
        """The row's score on the main metric (or the extra metric ``name``); 0.0 for a row that failed."""
        if name is None:
            return self.metric if self.metric is not None else 0.0
        return self.scores.get(name, 0.0)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "metric": self.metric,
            "scores": dict(self.scores),
            "error": None if self.error is None else {"type": self.error.type, "message": self.error.message},
            "inputs": dict(self.inputs),
            "outputs": None if self.outputs is None else dict(self.outputs),
            "attempts": self.attempts,
            "calls": self.calls,
            "backtracks": self.backtracks,
            "failures": [dataclasses.asdict(f) for f in self.failures],
            "attempt_failures": dict(self.attempt_failures),
            "hard_rules": list(self.hard_rules),
            "passages": None if self.passages is None else list(self.passages),
            "cited": None if self.cited is None else list(self.cited),
            "usage": dataclasses.asdict(self.usage),
            "seconds": self.seconds,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EvalRow:
        """Inverse of :meth:`to_json`; raises KeyError or TypeError on a row of another shape."""
        error = data["error"]
        return cls(
            id=str(data["id"]),
            inputs=data["inputs"],
            outputs=data["outputs"],
            metric=data["metric"],
            error=None if error is None else RowError(str(error["type"]), str(error["message"])),
            scores=data["scores"],
            usage=Usage(**data["usage"]),
            attempts=int(data["attempts"]),
            calls=int(data["calls"]),
            failures=tuple(RowFailure(**f) for f in data["failures"]),
            attempt_failures=data["attempt_failures"],
            hard_rules=tuple(map(str, data["hard_rules"])),
            passages=None if data["passages"] is None else tuple(map(str, data["passages"])),
            cited=None if data["cited"] is None else tuple(map(str, data["cited"])),
            seconds=float(data["seconds"]),
        )


def jsonable(value: Any) -> Any:
    """``value`` as JSON values: passages (and hits) as their ids, pydantic models and dataclasses
    as objects, enums as their values, containers as lists and objects; anything else as its ``repr``."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, Passage):
        return value.id
    passage = getattr(value, "passage", None)
    if isinstance(passage, Passage):  # a retrieval Hit
        return passage.id
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return jsonable(dump(mode="json"))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((jsonable(item) for item in value), key=repr)
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, numbers.Real):  # numpy scalars
        return jsonable(float(value))
    return repr(value)


def _score(name: str, value: Any, example: Example) -> float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, numbers.Real) and not math.isnan(value):
        return float(value)
    raise UsageError(f"metric {name} returned {value!r} for example {example.id!r}; a metric returns a float or a bool")


def _outputs(prediction: Any) -> Mapping[str, Any]:
    outputs = getattr(prediction, "outputs", None)
    if isinstance(outputs, Mapping):
        return outputs
    # A result that is not a Prediction but answers with passages (CitedRAG's CitedAnswer).
    return {"answer": prediction.answer, "passages": prediction.passages}


def _cited(prediction: Any) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    """The ids of the passages a cited answer was given, and of those it cites validly."""
    report = getattr(prediction, "report", None)
    if not isinstance(report, citations.CitationReport):
        return None, None
    return tuple(p.id for p in report.passages), tuple(p.id for p in report.cited_passages)


def _check_result(prediction: Any, program: Any) -> None:
    if isinstance(getattr(prediction, "outputs", None), Mapping) or isinstance(
        getattr(prediction, "answer", None), str
    ):
        return
    raise UsageError(
        f"{program!r} returned {type(prediction).__name__}; a program evaluated by refine.evaluate returns a "
        "refine.Prediction (what Predict and Module calls return)"
    )


def _failures(violations: Iterable[Any]) -> tuple[RowFailure, ...]:
    found: dict[tuple[str, str], RowFailure] = {}
    for v in violations:
        found.setdefault((v.rule, v.message), RowFailure(str(v.rule), bool(v.hard), v.field, str(v.message)))
    return tuple(found.values())


def _attempt_failures(attempts: Iterable[Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for attempt in attempts:
        for rule in dict.fromkeys(str(v.rule) for v in attempt.failures):
            counts[rule] = counts.get(rule, 0) + 1
    return counts


def _hard_rules(attempts: Iterable[Any], final: Iterable[RowFailure]) -> tuple[str, ...]:
    rules = [str(v.rule) for attempt in attempts for v in attempt.failures if v.hard]
    return tuple(sorted(set(rules) | {f.rule for f in final if f.hard}))


def _calls(attempts: tuple[Any, ...], trace: tuple[Any, ...]) -> int:
    return len(trace) if trace else int(bool(attempts))


def run_row(
    program: Any, example: Example, metric: tuple[str, Metric], extra: Mapping[str, Metric], lm: LM | None
) -> EvalRow:
    """Call ``program`` on ``example`` and score it; a :class:`~refine.RefineError` is the row's error.

    Any other exception (a bug in the program or a metric) propagates.
    """
    row_id = str(example.id)  # evaluate refuses examples without one
    inputs = jsonable(example.inputs)
    started = time.perf_counter()
    try:
        prediction = program(**example.inputs) if lm is None else program(lm=lm, **example.inputs)
    except RefineError as exc:
        seconds = time.perf_counter() - started
        attempts = tuple(getattr(exc, "attempts", ()) or ())
        failures = _failures(getattr(exc, "failures", None) or (attempts[-1].failures if attempts else ()))
        return EvalRow(
            id=row_id,
            inputs=inputs,
            outputs=None,
            metric=None,
            error=RowError(type(exc).__name__, " ".join(str(exc).split())),
            usage=Usage.of(a.response for a in attempts),
            attempts=len(attempts),
            calls=_calls(attempts, tuple(getattr(exc, "trace", ()) or ())),
            failures=failures,
            attempt_failures=_attempt_failures(attempts),
            hard_rules=_hard_rules(attempts, failures),
            seconds=seconds,
        )
    seconds = time.perf_counter() - started
    _check_result(prediction, program)
    name, main = metric
    attempts = tuple(prediction.attempts)
    failures = _failures(getattr(prediction, "failures", ()))
    passages, cited = _cited(prediction)
    return EvalRow(
        id=row_id,
        inputs=inputs,
        outputs=jsonable(_outputs(prediction)),
        metric=_score(name, main(example, prediction), example),
        scores={key: _score(key, score(example, prediction), example) for key, score in extra.items()},
        usage=Usage.of(a.response for a in attempts),
        attempts=len(attempts),
        calls=_calls(attempts, tuple(getattr(prediction, "trace", ()) or ())),
        failures=failures,
        attempt_failures=_attempt_failures(attempts),
        hard_rules=_hard_rules(attempts, failures),
        passages=passages,
        cited=cited,
        seconds=seconds,
    )
