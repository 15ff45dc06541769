"""Append events to streams and read them back.

Guarantees (DESIGN.md section 4; each has a test in tests/eventstore):
- Optimistic concurrency: a stream only grows from the version the writer expected; a conflict raises
  `ConcurrencyError` and writes nothing. `UNIQUE (stream_id, version)` is the final arbiter, so this holds at
  any isolation level.
- Atomic multi-stream append: `append_streams` writes all streams or none.
- No reader skips a late commit: `read_all` returns events in (transaction_id, position) order and only those
  written by transactions older than every transaction still running (the horizon). A writer that commits
  late therefore delays readers; it is never overtaken. Writers never wait for each other.
- Append-only: this module only INSERTs and SELECTs `events`; triggers reject UPDATE, DELETE and TRUNCATE.

Every function runs in the caller's transaction when there is one (appends use a savepoint), else in its own.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction

from eventstore.codec import codec, dump
from eventstore.hashchain import GENESIS, canonical_bytes, chain_hash
from eventstore.records import (
    ORIGIN,
    AppendResult,
    Checkpoint,
    ConcurrencyError,
    Metadata,
    Recorded,
    SnapshotState,
    StoredSnapshot,
    StreamAppend,
    StreamHistory,
    UnknownPosition,
)

_COLUMNS = (
    "position, transaction_id, stream_id, version, type, schema_version, data, metadata, recorded_at, hash"
)
_HORIZON = "pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
_LOCK_NOT_AVAILABLE = "55P03"


def append(
    stream_id: str,
    events: Sequence[object],
    *,
    expected_version: int,
    metadata: Metadata | None = None,
    snapshot: SnapshotState | None = None,
) -> AppendResult:
    """Append `events` to one stream that must be at `expected_version` (0: the stream must not exist).

    Raises ConcurrencyError (nothing written) or CodecError (an unregistered or unstorable event).
    `snapshot` is the aggregate's state after these events, kept when the snapshot policy says so.
    """
    return append_streams([StreamAppend(stream_id, events, expected_version, snapshot)], metadata=metadata)


def append_streams(appends: Sequence[StreamAppend], *, metadata: Metadata | None = None) -> AppendResult:
    """Append to several streams in one transaction: every stream must be at its expected version, and
    either all events are stored or none (ConcurrencyError names the first stream that conflicted)."""
    if not appends or any(not item.events for item in appends):
        raise ValueError("append needs at least one event for every stream")
    if len({item.stream_id for item in appends}) != len(appends):
        raise ValueError("a stream may appear only once in one append")
    meta = (metadata or Metadata()).as_dict()
    encoded = [[codec.encode(event) for event in item.events] for item in appends]
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            heads, now = _stream_heads(cursor, [item.stream_id for item in appends])
            for item in appends:
                if heads[item.stream_id][0] != item.expected_version:
                    raise ConcurrencyError(item.stream_id, item.expected_version, heads[item.stream_id][0])
            rows, versions = _rows(appends, encoded, heads, meta, now)
            cursor.execute(_insert_sql(len(rows)), [value for row in rows for value in row])
            written = cursor.fetchall()
            _save_due_snapshots(cursor, appends, heads, versions)
    except IntegrityError:
        raise _conflict(appends) from None
    except DatabaseError as exc:
        # A concurrent writer of the same version held us past lock_timeout: the same conflict, seen early.
        if getattr(getattr(exc, "__cause__", None), "sqlstate", None) == _LOCK_NOT_AVAILABLE:
            raise _conflict(appends) from None
        raise
    position, transaction_id = max(written)
    return AppendResult(versions, position, Checkpoint(transaction_id, position), now)


def load(
    stream_id: str,
    *,
    until_version: int | None = None,
    until_time: datetime | None = None,
    snapshot_schema: int | None = None,
) -> StreamHistory:
    """The stream's events, optionally only up to a version and/or a time (a temporal query).

    With `snapshot_schema`, the newest snapshot of that state schema inside the bounds is returned too, and
    `events` holds only the events after it; snapshots of any other schema are ignored. A stream that does
    not exist loads as version 0 with no events.
    """
    bounds: list[str] = ["stream_id = %s"]
    params: list[Any] = [stream_id]
    if until_version is not None:
        bounds.append("version <= %s")
        params.append(until_version)
    if until_time is not None:
        bounds.append("recorded_at <= %s")
        params.append(until_time)
    with connection.cursor() as cursor:
        snapshot = _newest_snapshot(cursor, bounds, params, snapshot_schema)
        after = snapshot.version if snapshot else 0
        where = " AND ".join(bounds)
        cursor.execute(
            f"SELECT {_COLUMNS} FROM events WHERE {where} AND version > %s ORDER BY version", [*params, after]
        )
        events = [_recorded(row) for row in cursor.fetchall()]
    version = events[-1].version if events else after
    return StreamHistory(stream_id, version, snapshot, events)


def read_all(after: Checkpoint | int = ORIGIN, limit: int = 1000) -> list[Recorded]:
    """Up to `limit` events after `after`, in reader order, written by transactions that have all finished.

    `after` is a Checkpoint, or the position of an event already read (0 for the start); a position that
    names no event raises UnknownPosition. Resuming from the last returned event never skips nor repeats one.
    """
    start = checkpoint_of(after) if isinstance(after, int) else after
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_COLUMNS} FROM events WHERE (transaction_id, position) > (%s, %s)"
            f" AND transaction_id < {_HORIZON} ORDER BY transaction_id, position LIMIT %s",
            [start.transaction_id, start.position, limit],
        )
        return [_recorded(row) for row in cursor.fetchall()]


def head() -> Checkpoint:
    """The checkpoint of the last event a reader can see now (ORIGIN for an empty store)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT transaction_id, position FROM events WHERE transaction_id < {_HORIZON}"
            " ORDER BY transaction_id DESC, position DESC LIMIT 1"
        )
        row = cursor.fetchone()
    return Checkpoint(*row) if row else ORIGIN


def head_position() -> int:
    """The position of the last event a reader can see now (0 for an empty store)."""
    return head().position


def checkpoint_of(position: int) -> Checkpoint:
    """The reader checkpoint of a stored event, so a position can be used to resume or to compare."""
    if position == 0:
        return ORIGIN
    with connection.cursor() as cursor:
        cursor.execute("SELECT transaction_id FROM events WHERE position = %s", [position])
        row = cursor.fetchone()
    if row is None:
        raise UnknownPosition(f"no event is stored at position {position}")
    return Checkpoint(row[0], position)


def _stream_heads(cursor: Any, stream_ids: list[str]) -> tuple[dict[str, tuple[int, str]], datetime]:
    """Each stream's (version, hash) now, and the database clock for `recorded_at`, in one round trip."""
    cursor.execute(
        "SELECT s.stream_id, coalesce(e.version, 0), coalesce(e.hash, ''), statement_timestamp()"
        " FROM unnest(%s::text[]) AS s(stream_id) LEFT JOIN LATERAL ("
        "   SELECT version, hash FROM events WHERE events.stream_id = s.stream_id"
        "   ORDER BY version DESC LIMIT 1"
        " ) e ON true",
        [stream_ids],
    )
    rows = cursor.fetchall()
    return {stream: (version, hash_ or GENESIS) for stream, version, hash_, _ in rows}, rows[0][3]


def _rows(
    appends: Sequence[StreamAppend],
    encoded: list[list[Any]],
    heads: dict[str, tuple[int, str]],
    meta: dict[str, Any],
    now: datetime,
) -> tuple[list[tuple[Any, ...]], dict[str, int]]:
    rows, versions = [], {}
    for item, stream_events in zip(appends, encoded, strict=True):
        version, previous = heads[item.stream_id]
        for event in stream_events:
            version += 1
            previous = chain_hash(
                previous,
                canonical_bytes(
                    stream_id=item.stream_id,
                    version=version,
                    type=event.type,
                    schema_version=event.schema_version,
                    data=event.data,
                    metadata=meta,
                    recorded_at=now,
                ),
            )
            rows.append(
                (item.stream_id, version, event.type, event.schema_version, json.dumps(event.data),
                 json.dumps(meta), now, previous)
            )  # fmt: skip
        versions[item.stream_id] = version
    return rows, versions


def _insert_sql(count: int) -> str:
    values = ", ".join(["(%s, %s, %s, %s, %s::jsonb, %s::jsonb, %s, %s)"] * count)
    return (
        "INSERT INTO events (stream_id, version, type, schema_version, data, metadata, recorded_at, hash)"
        f" VALUES {values} RETURNING position, transaction_id"
    )


def _save_due_snapshots(
    cursor: Any, appends: Sequence[StreamAppend], heads: dict[str, tuple[int, str]], versions: dict[str, int]
) -> None:
    """Keep a snapshot whenever a stream crosses a multiple of LEDGER_SNAPSHOT_EVERY events."""
    every = settings.LEDGER_SNAPSHOT_EVERY
    for item in appends:
        before, after = heads[item.stream_id][0], versions[item.stream_id]
        if item.snapshot is None or after // every == before // every:
            continue
        cursor.execute(
            "INSERT INTO snapshots (stream_id, version, state_schema, state, created_at)"
            " VALUES (%s, %s, %s, %s::jsonb, now()) ON CONFLICT DO NOTHING",
            [item.stream_id, after, item.snapshot.schema, json.dumps(dump(item.snapshot.state))],
        )


def _newest_snapshot(
    cursor: Any, bounds: list[str], params: list[Any], schema: int | None
) -> StoredSnapshot | None:
    if schema is None:
        return None
    # The snapshot's own event must lie inside the bounds, so a temporal query never sees a later state.
    where = " AND ".join(f"e.{bound}" for bound in bounds)
    cursor.execute(
        "SELECT s.version, s.state, s.state_schema FROM snapshots s JOIN events e"
        " ON e.stream_id = s.stream_id AND e.version = s.version"
        f" WHERE {where} AND s.state_schema = %s ORDER BY s.version DESC LIMIT 1",
        [*params, schema],
    )
    row = cursor.fetchone()
    return StoredSnapshot(row[0], _json(row[1]), row[2]) if row else None


def _conflict(appends: Sequence[StreamAppend]) -> ConcurrencyError:
    """After a lost race: the first stream whose committed version differs from what the writer expected."""
    with connection.cursor() as cursor:
        heads, _ = _stream_heads(cursor, [item.stream_id for item in appends])
    for item in appends:
        if heads[item.stream_id][0] != item.expected_version:
            return ConcurrencyError(item.stream_id, item.expected_version, heads[item.stream_id][0])
    # The winner has not committed yet (we timed out waiting for it): report the version we expected + 1.
    first = appends[0]
    return ConcurrencyError(first.stream_id, first.expected_version, first.expected_version + 1)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _recorded(row: tuple[Any, ...]) -> Recorded:
    (
        position,
        transaction_id,
        stream_id,
        version,
        type_,
        schema_version,
        data,
        metadata,
        recorded_at,
        hash_,
    ) = row
    data, metadata = _json(data), _json(metadata)
    return Recorded(
        position=position,
        transaction_id=transaction_id,
        stream_id=stream_id,
        version=version,
        type=type_,
        schema_version=schema_version,
        event=codec.decode(type_, schema_version, data),
        data=data,
        metadata=metadata,
        recorded_at=recorded_at,
        hash=hash_,
    )
