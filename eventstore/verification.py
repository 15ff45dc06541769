"""Re-check the event store's guarantees over every stored row (`manage.py verify_eventstore`).

Checks, stream by stream in version order: versions contiguous from 1; positions unique and increasing with
the version (the global read order keeps each stream's order); every event decodes (with upcasting) to a
registered type; every hash matches its canonical bytes and its predecessor's hash; and every snapshot has
an event at its version, a digest that matches that event's hash, and the state that re-folding the stream
up to that version gives (eventstore.states). Reads in keyset-paginated batches, so memory stays flat.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from eventstore import personal, states
from eventstore.codec import CodecError, codec, dump
from eventstore.hashchain import GENESIS, chain_hash, event_body
from eventstore.heads import Heads

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
    snapshots: int = 0
    problems: list[Problem] = field(default_factory=list)
    fingerprint: str = ""
    heads: Heads = field(default_factory=dict)  # every stream's (last version, last hash), when asked for

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(slots=True)
class _Stream:
    """Where the pass stands in one stream."""

    stream_id: str
    snapshots: list[tuple[Any, ...]]  # (version, state_schema, state, digest matches), newest last
    version: int = 0
    position: int = -1
    hash: str = GENESIS
    folds: dict[int, tuple[states.StateFold, Any]] = field(default_factory=dict)  # schema -> (fold, state)


def verify(
    progress: Callable[[int], None] | None = None, *, keep_heads: bool = False, against: Heads | None = None
) -> Report:
    """Check every stored event and snapshot; `progress(events_checked)` is called after each batch.

    `keep_heads` fills `report.heads`. `against` (saved heads) adds a problem for every stream that no longer
    holds the saved hash at the saved version: rewritten, truncated or deleted since they were saved.
    """
    report = Report()
    saved = dict(against or {})
    report.problems.extend(_duplicate_positions())
    report.problems.extend(_orphan_snapshots(report))
    heads = hashlib.sha256()
    current: _Stream | None = None
    for batch in _batches():
        snapshots = _snapshots_of({row[1] for row in batch})
        for row in batch:
            if current is None or row[1] != current.stream_id:
                if current is not None:
                    _finish(current, report, heads, keep_heads, saved)
                folds = {fold.schema: (fold, fold.initial) for fold in states.for_stream(row[1])}
                current = _Stream(row[1], snapshots.get(row[1], [])[::-1], folds=folds)
                report.streams += 1
            report.events += 1
            report.problems.extend(_check(row, current))
            report.problems.extend(_check_snapshots(current, report))
            if saved.get(row[1], (0, ""))[0] == row[2] and saved.pop(row[1])[1] != row[-1]:
                report.problems.append(Problem(row[1], row[2], row[0], "differs from the saved head: rewritten"))
        if progress:
            progress(report.events)
    if current is not None:
        _finish(current, report, heads, keep_heads, saved)
    for stream_id, (version, _) in sorted(saved.items()):  # saved streams never met, or met too short
        report.problems.append(Problem(stream_id, version, None, "deleted: the saved stream no longer exists"))
    report.fingerprint = heads.hexdigest()
    return report


def _check(row: tuple[Any, ...], stream: _Stream) -> Iterator[Problem]:
    position, stream_id, version, type_, schema_version, data, metadata, recorded_at, hash_ = row

    def problem(text: str) -> Problem:
        return Problem(stream_id, version, position, text)

    if version != stream.version + 1:
        yield problem(f"version gap: expected version {stream.version + 1}, found {version}")
    if position <= stream.position:
        yield problem(
            f"read order: position {position} comes before the previous version's position {stream.position},"
            " so readers would see this stream out of order"
        )
    try:
        event = codec.decode(type_, schema_version, personal.unseal(data))
    except CodecError as exc:
        yield problem(f"does not decode: {exc}")
        stream.folds.clear()  # the states after this event cannot be known: check no snapshot past it
    else:
        for schema, (fold, state) in list(stream.folds.items()):
            try:
                stream.folds[schema] = (fold, fold.evolve(state, event))
            except Exception as exc:  # a fold that cannot take this event: snapshots past it are unknowable
                del stream.folds[schema]
                yield problem(f"state schema {schema} cannot fold this event: {exc!r}")
    body = event_body(
        stream_id=stream_id,
        version=version,
        type=type_,
        schema_version=schema_version,
        data=data,
        metadata=metadata,
    )
    if chain_hash(stream.hash, body, recorded_at) != hash_:
        yield problem("hash mismatch: the event or its predecessor was altered")
    stream.version, stream.position, stream.hash = version, position, hash_


def _check_snapshots(stream: _Stream, report: Report) -> Iterator[Problem]:
    """The stream's snapshots at or below its current version (one below it sits where an event is missing)."""
    while stream.snapshots and stream.snapshots[-1][0] <= stream.version:
        version, schema, state, digest_ok = stream.snapshots.pop()
        report.snapshots += 1

        def problem(text: str, version: int = version) -> Problem:
            return Problem(stream.stream_id, version, None, text)

        if version != stream.version:
            yield problem("snapshot at a version that has no event")
        elif not digest_ok:
            yield problem("snapshot digest does not match the event at its version (moved or edited)")
        elif schema in stream.folds and (folded := dump(stream.folds[schema][1])) != personal.unseal(_json(state)):
            yield problem(f"snapshot state differs from the fold of its stream at this version: {folded}")


def _finish(stream: _Stream, report: Report, heads: Any, keep_heads: bool, saved: Heads) -> None:
    for version, *_ in stream.snapshots:
        report.snapshots += 1
        report.problems.append(Problem(stream.stream_id, version, None, "snapshot beyond the stream's last event"))
    heads.update(f"{stream.stream_id}:{stream.hash}\n".encode())
    if keep_heads:
        report.heads[stream.stream_id] = (stream.version, stream.hash)
    if stream.stream_id in saved:  # the saved version was never reached
        version, _ = saved.pop(stream.stream_id)
        report.problems.append(
            Problem(stream.stream_id, version, None, f"truncated: saved at version {version}, now {stream.version}")
        )


def _batches() -> Iterator[list[tuple[Any, ...]]]:
    """Every event in (stream_id, version) order, BATCH rows at a time, with data and metadata decoded."""
    last: tuple[str, int] = ("", 0)
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT position, stream_id, version, type, schema_version, data, metadata, recorded_at, hash"
                " FROM events WHERE (stream_id, version) > (%s, %s) ORDER BY stream_id, version LIMIT %s",
                [*last, BATCH],
            )
            rows = cursor.fetchall()
        if rows:
            yield [(*row[:5], _json(row[5]), _json(row[6]), *row[7:]) for row in rows]
        if len(rows) < BATCH:
            return
        last = (rows[-1][1], rows[-1][2])


def _snapshots_of(stream_ids: set[str]) -> dict[str, list[tuple[Any, ...]]]:
    """{stream_id: [(version, state_schema, state, digest matches)]} in version order."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.stream_id, s.version, s.state_schema, s.state,"
            " e.hash IS NOT NULL AND s.digest = snapshot_digest(e.hash, s.state_schema, s.state)"
            " FROM snapshots s LEFT JOIN events e ON e.stream_id = s.stream_id AND e.version = s.version"
            " WHERE s.stream_id = ANY(%s) ORDER BY s.version, s.state_schema",
            [list(stream_ids)],
        )
        for stream_id, *rest in cursor.fetchall():
            found.setdefault(stream_id, []).append(tuple(rest))
    return found


def _orphan_snapshots(report: Report) -> list[Problem]:
    """Snapshots of streams that have no events at all (the pass over events never meets them)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT stream_id, version FROM snapshots s"
            " WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.stream_id = s.stream_id)"
        )
        rows = cursor.fetchall()
    report.snapshots += len(rows)
    return [Problem(stream_id, version, None, "snapshot of a stream that has no events") for stream_id, version in rows]


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _duplicate_positions() -> list[Problem]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT position, count(*) FROM events GROUP BY position HAVING count(*) > 1")
        return [Problem("", None, pos, f"position used {count} times") for pos, count in cursor.fetchall()]
