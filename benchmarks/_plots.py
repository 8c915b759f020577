"""The suite's PNG plots, drawn with matplotlib (the ``bench`` extra) on its Agg canvas, without pyplot.

Each plot has a fixed file name (:data:`PLOTS`) and is drawn when its rows are there:

- ``quality_f1_vs_calls.png``: answer F1 (with its 95% interval, where rows carry ``f1_low`` and ``f1_high``)
  against LM calls per question, one point per system, one panel per dataset;
- ``quality_validity_vs_calls.png``: the share of answers whose citations are valid, against the same;
- ``quality_retry_cost.png``: LM calls and seconds per question, per system, bars grouped by dataset;
- ``overhead.png``: microseconds per ``Predict`` call without a model, refine beside DSPy, per mode.

Quality rows are summaries over ``n`` questions, as in the other benchmarks' summaries: ``f1`` and
``valid`` are means in [0, 1], and ``calls`` and ``seconds`` are means per question.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["PLOTS", "available", "write_plots"]

PLOTS = ("quality_f1_vs_calls.png", "quality_validity_vs_calls.png", "quality_retry_cost.png", "overhead.png")
Row = Mapping[str, Any]


def available() -> bool:
    return importlib.util.find_spec("matplotlib") is not None


def write_plots(rows: Sequence[Row], out: Path) -> list[Path]:
    """Draw every plot whose rows are there into ``out``; remove a plot of an earlier run that has none now.

    Needs matplotlib (``pip install -e '.[bench]'``); see :func:`available`.
    """
    quality = [row for row in rows if row.get("benchmark") == "quality" and not row.get("skipped")]
    overhead = [row for row in rows if row.get("benchmark") == "overhead"]
    drawn = {
        "quality_f1_vs_calls.png": _scatter(quality, "f1", "answer F1") if quality else None,
        "quality_validity_vs_calls.png": _scatter(quality, "valid", "citation validity") if quality else None,
        "quality_retry_cost.png": _retry_cost(quality) if quality else None,
        "overhead.png": _overhead(overhead) if overhead else None,
    }
    written = []
    for name, figure in drawn.items():
        path = out / name
        if figure is None:
            path.unlink(missing_ok=True)
            continue
        figure.savefig(path, dpi=120, metadata={"Software": None})
        written.append(path)
    return written


def _figure(panels: int, *, title: str):  # -> tuple[Figure, list[Axes]]
    from matplotlib.figure import Figure  # lazily: matplotlib is the bench extra

    figure = Figure(figsize=(4.8 * panels, 4.2), layout="constrained")
    axes = list(figure.subplots(1, panels, squeeze=False)[0])
    figure.suptitle(title)
    return figure, axes


def _datasets(rows: Sequence[Row]) -> dict[str, list[Row]]:
    grouped: dict[str, list[Row]] = {}
    for row in rows:
        grouped.setdefault(str(row.get("dataset")), []).append(row)
    return grouped


def _scatter(rows: Sequence[Row], key: str, label: str):
    datasets = _datasets(rows)
    figure, axes = _figure(len(datasets), title=f"{label} against LM calls per question")
    markers = "osD^vP*Xhp<>"
    systems = list(dict.fromkeys(str(row["system"]) for row in rows))
    highest = [row.get(f"{key}_high") or row.get(key) or 0.0 for row in rows]
    top = min(1.05, max(highest, default=1.0) + 0.1)  # small F1s are not squeezed against the axis
    for ax, (dataset, found) in zip(axes, datasets.items(), strict=True):
        for row in found:
            if row.get(key) is None or row.get("calls") is None:
                continue
            # Systems that share a point (1 call, F1 0) stay apart by marker and colour, named in the legend.
            index = systems.index(str(row["system"]))
            low, high = row.get(f"{key}_low"), row.get(f"{key}_high")
            error = [[row[key] - low], [high - row[key]]] if low is not None and high is not None else None
            ax.errorbar(
                [row["calls"]], [row[key]], yerr=error, fmt=markers[index % len(markers)], color=f"C{index % 10}",
                markersize=7, capsize=3, label=str(row["system"]), alpha=0.85,
            )  # fmt: skip
        ax.set_title(f"{dataset} (n = {found[0].get('n')})")
        ax.set_xlabel("LM calls per question")
        ax.set_ylabel(label)
        ax.set_xlim(left=0)
        ax.set_ylim(0, top)
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    if handles:
        figure.legend(handles, labels, loc="outside right center", fontsize="small")
    return figure


def _retry_cost(rows: Sequence[Row]):
    datasets = _datasets(rows)
    systems = list(dict.fromkeys(str(row["system"]) for row in rows))
    figure, axes = _figure(2, title="what each system spends per question")
    width = 0.8 / len(datasets)
    for ax, key, label in zip(
        axes, ("calls", "seconds"), ("LM calls per question", "seconds per question"), strict=True
    ):
        for offset, (dataset, found) in enumerate(datasets.items()):
            values = {str(row["system"]): row.get(key) for row in found}
            positions = [i + (offset - (len(datasets) - 1) / 2) * width for i in range(len(systems))]
            ax.bar(positions, [values.get(system) or 0 for system in systems], width, label=dataset)
        ax.set_xticks(range(len(systems)), systems, rotation=20, ha="right")
        ax.set_ylabel(label)
        ax.grid(axis="y", alpha=0.3)
        ax.legend()
    return figure


def _overhead(rows: Sequence[Row]):
    figure, (ax,) = _figure(1, title="one Predict call with a fake LM")
    modes = [str(row["mode"]) for row in rows]
    positions = range(len(modes))
    ax.bar([p - 0.2 for p in positions], [row["refine_us"] for row in rows], 0.4, label="refine")
    if any(row.get("dspy_us") is not None for row in rows):
        ax.bar([p + 0.2 for p in positions], [row.get("dspy_us") or 0 for row in rows], 0.4, label="dspy")
        for p, row in zip(positions, rows, strict=True):
            if row.get("ratio") is not None:
                ax.annotate(f"{row['ratio']:.2f} of dspy", (p - 0.2, row["refine_us"]), ha="center", va="bottom")
    ax.set_xticks(list(positions), modes)
    ax.set_xlabel("refine's mode")
    ax.set_ylabel("µs per call")
    ax.grid(axis="y", alpha=0.3)
    ax.legend()
    return figure
