"""What an evaluation returns: its rows and what they add up to, with a bootstrap interval."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from refine.evaluation._rows import EvalRow
from refine.usage import Usage

if TYPE_CHECKING:
    from rich.table import Table

__all__ = ["EvalReport", "RuleStats", "bootstrap_interval"]

RESAMPLES = 1000
_CHUNK = 1 << 20  # resampled values drawn at once, to bound memory on large runs


def bootstrap_interval(
    values: Sequence[float], *, seed: int, level: float = 0.95, resamples: int = RESAMPLES
) -> tuple[float, float]:
    """The percentile bootstrap interval of the mean of ``values``, reproducible from ``seed``."""
    import numpy as np  # imported when a report is made, so `import refine` stays cheap (issue 17)

    data = np.asarray(values, dtype=float)
    if data.size == 0:
        return (0.0, 0.0)
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    step = max(1, _CHUNK // data.size)
    for start in range(0, resamples, step):
        stop = min(resamples, start + step)
        means[start:stop] = data[rng.integers(0, data.size, size=(stop - start, data.size))].mean(axis=1)
    tail = (1.0 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return (float(low), float(high))


@dataclass(frozen=True, slots=True)
class RuleStats:
    """How the rows did on one rule (an assertion, or a rule the signature declares).

    ``failed`` rows ended failing it; ``retried`` rows failed it on some attempt (and were
    retried, or gave up); ``rows`` had at least one attempt checked.
    """

    rule: str
    hard: bool
    failed: int
    retried: int
    rows: int

    @property
    def pass_rate(self) -> float:
        return 1.0 - self.failed / self.rows if self.rows else 1.0


@dataclass(frozen=True, slots=True)
class EvalReport:
    """Every row of an evaluation (in the order of the examples) and the aggregates over them.

    ``mean`` is the main metric's mean over all rows, a row whose program raised counting 0 (as
    do its extra ``scores``); ``interval`` its 95% percentile-bootstrap interval, drawn from
    ``seed``. ``usage`` sums every row's LM calls and tokens; ``seconds`` is the wall time of this
    run (rows read back from a resumed file, ``resumed`` of them, took theirs before).
    """

    metric: str
    program: str
    rows: tuple[EvalRow, ...]
    mean: float
    interval: tuple[float, float]
    scores: Mapping[str, float] = field(default_factory=dict)
    rules: Mapping[str, RuleStats] = field(default_factory=dict)
    usage: Usage = field(default_factory=Usage)
    seconds: float = 0.0
    seed: int = 0
    resumed: int = 0
    out: str | None = None

    @classmethod
    def of(
        cls,
        rows: Iterable[EvalRow],
        *,
        metric: str,
        metrics: Sequence[str] = (),
        program: str,
        seconds: float,
        seed: int,
        resumed: int = 0,
        out: str | None = None,
    ) -> EvalReport:
        rows = tuple(rows)
        values = [row.value() for row in rows]
        total = Usage()
        for row in rows:
            total = total + row.usage
        return cls(
            metric=metric,
            program=program,
            rows=rows,
            mean=sum(values) / len(values) if values else 0.0,
            interval=bootstrap_interval(values, seed=seed),
            scores=MappingProxyType({name: _mean(row.value(name) for row in rows) for name in metrics}),
            rules=MappingProxyType(_rules(rows)),
            usage=total,
            seconds=seconds,
            seed=seed,
            resumed=resumed,
            out=out,
        )

    @property
    def errors(self) -> tuple[EvalRow, ...]:
        """The rows whose program raised."""
        return tuple(row for row in self.rows if row.error is not None)

    @property
    def failing(self) -> tuple[EvalRow, ...]:
        """The rows whose program raised or whose result still fails a check."""
        return tuple(row for row in self.rows if row.error is not None or row.failures)

    def slowest(self, n: int = 5) -> tuple[EvalRow, ...]:
        return tuple(sorted(self.rows, key=lambda row: row.seconds, reverse=True)[:n])

    def per_row(self, value: float) -> float:
        return value / len(self.rows) if self.rows else 0.0

    def table(self) -> Table:
        """The summary as a rich table (the CLI prints it)."""
        from rich.table import Table  # imported when a table is drawn, so `import refine` stays cheap

        low, high = self.interval
        table = Table(title=f"{self.program}: {len(self.rows)} rows", show_header=True, title_justify="left")
        table.add_column("", style="bold")
        table.add_column("value", justify="right")
        table.add_row(self.metric, f"{self.mean:.3f}  [{low:.3f}, {high:.3f}] 95% CI")
        for name, mean in self.scores.items():
            table.add_row(name, f"{mean:.3f}")
        table.add_row("errors", f"{len(self.errors)}" + _kinds(self.errors))
        for stats in self.rules.values():
            kind = "assert" if stats.hard else "suggest"
            table.add_row(
                f"pass rate {stats.rule} ({kind})", f"{stats.pass_rate:.3f}  (retried on {stats.retried} rows)"
            )
        if self.failing:
            table.add_row("failing rows", _listed(f"{row.id} ({_why(row)})" for row in self.failing))
        table.add_row("slowest rows", _listed(f"{row.id} {row.seconds:.2f} s" for row in self.slowest(3)))
        u = self.usage
        table.add_row("LM calls / row", f"{self.per_row(u.calls):.2f}")
        table.add_row("backtracks / row", f"{self.per_row(sum(row.backtracks for row in self.rows)):.2f}")
        table.add_row(
            "tokens / row (prompt, completion)",
            f"{self.per_row(u.prompt_tokens):.0f}, "
            f"{self.per_row(u.completion_tokens):.0f}  ({u.cached_tokens} prompt tokens cached)",
        )
        table.add_row("seconds / row", f"{self.per_row(sum(row.seconds for row in self.rows)):.2f}")
        table.add_row(
            "wall seconds", f"{self.seconds:.1f}" + (f"  ({self.resumed} rows resumed)" if self.resumed else "")
        )
        if self.out:
            table.add_row("rows in", self.out)
        return table

    def __repr__(self) -> str:
        low, high = self.interval
        return (
            f"EvalReport({self.metric}={self.mean:.3f} [{low:.3f}, {high:.3f}], rows={len(self.rows)}, "
            f"errors={len(self.errors)}, calls={self.usage.calls})"
        )


def _mean(values: Iterable[float]) -> float:
    items = list(values)
    return sum(items) / len(items) if items else 0.0


def _why(row: EvalRow) -> str:
    if row.error is not None:
        return row.error.type
    return ", ".join(dict.fromkeys(f.rule for f in row.failures))


def _listed(items: Iterable[str], most: int = 3) -> str:
    shown = list(items)
    more = f", and {len(shown) - most} more" if len(shown) > most else ""
    return ", ".join(shown[:most]) + more


def _kinds(rows: Sequence[EvalRow]) -> str:
    counts: dict[str, int] = {}
    for row in rows:
        if row.error is not None:
            counts[row.error.type] = counts.get(row.error.type, 0) + 1
    return f"  ({', '.join(f'{n} {kind}' for kind, n in counts.items())})" if counts else ""


def _rules(rows: Sequence[EvalRow]) -> dict[str, RuleStats]:
    checked = sum(1 for row in rows if row.attempts)
    hard: dict[str, bool] = {}
    failed: dict[str, int] = {}
    retried: dict[str, int] = {}
    for row in rows:
        for rule in row.attempt_failures:
            retried[rule] = retried.get(rule, 0) + 1
        for rule in dict.fromkeys(f.rule for f in row.failures):
            failed[rule] = failed.get(rule, 0) + 1
        for rule in (*row.attempt_failures, *(f.rule for f in row.failures)):
            hard[rule] = hard.get(rule, False) or rule in row.hard_rules
    return {
        rule: RuleStats(rule, hard[rule], failed.get(rule, 0), retried.get(rule, 0), checked) for rule in sorted(hard)
    }
