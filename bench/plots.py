"""PNG plots of a benchmark run (matplotlib, no display): B8's lag percentiles and the scale-out curves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: no display on a server or in CI

import matplotlib.pyplot as plt  # noqa: E402

LAG_PNG, SCALING_PNG = "bench-lag.png", "bench-scaling.png"


def lag_percentiles(results: dict[str, Any], out: Path) -> Path:
    """Grouped bars: p50/p95/p99 of commit-to-read-model lag at each rate B8 asked for, one worker."""
    runs = results["lag"]  # {"100": [Lag, ...], "500": [...]}: the median of the rounds is drawn
    rates = sorted(runs, key=int)
    fig, ax = plt.subplots(figsize=(7, 4))
    width = 0.25
    for n, key in enumerate(("p50", "p95", "p99")):
        values = [_median([run[key] for run in runs[rate]]) for rate in rates]
        bars = ax.bar([i + (n - 1) * width for i in range(len(rates))], values, width, label=key)
        ax.bar_label(bars, fmt="%.0f", fontsize=8)
    ax.axhline(100, color="grey", linestyle="--", linewidth=1, label="target: p95 <= 100 ms at 100/s")
    achieved = [_median([run["achieved"] for run in runs[rate]]) for rate in rates]
    labels = [f"{rate}/s asked\n{done:,.0f}/s done" for rate, done in zip(rates, achieved, strict=True)]
    ax.set_xticks(range(len(rates)), labels)
    ax.set_ylabel("commit to every read model (ms)")
    ax.set_title("B8: read-model lag, 1 rqworker")
    ax.legend(fontsize=8)
    return _save(fig, out / LAG_PNG)


def scaling_curves(results: dict[str, Any], out: Path) -> Path:
    """p95 lag against the rate delivered, one line per worker count, with the 100 ms limit."""
    scaling = results["scaling"]
    fig, ax = plt.subplots(figsize=(7, 4))
    for count, runs in sorted(scaling["curves"].items(), key=lambda item: int(item[0])):
        label = f"{count} worker{'s' if count != '1' else ''} (sustained {scaling['sustained'][count]:,.0f}/s)"
        ax.plot([run["achieved"] for run in runs], [run["p95"] for run in runs], marker="o", label=label)
    ax.axhline(scaling["lag_limit_ms"], color="grey", linestyle="--", linewidth=1, label="100 ms")
    ax.set_yscale("log")
    ax.set_xlabel("deposits per second delivered")
    ax.set_ylabel("p95 commit to every read model (ms)")
    ax.set_title("Scale-out: projection lag by number of rqworkers")
    ax.legend(fontsize=8)
    return _save(fig, out / SCALING_PNG)


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _save(fig: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
