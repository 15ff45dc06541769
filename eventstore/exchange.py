"""Export the log as JSON lines, and import such a file into an empty store (`manage.py export_events` /
`import_events`).

A line is one event exactly as stored ({position, stream_id, version, type, schema_version, data, metadata,
recorded_at, hash}), in position order. Export reads below the horizon in batches: constant memory, and a
later export with `after` continues exactly where this one stopped.

Import checks the whole file first (valid JSON of that shape, positions rising, each stream's versions dense,
every hash chained from its predecessor's), then, in one transaction that keeps writers out, refuses a store
that is not empty, sets the position offset (migration 0004) so that this database's own appends come after
every imported position, and copies the rows in: positions, versions, payloads, metadata, recorded_at and
hashes as they were. Snapshots and read models are not part of the log: rebuild the read models afterwards.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from django.db import connection, transaction

from eventstore import personal, store
from eventstore.hashchain import GENESIS, chain_hash, event_body

BATCH = 5000
SLOTS = 1 << 20  # positions per transaction id (migration 0003)
_FIELDS = {
    "position": int,
    "stream_id": str,
    "version": int,
    "type": str,
    "schema_version": int,
    "data": dict,
    "metadata": dict,
    "recorded_at": str,
    "hash": str,
}
Progress = Callable[[int], None]


class ImportRefused(Exception):
    """The file or the store is not fit for an import; nothing was imported. `line` is 1-based (0: the store)."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}" if line else reason)
        self.line = line


@dataclass(frozen=True, slots=True)
class Imported:
    events: int
    streams: int
    last_position: int


def export(out: TextIO, *, after: int = 0, progress: Progress | None = None) -> int:
    """Write every event with a position above `after` as one JSON line; returns how many."""
    count = 0
    while rows := store.read_stored(after=after, limit=BATCH):
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
        count, after = count + len(rows), rows[-1]["position"]
        if progress:
            progress(count)
    return count


def count_after(after: int) -> int:
    """How many events an export from `after` would write now (for its progress bar)."""
    return store.count_between(after, 2**63 - 1)


def check(path: Path, progress: Progress | None = None) -> Imported:
    """Read the whole file and check it; raises ImportRefused naming the first bad line."""
    heads: dict[str, tuple[int, str]] = {}
    last_position, count = 0, 0
    for number, event in _lines(path):
        version, previous = heads.get(event["stream_id"], (0, GENESIS))
        if event["position"] <= last_position:
            raise ImportRefused(number, f"position {event['position']} does not come after {last_position}")
        if event["version"] != version + 1:
            raise ImportRefused(number, f"{event['stream_id']} version {event['version']} follows version {version}")
        if chain_hash(previous, _body(event), _moment(number, event)) != event["hash"]:
            raise ImportRefused(number, f"hash mismatch at {event['stream_id']} version {event['version']}: altered")
        heads[event["stream_id"]] = (event["version"], event["hash"])
        last_position, count = event["position"], count + 1
        if progress and count % BATCH == 0:
            progress(count)
    if not count:
        raise ImportRefused(0, f"{path} holds no events")
    return Imported(count, len(heads), last_position)


def load(path: Path, checked: Imported, progress: Progress | None = None, *, keys: Path | None = None) -> Imported:
    """Copy a file that `check` accepted (`checked` is its answer) into the store, in one transaction, with the
    personal-data keys of `keys` (eventstore.personal.export_keys); without them, sealed values read as erased.

    Raises ImportRefused when the store is not empty or the keys file is bad. The file is read a second time
    rather than held in memory: it may be larger."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE events IN EXCLUSIVE MODE")  # no append can slip in before the rows
        cursor.execute("SELECT EXISTS (SELECT 1 FROM events)")
        if cursor.fetchone()[0]:
            raise ImportRefused(0, "the event store is not empty: import only into a new database")
        cursor.execute(
            "UPDATE events_clock SET xid_offset = greatest(0, %s - pg_current_xact_id()::text::bigint) WHERE id = 1",
            [checked.last_position // SLOTS + 1],
        )
        _copy(path, progress)
        if keys is not None:
            with keys.open(encoding="utf-8") as lines:
                try:
                    personal.import_keys(lines)
                except ValueError as exc:
                    raise ImportRefused(0, str(exc)) from None
    return checked


def _copy(path: Path, progress: Progress | None) -> None:
    connection.ensure_connection()
    columns = ", ".join(_FIELDS)
    with connection.connection.cursor() as cursor, cursor.copy(f"COPY events ({columns}) FROM STDIN") as copy:
        for count, (number, event) in enumerate(_lines(path), start=1):
            row = {**event, "data": json.dumps(event["data"]), "metadata": json.dumps(event["metadata"])}
            row["recorded_at"] = _moment(number, event)
            copy.write_row([row[name] for name in _FIELDS])
            if progress and count % BATCH == 0:
                progress(count)


def _lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except ValueError as exc:
                raise ImportRefused(number, f"not JSON: {exc}") from None
            if not isinstance(event, dict) or set(event) != set(_FIELDS):
                raise ImportRefused(number, f"an event has exactly the fields {', '.join(_FIELDS)}")
            wrong = [name for name, kind in _FIELDS.items() if type(event[name]) is not kind]
            if wrong:
                raise ImportRefused(number, f"wrong type for {', '.join(wrong)}")
            yield number, event


def _body(event: dict[str, Any]) -> bytes:
    return event_body(
        stream_id=event["stream_id"],
        version=event["version"],
        type=event["type"],
        schema_version=event["schema_version"],
        data=event["data"],
        metadata=event["metadata"],
    )


def _moment(number: int, event: dict[str, Any]) -> datetime:
    try:
        moment = datetime.fromisoformat(event["recorded_at"])
    except ValueError:
        raise ImportRefused(number, f"recorded_at {event['recorded_at']!r} is not an ISO 8601 moment") from None
    if moment.tzinfo is None:
        raise ImportRefused(number, "recorded_at has no time zone")
    return moment
