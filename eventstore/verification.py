"""Re-check the event store's guarantees over every stored row (`manage.py verify_eventstore`).

Checks: versions contiguous from 1 in every stream, positions unique, every event decodes (with upcasting)
to a registered type, and every event's hash matches its canonical bytes and its predecessor's hash.
Reads in keyset-paginated batches, so memory stays flat however large the store is.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from eventstore.codec import CodecError, codec
from eventstore.hashchain import GENESIS, chain_hash, event_body

BATCH = 5000


@dataclass(frozen=True, slots=True)
class Problem:
    stream_id: str
    version: int | None
    position: int | None
    problem: str


@dataclass(slots=True)
class Report:
    events: int = 0
    streams: int = 0
    problems: list[Problem] = field(default_factory=list)
    fingerprint: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(progress: Callable[[int], None] | None = None) -> Report:
    """Check every stored event; `progress(events_checked)` is called after each batch."""
    report = Report()
    report.problems.extend(_duplicate_positions())
    heads = hashlib.sha256()
    stream, expected_version, previous = None, 0, GENESIS
    for row in _rows():
        stream_id, version = row[1], row[2]
        if stream_id != stream:
            if stream is not None:
                heads.update(f"{stream}:{previous}\n".encode())
            stream, expected_version, previous = stream_id, 0, GENESIS
            report.streams += 1
        expected_version += 1
        report.events += 1
        report.problems.extend(_check(row, expected_version, previous))
        expected_version, previous = version, row[-1]
        if progress and report.events % BATCH == 0:
            progress(report.events)
    if stream is not None:
        heads.update(f"{stream}:{previous}\n".encode())
    report.fingerprint = heads.hexdigest()
    return report


def _check(row: tuple[Any, ...], expected_version: int, previous: str) -> Iterator[Problem]:
    position, stream_id, version, type_, schema_version, data, metadata, recorded_at, hash_ = row

    def problem(text: str) -> Problem:
        return Problem(stream_id, version, position, text)

    if version != expected_version:
        yield problem(f"version gap: expected version {expected_version}, found {version}")
    try:
        codec.decode(type_, schema_version, data)
    except CodecError as exc:
        yield problem(f"does not decode: {exc}")
    body = event_body(
        stream_id=stream_id,
        version=version,
        type=type_,
        schema_version=schema_version,
        data=data,
        metadata=metadata,
    )
    expected = chain_hash(previous, body, recorded_at)
    if expected != hash_:
        yield problem("hash mismatch: the event or its predecessor was altered")


def _rows() -> Iterator[tuple[Any, ...]]:
    last: tuple[str, int] = ("", 0)
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT position, stream_id, version, type, schema_version, data, metadata, recorded_at, hash"
                " FROM events WHERE (stream_id, version) > (%s, %s) ORDER BY stream_id, version LIMIT %s",
                [*last, BATCH],
            )
            rows = cursor.fetchall()
        for row in rows:
            data, metadata = (json.loads(v) if isinstance(v, str) else v for v in (row[5], row[6]))
            yield (*row[:5], data, metadata, *row[7:])
        if len(rows) < BATCH:
            return
        last = (rows[-1][1], rows[-1][2])


def _duplicate_positions() -> list[Problem]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT position, count(*) FROM events GROUP BY position HAVING count(*) > 1")
        return [Problem("", None, pos, f"position used {count} times") for pos, count in cursor.fetchall()]
