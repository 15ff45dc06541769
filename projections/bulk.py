"""Bulk SQL for projectors: one statement for many rows, so a batch costs a few round trips, not one per event."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from eventstore import pgarray
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
    computed: dict[str, tuple[str, str]] | None = None,
) -> None:
    """INSERT rows, updating every non-key column on conflict (only where `guard`, an SQL condition on
    `t` (the existing row) and `EXCLUDED`, holds). `computed` maps a column to (the type of the value given,
    an SQL expression of it written with `{}`), for a column filled from another value (a tsvector from text).
    Two rows of one batch with the same key raise (PostgreSQL cannot update a row twice in one statement)."""
    if not rows:
        return
    updates = ", ".join(f"{column} = EXCLUDED.{column}" for column in columns if column not in conflict)
    cursor.execute(
        _insert_select(cursor, table, columns, computed or {})
        + f" ON CONFLICT ({', '.join(conflict)}) DO UPDATE SET {updates}"
        + (f" WHERE {guard}" if guard else ""),
        _by_column(rows),
    )


def insert_new(cursor: Any, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """INSERT rows, ignoring any that already exist (by any unique constraint)."""
    if not rows:
        return
    cursor.execute(_insert_select(cursor, table, columns, {}) + " ON CONFLICT DO NOTHING", _by_column(rows))


# Rows travel as one array per column, unnested on the server: the statement's text is the same for any
# number of rows, so psycopg parses it once and PostgreSQL can prepare it. With a VALUES tuple per row, a
# batch of 500 ledger entries was 5,500 placeholders that psycopg split anew for every batch: a third of a
# rebuild's time (bench B7, under cProfile).
_column_types: dict[str, dict[str, str]] = {}


def _insert_select(cursor: Any, table: str, columns: Sequence[str], computed: dict[str, tuple[str, str]]) -> str:
    types = _types(cursor, table, columns)
    arrays = ", ".join(f"%s::{computed[c][0] if c in computed else types[c]}[]" for c in columns)
    values = ", ".join(computed[c][1].format(f"u.{c}") if c in computed else f"u.{c}" for c in columns)
    listed = ", ".join(columns)
    return f"INSERT INTO {table} AS t ({listed}) SELECT {values} FROM unnest({arrays}) AS u({listed})"


def _types(cursor: Any, table: str, columns: Sequence[str]) -> dict[str, str]:
    """{column: SQL type} of `table`, read once per process (a shadow table has its live table's types) and
    again when a column is missing (a migration added it). The types carry no length or precision: the
    arrays are cast to the base type and the INSERT's assignment checks each value against the column, so
    a value too long for it raises, as it would in a VALUES list, instead of an explicit cast cutting it."""
    types = _column_types.get(table)
    if types is None or not all(column in types for column in columns):
        cursor.execute(
            "SELECT attname, format_type(atttypid, NULL) FROM pg_attribute"
            " WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
            [table],
        )
        types = _column_types[table] = dict(cursor.fetchall())
    return types


def _by_column(rows: Sequence[Sequence[Any]]) -> list[str]:
    """One array literal per column (eventstore.pgarray), in the rows' column order; `rows` is not empty."""
    return [pgarray.any_array(values) for values in zip(*rows, strict=True)]


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
    """Fold each stream's events into its row (`rows` and the answer are keyed by `account_id`, a UUID);
    returns only the rows that changed. `step(row, recorded)` returns the new row, with its `account_id` and
    `version`; `rows` is left as it was.

    Each event must be its row's next version (1 for a row that does not exist yet); anything else raises
    OutOfOrder, so a row never skips an event nor counts one twice. With `replay`, an event the row already
    reflects is skipped instead.
    """
    # Keyed by the UUID's integer inside: uuid.UUID hashes and compares in Python, an int in C (a tenth of
    # a rebuild's time went to UUID.__hash__ and __eq__ here, bench B7).
    current = {key.int: row for key, row in rows.items()}
    changed: dict[int, dict[str, Any]] = {}
    for recorded in events:
        key = recorded.event.account_id.int  # type: ignore[attr-defined]
        row = current.get(key)
        reflected = row["version"] if row is not None else 0
        if recorded.version != reflected + 1:
            if replay and recorded.version <= reflected:
                continue
            raise OutOfOrder(recorded, f"its row reflects version {reflected}")
        current[key] = changed[key] = step(row, recorded)
    return {row["account_id"]: row for row in changed.values()}
