"""Server-rendered SVG charts: plain numbers in, coordinates out; the template draws them (escaped)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH, HEIGHT, PAD = 640, 180, 24


@dataclass(frozen=True, slots=True)
class LineChart:
    points: str  # "x,y x,y ..." for <polyline>
    area: str  # the same, closed along the zero line, for <polygon>
    zero_y: float
    low: int
    high: int
    width: int = WIDTH
    height: int = HEIGHT


def balance_line(balances: Sequence[int]) -> LineChart | None:
    """A line of balances in order (oldest first); None when there is nothing to draw."""
    if not balances:
        return None
    values = [0, *balances]
    low, high = min(*values, 0), max(*values, 0)
    span = (high - low) or 1
    step = (WIDTH - 2 * PAD) / max(len(values) - 1, 1)

    def y(value: int) -> float:
        return round(HEIGHT - PAD - (value - low) / span * (HEIGHT - 2 * PAD), 1)

    coordinates = [(round(PAD + index * step, 1), y(value)) for index, value in enumerate(values)]
    points = " ".join(f"{x},{yy}" for x, yy in coordinates)
    zero = y(0)
    area = f"{coordinates[0][0]},{zero} {points} {coordinates[-1][0]},{zero}"
    return LineChart(points=points, area=area, zero_y=zero, low=low, high=high)


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    height: float
    kind: str
    label: str


def daily_bars(days: Sequence[tuple[str, int, int, int]]) -> tuple[list[Bar], int]:
    """Grouped bars per day: (label, deposits, withdrawals, transfers) in minor units; returns bars and max."""
    top = max([max(d[1:]) for d in days] or [0]) or 1
    group = (WIDTH - 2 * PAD) / max(len(days), 1)
    width = max(group / 4, 2)
    bars = []
    for index, (label, *amounts) in enumerate(days):
        for offset, (kind, amount) in enumerate(zip(("in", "out", "move"), amounts, strict=True)):
            height = round(amount / top * (HEIGHT - 2 * PAD), 1)
            x = round(PAD + index * group + offset * width + width / 2, 1)
            bars.append(Bar(x=x, y=round(HEIGHT - PAD - height, 1), height=height, kind=kind, label=label))
    return bars, top
