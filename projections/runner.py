"""Apply events to projectors: one batch at a time, exactly once per projector.

`catch_up` takes the projector's transaction-scoped advisory lock (so two workers never apply the same
projector at once), reads a batch after its checkpoint (positions only go up in reader order, so the
checkpoint is one position), applies it with the projector's bulk SQL and moves the checkpoint, all in one
transaction. A crash anywhere rolls all of it back; the next run starts from the same checkpoint. An event
whose `apply` raises (or that does not decode, or that is out of order for its row) stops only that
projector: the events before it are applied, and the projector is marked failed at it until an operator
retries or skips (projections.operations).
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Sequence
from typing import Any

from django.db import DatabaseError, connection, transaction

from eventstore import store
from eventstore.records import Recorded, UndecodableEvent
from projections.projector import Projector
from projections.target import LIVE, Target

log = logging.getLogger(__name__)
BATCH_SIZE = 500
_LOCK_NAMESPACE = 0x1ED6E  # the first key of pg_advisory locks taken by projections


def lock_key(checkpoint_name: str) -> int:
    """The second advisory-lock key for a checkpoint (a projector, or its rebuild's shadow)."""
    return zlib.crc32(checkpoint_name.encode()) & 0x7FFFFFFF


def ensure_checkpoint(name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO projection_checkpoints (name, position, applied_events, failed_event_type,"
            " last_error, rebuilding, updated_at) VALUES (%s, 0, 0, '', '', false, now())"
            " ON CONFLICT (name) DO NOTHING",
            [name],
        )


def catch_up(
    projector: Projector,
    *,
    target: Target = LIVE,
    checkpoint_name: str | None = None,
    batch_size: int = BATCH_SIZE,
    until: int | None = None,
) -> int:
    """Apply the next batch; return how many events were applied.

    Returns 0 when another process holds the projector, when it is failed, or when nothing is new (up to
    `until`, if given). Idempotent: a batch is applied once, with the checkpoint, or not at all.
    """
    name = checkpoint_name or projector.name
    ensure_checkpoint(name)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, lock_key(name)])
        if not cursor.fetchone()[0]:
            return 0
        cursor.execute("SELECT position, failed_position FROM projection_checkpoints WHERE name = %s", [name])
        start, failed_position = cursor.fetchone()
        if failed_position is not None:
            return 0
        try:
            events, poison = store.read_all(after=start, limit=batch_size), None
        except UndecodableEvent as exc:
            events, poison = exc.decoded, (exc.position, exc.type_name, str(exc))
        if until is not None:
            events = [event for event in events if event.position <= until]
            if poison and poison[0] > until:
                poison = None  # beyond the point we were asked to reach: not ours to judge yet
        applied, failure = _apply(projector, cursor, events, target)
        poison = failure or poison
        if applied:
            _advance(cursor, name, start, applied)
        if poison:
            _mark_failed(cursor, name, *poison)
        return len(applied)


def lock_blocking(checkpoint_name: str) -> None:
    """Wait for the projector's advisory lock, held until the current transaction ends (for a swap)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, lock_key(checkpoint_name)])


def drain(projector: Projector, **options: Any) -> int:
    """catch_up until nothing is left; returns the total applied."""
    total = 0
    while applied := catch_up(projector, **options):
        total += applied
    return total


def _apply(
    projector: Projector, cursor: Any, events: Sequence[Recorded], target: Target
) -> tuple[Sequence[Recorded], tuple[int, str, str] | None]:
    """Apply the batch in a savepoint; if it raises, find the first event that raises, applying those before it."""
    if not events:
        return events, None
    try:
        with transaction.atomic():
            projector.apply(cursor, events, target)
        return events, None
    except DatabaseError as exc:
        if not _is_poison(exc):
            raise  # the database is unwell, not the event: let the caller retry later
    except Exception:
        pass  # any other exception from apply: find the event that raises it, below
    for index, recorded in enumerate(events):
        try:
            with transaction.atomic():
                projector.apply(cursor, [recorded], target)
        except Exception as exc:
            log.error(
                "projector failed",
                extra={"projector": projector.name, "position": recorded.position, "error": repr(exc)},
            )
            return events[:index], (recorded.position, recorded.type, f"{type(exc).__name__}: {exc}")
    return events, None  # every event applied on its own: the failure depended on the batch; all are in


def _is_poison(exc: DatabaseError) -> bool:
    """Data errors and constraint violations come from the events; lost connections and timeouts do not."""
    sqlstate = str(getattr(exc.__cause__, "sqlstate", "") or "")
    return sqlstate[:2] in {"22", "23", "42"}


def _advance(cursor: Any, name: str, start: int, applied: Sequence[Recorded]) -> None:
    cursor.execute(
        "UPDATE projection_checkpoints SET position = %s, applied_events = applied_events + %s,"
        " updated_at = now() WHERE name = %s AND position = %s",
        [applied[-1].position, len(applied), name, start],
    )
    if cursor.rowcount != 1:  # cannot happen under the advisory lock; if it does, apply nothing
        raise RuntimeError(f"checkpoint {name} moved under us")


def _mark_failed(cursor: Any, name: str, position: int, type_name: str, error: str) -> None:
    cursor.execute(
        "UPDATE projection_checkpoints SET failed_position = %s, failed_event_type = %s, last_error = %s,"
        " updated_at = now() WHERE name = %s",
        [position, type_name, error[:2000], name],
    )
