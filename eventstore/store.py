"""Append events to streams and read them back.

Guarantees (docs/architecture.md; each has a test in tests/eventstore):
- Optimistic concurrency: a stream only grows from the version the writer expected; a conflict raises
  `ConcurrencyError` and writes nothing. `UNIQUE (stream_id, version)` is the final arbiter, so this holds at
  any isolation level.
- Atomic multi-stream append: `append_streams` writes all streams or none.
- One global order: an event's position is its transaction's id * 2^20 + its index in the transaction.
  Readers see events in position order and only below the horizon (`events_horizon()`: nothing can ever
  commit below it), so a reader never skips a late commit, positions only go up, and one position is a
  complete checkpoint. An append from a transaction older than the writer of a stream's head raises
  `StaleTransaction` (run the command again in a new transaction), so every stream's versions are in
  position order too. Writers on different streams never wait for each other.
- Append-only: this module only INSERTs and SELECTs `events`; triggers reject UPDATE, DELETE and TRUNCATE.
- Snapshots are checked on load: one whose digest does not match the hash of the event at its version is
  ignored (and logged); the stream is folded from an older snapshot or from its first event.

Every function runs in the caller's transaction when there is one, else in its own.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

import orjson
from django.conf import settings
from django.db import connection

from eventstore import personal
from eventstore.codec import CodecError, codec, dump
from eventstore.cursors import prepared
from eventstore.hashchain import event_body
from eventstore.pgarray import bytea_array, int_array, text_array
from eventstore.records import (
    AppendResult,
    ConcurrencyError,
    Metadata,
    Recorded,
    SnapshotState,
    StaleTransaction,
    StoredSnapshot,
    StreamAppend,
    StreamHistory,
    UndecodableEvent,
    event_json,
)

log = logging.getLogger(__name__)
_COLUMNS = "position, stream_id, version, type, schema_version, data, metadata, recorded_at, hash"
# Events no reader can be overtaken on: below the horizon, nothing can commit any more (migration 0003).
_FINAL = "position < events_horizon()"
# A batch in position order: the first `limit` rows after the reader's position, then those below the horizon
# (a prefix of them, since both cut the same order). With the horizon in the index condition the planner,
# which cannot estimate it, scanned every row after the reader's position into a sort: 100 ms for a batch of
# 500 at 100,000 events, so a rebuild grew with the square of the log. (SELECT ...) evaluates it once.
_BATCH = (
    f"SELECT * FROM (SELECT {_COLUMNS} FROM events WHERE {{where}} ORDER BY position LIMIT %s) AS batch"
    " WHERE position < (SELECT events_horizon()) ORDER BY position"
)
_SNAPSHOTS_TRIED = 3  # newest snapshots checked on load before folding from the first event
_STREAM_LOCKS = 0x5E7  # the first key of the advisory locks taken by lock_streams


def append(
    stream_id: str,
    events: Sequence[object],
    *,
    expected_version: int,
    metadata: Metadata | None = None,
    snapshot: SnapshotState | None = None,
    subject: str | None = None,
) -> AppendResult:
    """Append `events` to one stream that must be at `expected_version` (0: the stream must not exist).

    Raises ConcurrencyError (nothing written), StaleTransaction (nothing written; only a new transaction can
    append) or CodecError (an unregistered or unstorable event).
    `snapshot` is the aggregate's state after these events, kept when the snapshot policy says so.
    `subject` is the data subject whose key seals the personal fields (eventstore.personal); required when an
    event or the snapshot has any (ValueError otherwise, nothing written).
    """
    return append_streams([StreamAppend(stream_id, events, expected_version, snapshot, subject)], metadata=metadata)


def append_streams(appends: Sequence[StreamAppend], *, metadata: Metadata | None = None) -> AppendResult:
    """Append to several streams in one transaction: every stream must be at its expected version, and
    either all events are stored or none (ConcurrencyError names the first stream that conflicted).

    One statement, one round trip (the database function `events_append`): it checks the heads, refuses a
    stale transaction, numbers the positions, chains the hashes, inserts, and keeps due snapshots. A lost race
    is caught inside it, so a ConcurrencyError (or StaleTransaction) leaves the transaction usable.
    """
    if not appends or any(not item.events for item in appends):
        raise ValueError("append needs at least one event for every stream")
    if len({item.stream_id for item in appends}) != len(appends):
        raise ValueError("a stream may appear only once in one append")
    meta = (metadata or Metadata()).as_dict()
    types, schema_versions, data, bodies = [], [], [], []
    for item in appends:
        for version, event in enumerate(item.events, start=item.expected_version + 1):
            encoded = codec.encode(event)
            stored = _sealed(encoded.data, type(event), item.subject)
            types.append(encoded.type)
            schema_versions.append(encoded.schema_version)
            data.append(json.dumps(stored))
            bodies.append(
                event_body(
                    stream_id=item.stream_id,
                    version=version,
                    type=encoded.type,
                    schema_version=encoded.schema_version,
                    data=stored,
                    metadata=meta,
                )
            )
    snapshots = [_due_snapshot(item) for item in appends]
    # Server-bound (eventstore.cursors): the arrays travel as parameters instead of being quoted into the SQL
    # in Python, and the statement is prepared once per connection. The arrays are given as literals
    # (eventstore.pgarray): psycopg's per-list type discovery cost more than the rest of the client's work.
    with prepared() as cursor:
        cursor.execute(
            "SELECT out_stream_id, out_version, out_position, out_recorded_at, out_conflict"
            " FROM events_append(%s::text[], %s::integer[], %s::integer[], %s::text[], %s::smallint[],"
            " %s::jsonb[], %s::bytea[], %s::jsonb, %s::jsonb[], %s::smallint[])",
            [
                text_array(item.stream_id for item in appends),
                int_array(item.expected_version for item in appends),
                int_array(len(item.events) for item in appends),
                text_array(types),
                int_array(schema_versions),
                text_array(data),
                bytea_array(bodies),
                json.dumps(meta),
                text_array(state for state, _ in snapshots),
                int_array(schema for _, schema in snapshots),
            ],
        )
        rows = cursor.fetchall()
    stream_id, version, _, recorded_at, conflict = rows[0]
    if conflict == "stale":
        raise StaleTransaction(stream_id, version)
    if conflict:
        expected = next(item.expected_version for item in appends if item.stream_id == stream_id)
        raise ConcurrencyError(stream_id, expected, version)
    return AppendResult({row[0]: row[1] for row in rows}, max(row[2] for row in rows), recorded_at)


def lock_streams(stream_ids: Sequence[str]) -> None:
    """Make later writers to these streams wait until this transaction ends (a transaction-scoped advisory
    lock per stream; no write, so it does not give the transaction an id).

    For services about to load, decide and append: same-stream commands then queue instead of losing the
    race and retrying, and writers on other streams never wait. Keys are taken in one global order (by hash),
    so two transactions locking overlapping sets cannot deadlock. A wait past lock_timeout raises
    OperationalError (lock_not_available). Outside a transaction it has no effect.
    """
    with prepared() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, key) FROM"
            " (SELECT DISTINCT hashtext(stream) AS key FROM unnest(%s::text[]) AS stream ORDER BY key) AS keys",
            [_STREAM_LOCKS, text_array(stream_ids)],
        )


def _due_snapshot(item: StreamAppend) -> tuple[str | None, int | None]:
    """The state to keep when this append crosses a multiple of LEDGER_SNAPSHOT_EVERY, else (None, None)."""
    every = settings.LEDGER_SNAPSHOT_EVERY
    after = item.expected_version + len(item.events)
    if item.snapshot is None or after // every == item.expected_version // every:
        return None, None
    state = item.snapshot.state
    return json.dumps(_sealed(dump(state), type(state), item.subject)), item.snapshot.schema


def _sealed(data: dict[str, Any], cls: type, subject: str | None) -> dict[str, Any]:
    """`data` as stored: its personal fields sealed under the subject's key (eventstore.personal)."""
    if not (fields := personal.personal_fields(cls)):
        return data
    if subject is None:
        raise ValueError(f"{cls.__name__} holds personal data: append it with a subject")
    return personal.seal(data, fields, subject)


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
    where = " AND ".join(bounds)
    with prepared() as cursor:
        if snapshot_schema is None:
            cursor.execute(f"SELECT {_COLUMNS} FROM events WHERE {where} ORDER BY version", params)
            snapshot, events = None, [_recorded(row) for row in cursor.fetchall()]
        else:
            snapshot, events = _snapshot_and_tail(
                cursor, stream_id, where, params, until_version, until_time, snapshot_schema
            )
    after = snapshot.version if snapshot else 0
    version = events[-1].version if events else after
    return StreamHistory(stream_id, version, snapshot, events)


def load_range(stream_id: str, *, after_version: int, limit: int) -> list[Recorded]:
    """Up to `limit` events of one stream after `after_version`, in version order (for paging a stream)."""
    with prepared() as cursor:
        cursor.execute(
            f"SELECT {_COLUMNS} FROM events WHERE stream_id = %s AND version > %s ORDER BY version LIMIT %s",
            [stream_id, after_version, limit],
        )
        return [_recorded(row) for row in cursor.fetchall()]


def read_all(after: int = 0, limit: int = 1000) -> list[Recorded]:
    """Up to `limit` events with positions above `after`, in position order, below the horizon.

    `after` is any position (0 for the start), normally the last one a reader has seen: resuming from it
    never skips nor repeats an event, because no event can ever appear at or below a position returned.
    """
    with prepared() as cursor:
        cursor.execute(
            _BATCH.format(where="position > %s"),
            [after, limit],
        )
        return _decode_all(cursor.fetchall())


def read_stored(after: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
    """Like read_all, but the stored rows as JSON (`records.event_json`), not decoded: for an export, which
    must carry every event whether or not this code can decode it."""
    with connection.cursor() as cursor:
        cursor.execute(
            _BATCH.format(where="position > %s"),
            [after, limit],
        )
        return [event_json(*row[:5], _json(row[5]), _json(row[6]), *row[7:]) for row in cursor.fetchall()]


def read_range(first: int, last: int, *, after: int = 0, limit: int = 1000) -> list[Recorded]:
    """Like read_all, but only events whose position lies in [first, last] (for replaying a range)."""
    with prepared() as cursor:
        cursor.execute(
            _BATCH.format(where="position BETWEEN %s AND %s AND position > %s"),
            [first, last, after, limit],
        )
        return _decode_all(cursor.fetchall())


def _decode_all(rows: list[tuple[Any, ...]]) -> list[Recorded]:
    """Decode rows in order; an undecodable one raises UndecodableEvent carrying the ones before it."""
    decoded: list[Recorded] = []
    for row in rows:
        try:
            decoded.append(_recorded(row))
        except CodecError as exc:
            position, stream_id, version, type_name = row[:4]
            raise UndecodableEvent(position, stream_id, version, type_name, exc, decoded) from exc
    return decoded


def find(
    *,
    type: str = "",
    stream_id: str = "",
    user: str = "",
    correlation_id: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    before_position: int | None = None,
    limit: int = 50,
) -> list[Recorded]:
    """Events matching every filter given, newest first (the audit log). Empty filters match everything;
    `stream_id` matches a stream name or an account id inside it."""
    where: list[str] = ["TRUE"]
    params: list[Any] = []
    for clause, value in (
        ("type = %s", type),
        ("stream_id LIKE %s", f"%{stream_id}%" if stream_id else ""),
        ("metadata->>'user' = %s", user),
        ("metadata->>'correlation_id' = %s", correlation_id),
    ):
        if value:
            where.append(clause)
            params.append(value)
    for clause, moment in (("recorded_at >= %s", since), ("recorded_at < %s", until)):
        if moment is not None:
            where.append(clause)
            params.append(moment)
    if before_position is not None:
        where.append("position < %s")
        params.append(before_position)
    with prepared() as cursor:
        cursor.execute(
            f"SELECT {_COLUMNS} FROM events WHERE {' AND '.join(where)} ORDER BY position DESC LIMIT %s",
            [*params, limit],
        )
        return _decode_all(cursor.fetchall())


def streams_with(type_name: str, field: str, value: str) -> list[str]:
    """Every stream holding an event of `type_name` whose (unsealed) data `field` equals `value`, sorted.
    A scan of that event type: for rare operator work such as finding a customer's accounts."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT stream_id FROM events WHERE type = %s AND data->>%s = %s ORDER BY stream_id",
            [type_name, field, value],
        )
        return [stream_id for (stream_id,) in cursor.fetchall()]


def head_position() -> int:
    """The position of the last event a reader can see now (0 for an empty store)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT coalesce(max(position), 0) FROM events WHERE {_FINAL}")
        return int(cursor.fetchone()[0])


def backlog(after: int) -> tuple[int, datetime | None]:
    """How many events a reader at `after` has still to read, and when the oldest of them was recorded."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*), min(recorded_at) FROM events WHERE position > %s AND {_FINAL}",
            [after],
        )
        count, oldest = cursor.fetchone()
    return int(count), oldest


def count_between(after: int, before: int) -> int:
    """How many events a reader can see now with `after < position < before`."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM events WHERE position > %s AND position < %s AND {_FINAL}", [after, before]
        )
        return int(cursor.fetchone()[0])


def last_position(stream_id: str) -> int:
    """The global position of the stream's last event (0 for a stream with none)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(position), 0) FROM events WHERE stream_id = %s", [stream_id])
        return int(cursor.fetchone()[0])


def _snapshot_and_tail(
    cursor: Any,
    stream_id: str,
    where: str,
    params: list[Any],
    until_version: int | None,
    until_time: datetime | None,
    schema: int,
) -> tuple[StoredSnapshot | None, list[Recorded]]:
    """In one statement (one round trip): the newest snapshot of `schema` whose event lies inside the bounds (so
    a temporal query never sees a later state) and whose digest matches that event's hash, and the events after
    it. Every newer snapshot that does not match is logged; the statement reads no event it could skip."""
    cursor.execute(
        "WITH snap AS (SELECT s.version, s.state, s.state_schema, e.position, e.recorded_at,"
        " e.hash IS NOT NULL AND s.digest = snapshot_digest(e.hash, s.state_schema, s.state) AS valid,"
        f" {_SEALING_KEYS} AS keys"
        " FROM snapshots s LEFT JOIN events e ON e.stream_id = s.stream_id AND e.version = s.version"
        " WHERE s.stream_id = %s AND s.state_schema = %s AND s.version <= %s"
        " AND (%s::timestamptz IS NULL OR e.recorded_at IS NULL OR e.recorded_at <= %s::timestamptz)"
        " ORDER BY s.version DESC LIMIT %s),"
        " base AS (SELECT coalesce(max(version) FILTER (WHERE valid), 0) AS after FROM snap)"
        " SELECT false, position, %s, version, NULL, state_schema, state, NULL, recorded_at, NULL, valid, keys"
        " FROM snap WHERE version >= (SELECT after FROM base)"
        " UNION ALL"
        f" SELECT true, {_COLUMNS}, NULL, NULL FROM events WHERE {where} AND version > (SELECT after FROM base)"
        " ORDER BY 1, 4",
        [stream_id, schema, until_version if until_version is not None else 2**31 - 1, until_time, until_time,
         _SNAPSHOTS_TRIED, stream_id, *params],
    )  # fmt: skip
    snapshot, events = None, []
    for is_event, *row in cursor.fetchall():
        if is_event:
            events.append(_recorded(tuple(row[:9])))
            continue
        position, _, version, _, state_schema, state, _, recorded_at, _, valid, keys = row
        if valid and snapshot is None:
            opened = personal.unseal(_json(state), _keys(keys))
            snapshot = StoredSnapshot(version, opened, state_schema, position, recorded_at)
        elif not valid:
            log.warning(
                "snapshot ignored: it does not match its stream",
                extra={"stream_id": stream_id, "version": version, "state_schema": state_schema},
            )
    return snapshot, events


# The keys that open a snapshot's sealed values, read in the snapshot's statement ({key id: base64 key, or
# null once destroyed}): a round trip fewer for every command on an account (bench B2).
_SEALING_KEYS = (
    "(SELECT jsonb_object_agg(k.id, encode(k.key, 'base64')) FROM personal_keys k WHERE k.id IN"
    " (SELECT (v->>'key')::bigint FROM jsonb_each(s.state) AS f(name, v)"
    " WHERE jsonb_typeof(v) = 'object' AND v->>'sealed' = '1'))"
)


def _keys(found: Any) -> dict[int, bytes | None]:
    return {int(key_id): base64.b64decode(key) if key else None for key_id, key in (_json(found) or {}).items()}


def _json(value: Any) -> Any:
    # orjson: parsing was a third of loading a long stream with the standard library (bench B5); the values
    # come back as the same Python types (the amounts are integers of cents, well inside 64 bits).
    return orjson.loads(value) if isinstance(value, str) else value


def _opened(value: Any) -> dict[str, Any]:
    """An event's data as stored, with sealed values opened; the per-field check runs only when the text can
    hold a sealed value at all (most events cannot)."""
    if isinstance(value, str) and personal.MARKER not in value:
        return cast(dict[str, Any], orjson.loads(value))
    return personal.unseal(_json(value))


def _recorded(row: tuple[Any, ...]) -> Recorded:
    (
        position,
        stream_id,
        version,
        type_,
        schema_version,
        data,
        metadata,
        recorded_at,
        hash_,
    ) = row
    data, metadata = _opened(data), _json(metadata)  # shown and decoded as opened
    return Recorded(
        position=position,
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
