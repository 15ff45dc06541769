"""The benchmark tables, written into docs/benchmarks.md between their markers (the rest of the page is prose):
`bench` for the B1-B10 table, `scale` for the scale-out runs."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any


def table(results: dict[str, Any]) -> str:
    lines = [
        f"Measured {results['when']} on {results['machine']}, PostgreSQL {results['postgresql']}, "
        f"{results['rounds']} rounds{' (smoke sizes)' if results['smoke'] else ''}; long stream"
        f" {results['sizes']['stream']:,} events, log sizes {', '.join(f'{n:,}' for n in results['sizes']['table'])}.",
        "",
        "| id | measurement | median | spread | target | result | eventsourcing library | detail |",
        "|---|---|---:|---:|---|---|---:|---|",
    ]
    for row in results["rows"]:
        ratios = [value for value in row["ratios"] if not math.isnan(value)]
        spread = f"{min(ratios):.2f}-{max(ratios):.2f}{row['unit']}" if len(ratios) > 1 else "-"
        verdict = "pass" if row["passed"] else "**not met**"
        library = f"{row['library_median']:.2f}x" if row.get("library_median") is not None else "-"
        lines.append(
            f"| {row['id']} | {row['what']} | {row['median']:.2f}{row['unit']} | {spread} | {row['target']} |"
            f" {verdict} | {library} | {row['detail']} |"
        )
    return "\n".join(lines)


def scaling_table(results: dict[str, Any]) -> str:
    scaling = results["scaling"]
    lines = [
        f"Measured {results['when']}, same machine and run; {scaling['seconds_per_run']:.0f} s per paced run;"
        " sustained = the highest rate delivered (>= 90% of the rate asked) with p95 <="
        f" {scaling['lag_limit_ms']:.0f} ms.",
        "",
        "| rqworkers | rate asked | delivered | p50 | p95 | p99 | max | sustained |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for count, runs in scaling["curves"].items():
        for n, run in enumerate(runs):
            sustained = f"**{scaling['sustained'][count]:,.0f}/s**" if n == 0 else ""
            lines.append(
                f"| {count} | {run['rate']:,.0f}/s | {run['achieved']:,.0f}/s | {run['p50']:,.0f} ms |"
                f" {run['p95']:,.0f} ms | {run['p99']:,.0f} ms | {run['max']:,.0f} ms | {sustained} |"
            )
    fail = scaling["failover"]
    lag = fail["lag"]
    lines += [
        "",
        f"Failover: 2 rqworkers at {fail['rate']:.0f}/s, one SIGKILLed {fail['killed_at']:.1f} s in:"
        f" {lag['achieved']:,.0f}/s delivered, p50 {lag['p50']:,.0f} ms, p95 {lag['p95']:,.0f} ms,"
        f" p99 {lag['p99']:,.0f} ms, max {lag['max']:,.0f} ms; {lag['invisible']} acknowledged commands"
        " missing from a read model afterwards.",
    ]
    return "\n".join(lines)


def write_docs(path: Path, results: dict[str, Any]) -> None:
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    if results["rows"]:  # a run of --only SCALE leaves the B table as it was
        text = _replace_block(text, "bench", table(results))
    if "scaling" in results:
        text = _replace_block(text, "scale", scaling_table(results))
    path.write_text(text)


def _replace_block(text: str, name: str, body: str) -> str:
    """Replace the part between `<!-- name:start -->` and `<!-- name:end -->` (or append it, with the markers)."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{body}\n{end}"
    if start in text and end in text:
        return text[: text.index(start)] + block + text[text.index(end) + len(end) :]
    return text.rstrip("\n") + "\n\n" + block + "\n"
