"""The benchmark table, written into docs/benchmarks.md between its markers (the rest of the page is prose)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def table(results: dict[str, Any]) -> str:
    lines = [
        f"Measured {results['when']} on {results['machine']}, PostgreSQL {results['postgresql']}, "
        f"{results['rounds']} rounds{' (smoke sizes)' if results['smoke'] else ''}; long stream"
        f" {results['sizes']['stream']:,} events, log sizes {', '.join(f'{n:,}' for n in results['sizes']['table'])}.",
        "",
        "| id | measurement | median | spread | target | result | detail |",
        "|---|---|---:|---:|---|---|---|",
    ]
    for row in results["rows"]:
        ratios = [value for value in row["ratios"] if not math.isnan(value)]
        spread = f"{min(ratios):.2f}-{max(ratios):.2f}{row['unit']}" if len(ratios) > 1 else "-"
        verdict = "pass" if row["passed"] else "**not met**"
        lines.append(
            f"| {row['id']} | {row['what']} | {row['median']:.2f}{row['unit']} | {spread} | {row['target']} |"
            f" {verdict} | {row['detail']} |"
        )
    return "\n".join(lines)


def write_docs(path: Path, results: dict[str, Any]) -> None:
    """Replace the part between the markers (or append it, with the markers, when they are missing)."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    block = f"{START}\n{table(results)}\n{END}"
    if START in text and END in text:
        text = text[: text.index(START)] + block + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text)
