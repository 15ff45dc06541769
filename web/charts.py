"""Server-rendered SVG charts: plain numbers in, coordinates and axis labels out; the template draws them
(escaped, with SVG attributes and CSS classes only: the CSP allows no style attribute).

Both charts have a time axis (dates, or times of day for a short span) and an amount axis with round values.
Amount labels come from the caller (`label`), which knows the currency and how pages write money."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

WIDTH, HEIGHT = 640, 220  # the account page's chart; the dashboard's spans its wider card
DASHBOARD_WIDTH = 1000
TOP, BOTTOM, RIGHT = 26, 26, 16  # room for the legend, the dates under the axis, and the last date's overhang
CHAR_WIDTH = 6.6  # of an 11 px axis label: the amount labels' longest text sizes the left margin
MIN_BAR, MAX_BAR = 3.0, 10.0  # a bar is never thinner than a visible sliver nor wider than a column
DAY = 86_400
_TIME_STEPS = (
    10,
    30,
    60,
    300,
    900,
    1800,
    3600,
    3 * 3600,
    6 * 3600,
    12 * 3600,
    DAY,
    2 * DAY,
    7 * DAY,
    14 * DAY,
    28 * DAY,
)
Label = Callable[[int], str]  # minor units -> text


@dataclass(frozen=True, slots=True)
class Tick:
    at: float  # x for the time axis, y for the amount axis
    label: str
    anchor: str = "middle"  # SVG text-anchor: a date at either end of the axis stays inside the chart


@dataclass(frozen=True, slots=True)
class Frame:
    """The plot area inside the viewBox and its two axes."""

    left: float
    width: int
    x_ticks: tuple[Tick, ...] = ()
    y_ticks: tuple[Tick, ...] = ()
    height: int = HEIGHT
    top: float = TOP

    @property
    def right(self) -> float:
        return self.width - RIGHT

    @property
    def bottom(self) -> float:
        return self.height - BOTTOM

    @property
    def y_label_x(self) -> float:
        return self.left - 6

    @property
    def x_label_y(self) -> float:
        return self.bottom + 16

    @property
    def tick_end(self) -> float:
        return self.bottom + 4

    def time_tick(self, x: float, label: str) -> Tick:
        """A tick on the time axis, its label kept inside the chart's edges."""
        room = len(label) * CHAR_WIDTH / 2
        anchor = "start" if x - room < 2 else "end" if x + room > self.width - 2 else "middle"
        return Tick(x, label, anchor)


@dataclass(frozen=True, slots=True)
class LineChart:
    points: str  # "x,y x,y ..." for <polyline>: the balance as steps, changing only at each movement
    area: str  # the same, closed along the zero line, for <polygon>
    zero_y: float
    low: int
    high: int
    frame: Frame


def balance_line(
    start: tuple[datetime, int], movements: Sequence[tuple[datetime, int]], now: datetime, label: Label
) -> LineChart | None:
    """The balance from `start` (moment, balance) through each movement (moment, balance after it, oldest
    first) until `now`; None when there is nothing to draw."""
    if not movements:
        return None
    balances = [start[1], *(balance for _, balance in movements)]
    ticks = _amount_ticks(min(*balances, 0), max(*balances, 0))
    frame, y = _amount_axis(ticks, label, WIDTH)
    t0 = start[0].timestamp()
    t1 = max(now.timestamp(), movements[-1][0].timestamp(), t0 + 60)  # a minute at least: a new account
    x = _scale(t0, t1, frame.left, frame.right)
    steps = [(x(t0), y(start[1]))]
    for moment, balance in movements:
        steps += [(x(moment.timestamp()), steps[-1][1]), (x(moment.timestamp()), y(balance))]
    steps.append((frame.right, steps[-1][1]))
    points = " ".join(f"{px},{py}" for px, py in steps)
    zero = y(0)
    area = f"{steps[0][0]},{zero} {points} {steps[-1][0]},{zero}"
    frame = replace(frame, x_ticks=tuple(frame.time_tick(x(t), text) for t, text in _time_ticks(t0, t1)))
    return LineChart(points=points, area=area, zero_y=zero, low=min(balances), high=max(balances), frame=frame)


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    kind: str
    title: str


@dataclass(frozen=True, slots=True)
class LegendItem:
    x: float
    kind: str
    label: str

    @property
    def text_x(self) -> float:
        return self.x + 14


@dataclass(frozen=True, slots=True)
class BarChart:
    bars: list[Bar]
    legend: list[LegendItem]
    frame: Frame


KINDS = (("in", "Deposits"), ("out", "Withdrawals"), ("move", "Transfers"))


def daily_bars(days: Sequence[tuple[date, int, int, int]], label: Label, width: int = DASHBOARD_WIDTH) -> BarChart:
    """Grouped bars for consecutive days: (day, deposits, withdrawals, transfers) in minor units, one column
    per day given (days without movements included, so one busy day stays one column of many)."""
    ticks = _amount_ticks(0, max([max(amounts) for _, *amounts in days] or [0]))
    frame, y = _amount_axis(ticks, label, width)
    column = (frame.right - frame.left) / max(len(days), 1)
    bar = min(MAX_BAR, column * 0.8 / len(KINDS))
    bars = []
    for index, (day, *amounts) in enumerate(days):
        first = frame.left + index * column + (column - bar * len(KINDS)) / 2
        for offset, ((kind, name), amount) in enumerate(zip(KINDS, amounts, strict=True)):
            if amount <= 0:
                continue
            top = min(y(amount), frame.bottom - MIN_BAR)
            title = f"{_day(day)}: {name.lower()} {label(amount)}"
            bars.append(
                Bar(round(first + offset * bar, 1), top, round(bar, 1), round(frame.bottom - top, 1), kind, title)
            )
    last = len(days) - 1
    x_ticks = tuple(
        frame.time_tick(round(frame.left + (index + 0.5) * column, 1), _day(day))
        for index, (day, *_) in enumerate(days)
        if (last - index) % 7 == 0
    )
    return BarChart(bars, _legend(frame.left), replace(frame, x_ticks=x_ticks))


def _legend(left: float) -> list[LegendItem]:
    items, x = [], left
    for kind, name in KINDS:
        items.append(LegendItem(round(x, 1), kind, name))
        x += 20 + len(name) * CHAR_WIDTH
    return items


def _amount_ticks(low: int, high: int, count: int = 4) -> list[int]:
    """Round amounts (1, 2 or 5 times a power of ten, in minor units) from at most `low` to at least `high`."""
    rough = max(high - low, 1) / count
    power = 10 ** max(math.floor(math.log10(rough)), 0)
    step = next(factor * power for factor in (1, 2, 5, 10) if factor * power >= rough)
    first, last = (low // step) * step, -(-high // step) * step
    return list(range(first, max(last, first + step) + 1, step))


def _amount_axis(ticks: list[int], label: Label, width: int) -> tuple[Frame, Callable[[int], float]]:
    """A frame whose left margin fits the amount labels, and the amount -> y scale spanning the ticks."""
    labels = [label(tick) for tick in ticks]
    frame = Frame(left=round(12 + max(len(text) for text in labels) * CHAR_WIDTH, 1), width=width)
    scale = _scale(ticks[0], ticks[-1], frame.bottom, frame.top)
    y_ticks = tuple(Tick(scale(tick), text) for tick, text in zip(ticks, labels, strict=True))
    return replace(frame, y_ticks=y_ticks), scale


def _time_ticks(start: float, end: float, most: int = 6) -> list[tuple[float, str]]:
    """Round moments between `start` and `end` (epoch seconds, UTC) and their labels: dates (with the year over
    more than half a year), or times of day (with the date where it changes) when the span is short."""
    step = next((s for s in _TIME_STEPS if (end - start) / s <= most), 0)
    if step == 0:  # months or years: whole weeks, as many as it takes to keep `most` labels
        step = 7 * DAY * math.ceil((end - start) / (most * 7 * DAY))
    moments = [float(t) for t in range(math.ceil(start / step) * step, math.floor(end) + 1, step)] or [start]
    shown, last_day = [], None
    for moment in moments:
        when = datetime.fromtimestamp(moment, UTC)
        if step > 28 * DAY:  # more than half a year: the year too
            text = f"{_day(when.date())} {when.year}"
        elif step >= DAY:
            text = _day(when.date())
        else:
            clock = when.strftime("%H:%M:%S" if step < 60 else "%H:%M")
            text = clock if when.date() == last_day else f"{_day(when.date())} {clock}"
        shown.append((moment, text))
        last_day = when.date()
    return shown


def _day(day: date) -> str:
    return f"{day.day} {day:%b}"


def _scale(low: float, high: float, start: float, end: float) -> Callable[[float], float]:
    """The linear map from [low, high] onto [start, end], rounded to a tenth of a pixel."""
    span = (high - low) or 1

    def to(value: float) -> float:
        return round(start + (value - low) / span * (end - start), 1)

    return to
