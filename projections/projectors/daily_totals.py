"""Totals per day (UTC) and currency: deposits, withdrawals, transfers and accounts opened. Serves the
dashboard."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from commands.domain import accounts
from eventstore.records import Recorded
from projections.bulk import upsert
from projections.projector import OutOfOrder, Projector
from projections.target import Target

TABLE = "daily_totals"
COLUMNS = (
    "day",
    "currency",
    "deposits",
    "deposit_count",
    "withdrawals",
    "withdrawal_count",
    "transfers",
    "transfer_count",
    "accounts_opened",
    "last_position",
)
_COUNTED = (accounts.AccountOpened, accounts.FundsDeposited, accounts.FundsWithdrawn, accounts.TransferSent)


def apply(cursor: Any, events: Sequence[Recorded], target: Target, *, replay: bool = False) -> None:
    mine = [recorded for recorded in events if isinstance(recorded.event, _COUNTED)]
    if not mine:
        return
    table = target.table(TABLE)
    keys = {(recorded.recorded_at.date(), recorded.event.currency) for recorded in mine}  # type: ignore[attr-defined]
    rows = _current(cursor, table, keys)
    for recorded in mine:
        event: Any = recorded.event
        row = rows[(recorded.recorded_at.date(), event.currency)]
        if recorded.position <= row["last_position"]:
            # Sums are not idempotent by themselves: each row remembers the last event it counted.
            if replay:
                continue
            raise OutOfOrder(recorded, f"its day's totals already count position {row['last_position']}")
        _count(row, event)
        row["last_position"] = recorded.position
    upsert(
        cursor,
        table,
        COLUMNS,
        [tuple(row[c] for c in COLUMNS) for row in rows.values()],
        conflict=("day", "currency"),
        guard="t.last_position < EXCLUDED.last_position",
    )


def _count(row: dict[str, Any], event: Any) -> None:
    match event:
        case accounts.AccountOpened():
            row["accounts_opened"] += 1
        case accounts.FundsDeposited():
            row["deposits"] += event.amount
            row["deposit_count"] += 1
        case accounts.FundsWithdrawn():
            row["withdrawals"] += event.amount
            row["withdrawal_count"] += 1
        case accounts.TransferSent():  # counted once, on the sending side
            row["transfers"] += event.amount
            row["transfer_count"] += 1


def _current(cursor: Any, table: str, keys: set[tuple[Any, str]]) -> dict[tuple[Any, str], dict[str, Any]]:
    days, currencies = zip(*keys, strict=True)
    cursor.execute(
        f"SELECT {', '.join(COLUMNS)} FROM {table} t"
        " JOIN unnest(%s::date[], %s::text[]) AS k(day, currency) USING (day, currency)",
        [list(days), list(currencies)],
    )
    rows = {(row[0], row[1]): dict(zip(COLUMNS, row, strict=True)) for row in cursor.fetchall()}
    for day, currency in keys:
        rows.setdefault((day, currency), dict.fromkeys(COLUMNS, 0) | {"day": day, "currency": currency})
    return rows


PROJECTOR = Projector(
    name=TABLE,
    tables=(TABLE,),
    apply=apply,
    serves="the dashboard's daily totals",
    compare={TABLE: ("day", "currency")},
    ignore={TABLE: ("id", "last_position")},
)
