"""Bulk SQL for projectors: one statement for many rows, so a batch costs a few round trips, not one per event."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from eventstore.records import Recorded
from projections.projector import OutOfOrder


def upsert(
    cursor: Any,
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    conflict: Sequence[str],
    guard: str = "",
    casts: dict[str, str] | None = None,
) -> None:
    """INSERT rows, updating every non-key column on conflict (only where `guard`, an SQL condition on
    `t` (the existing row) and `EXCLUDED`, holds). `casts` maps a column to a placeholder expression."""
    if not rows:
        return
    casts = casts or {}
    placeholder = "(" + ", ".join(casts.get(column, "%s") for column in columns) + ")"
    updates = ", ".join(f"{column} = EXCLUDED.{column}" for column in columns if column not in conflict)
    sql = (
        f"INSERT INTO {table} AS t ({', '.join(columns)}) VALUES {', '.join([placeholder] * len(rows))}"
        f" ON CONFLICT ({', '.join(conflict)}) DO UPDATE SET {updates}" + (f" WHERE {guard}" if guard else "")
    )
    cursor.execute(sql, [value for row in rows for value in row])


def insert_new(cursor: Any, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """INSERT rows, ignoring any that already exist (by any unique constraint)."""
    if not rows:
        return
    placeholder = "(" + ", ".join(["%s"] * len(columns)) + ")"
    cursor.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([placeholder] * len(rows))}"
        " ON CONFLICT DO NOTHING",
        [value for row in rows for value in row],
    )


def fetch_by_ids(
    cursor: Any, table: str, columns: Sequence[str], key: str, ids: Sequence[Any]
) -> dict[Any, dict[str, Any]]:
    """Rows whose `key` is in `ids`, as {key: {column: value}}."""
    if not ids:
        return {}
    cursor.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE {key} = ANY(%s)", [list(ids)])
    return {row[columns.index(key)]: dict(zip(columns, row, strict=True)) for row in cursor.fetchall()}


def account_rows(
    cursor: Any, table: str, columns: Sequence[str], events: Sequence[Recorded]
) -> dict[Any, dict[str, Any]]:
    """The rows (keyed by `account_id`) of the accounts these events belong to."""
    ids = list({recorded.event.account_id for recorded in events})  # type: ignore[attr-defined]
    return fetch_by_ids(cursor, table, columns, "account_id", ids)


def upsert_account_rows(cursor: Any, table: str, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
    """Write rows keyed by `account_id`, never over a row that reflects a later stream version."""
    upsert(
        cursor,
        table,
        columns,
        [tuple(row[c] for c in columns) for row in rows],
        conflict=("account_id",),
        guard="t.version < EXCLUDED.version",
    )


def evolve_rows(
    events: Sequence[Recorded],
    rows: dict[Any, dict[str, Any]],
    step: Callable[[dict[str, Any] | None, Recorded], dict[str, Any]],
    *,
    replay: bool = False,
) -> dict[Any, dict[str, Any]]:
    """Fold each stream's events into its row (keyed by the event's `account_id`); returns only the rows that
    changed. `step(row, recorded)` returns the new row, with its `version`.

    Each event must be its row's next version (1 for a row that does not exist yet); anything else raises
    OutOfOrder, so a row never skips an event nor counts one twice. With `replay`, an event the row already
    reflects is skipped instead.
    """
    changed: dict[Any, dict[str, Any]] = {}
    for recorded in events:
        key = recorded.event.account_id  # type: ignore[attr-defined]
        row = rows.get(key)
        reflected = row["version"] if row is not None else 0
        if recorded.version != reflected + 1:
            if replay and recorded.version <= reflected:
                continue
            raise OutOfOrder(recorded, f"its row reflects version {reflected}")
        rows[key] = changed[key] = step(row, recorded)
    return changed
