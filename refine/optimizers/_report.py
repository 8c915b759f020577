"""What compiling returns: the new program and a report of what each example gave."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from refine.program import Program
from refine.usage import Usage

if TYPE_CHECKING:
    from rich.table import Table

__all__ = ["Candidate", "CompileReport", "Compiled", "ExampleOutcome"]

_METRIC_VALUE = re.compile(r"(\bmetric \w+)=\S+ does not reach")


@dataclass(frozen=True, slots=True)
class ExampleOutcome:
    """What one training example gave: ``kept`` (its trace became demos) or ``reason`` why not.

    ``score`` is the metric's value (None when the teacher raised or was not run); ``attempts`` the
    LM calls the teacher made; ``repaired`` names the predictors whose trace needed a retry that
    fixed it; ``round`` the bootstrapping round (0-based) the outcome is from.
    """

    id: str
    kept: bool
    reason: str
    score: float | None = None
    attempts: int = 0
    repaired: tuple[str, ...] = ()
    round: int = 0

    def __str__(self) -> str:
        return f"{self.id}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Candidate:
    """One program a search scored: its number, how it was made, its demos per predictor, its score."""

    index: int
    kind: str
    demos: Mapping[str, int]
    score: float
    interval: tuple[float, float] = (0.0, 0.0)

    def __post_init__(self) -> None:
        object.__setattr__(self, "demos", MappingProxyType(dict(self.demos)))


@dataclass(frozen=True, slots=True)
class CompileReport:
    """Per example, kept or why not; the demos each predictor got; what compiling cost.

    ``demos`` counts the demos of each predictor of the compiled program (``repairs`` how many of
    them are repair demos, ``trimmed`` how many were dropped to fit the context window);
    ``candidates`` holds every candidate of a search, in the order they were made.
    """

    optimizer: str
    outcomes: tuple[ExampleOutcome, ...]
    demos: Mapping[str, int]
    repairs: Mapping[str, int] = field(default_factory=dict)
    trimmed: Mapping[str, int] = field(default_factory=dict)
    usage: Usage = field(default_factory=Usage)
    seconds: float = 0.0
    candidates: tuple[Candidate, ...] = ()
    best: int | None = None

    def __post_init__(self) -> None:
        for name in ("demos", "repairs", "trimmed"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))
        object.__setattr__(self, "outcomes", tuple(self.outcomes))
        object.__setattr__(self, "candidates", tuple(self.candidates))

    @property
    def kept(self) -> tuple[ExampleOutcome, ...]:
        return tuple(o for o in self.outcomes if o.kept)

    @property
    def rejected(self) -> tuple[ExampleOutcome, ...]:
        return tuple(o for o in self.outcomes if not o.kept)

    def table(self) -> Table:
        """The summary as a rich table (``refine optimize`` prints it): what was kept, why the rest
        was not (the commonest reasons), the demos each predictor got, the candidates' scores."""
        from rich.table import Table  # imported when a table is drawn, so `import refine` stays cheap

        table = Table(
            title=f"{self.optimizer.split('(')[0]}: kept {len(self.kept)} of {len(self.outcomes)} examples",
            title_justify="left",
        )
        table.add_column("", style="bold")
        table.add_column("value")
        table.add_row("optimizer", self.optimizer)
        for name, count in self.demos.items():
            extra = [f"{self.repairs[name]} repair"] if self.repairs.get(name) else []
            extra += [f"{self.trimmed[name]} trimmed to fit the context"] if self.trimmed.get(name) else []
            table.add_row(f"demos {name}", f"{count}" + (f"  ({', '.join(extra)})" if extra else ""))
        # "metric f1=0.148 does not reach ..." and "metric f1=0 ..." are one reason, counted together.
        reasons = Counter(_METRIC_VALUE.sub(r"\1 below", o.reason) for o in self.rejected)
        for reason, count in reasons.most_common(5):
            table.add_row(f"not kept ({count})", reason)
        if len(reasons) > 5:
            table.add_row(
                "not kept", f"... and {sum(reasons.values()) - sum(n for _, n in reasons.most_common(5))} more"
            )
        for candidate in self.candidates:
            low, high = candidate.interval
            mark = "  <- best" if candidate.index == self.best else ""
            table.add_row(
                f"candidate {candidate.index} ({candidate.kind})",
                f"{candidate.score:.3f}  [{low:.3f}, {high:.3f}]{mark}",
            )
        table.add_row("LM calls", f"{self.usage.calls}")
        table.add_row("seconds", f"{self.seconds:.1f}")
        return table

    def __repr__(self) -> str:
        demos = ", ".join(f"{name}={n}" for name, n in self.demos.items())
        best = "" if self.best is None else f", best=candidate {self.best}"
        return (
            f"CompileReport({self.optimizer}: kept {len(self.kept)} of {len(self.outcomes)} examples, "
            f"demos {demos or 'none'}{best}, calls={self.usage.calls})"
        )


@dataclass(frozen=True, slots=True)
class Compiled:
    """A compiled program and the report of how it was compiled."""

    program: Program
    report: CompileReport
