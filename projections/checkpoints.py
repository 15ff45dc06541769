"""The `projection_checkpoints` table: every read and write of a projector's checkpoint, in one place.

One row per projector (and per rebuild's shadow, named `<projector>__shadow`): the position of the last event
applied, how many were applied, the failed event (the projector stops there until an operator retries or
skips it), the retry state of an event being retried, and whether a rebuild is running. Functions that take
a cursor run in the caller's transaction (the runner's, under its advisory lock); the others in their own
statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection

from eventstore.cursors import prepared

_CLEAN = "failed_position = NULL, failed_event_type = '', last_error = ''"
_NO_RETRY = "error_position = NULL, error_count = 0, retry_at = NULL"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    position: int
    failed_position: int | None
    last_error: str
    rebuilding: bool
    applied_events: int
    error_position: int | None = None
    error_count: int = 0
    waiting: bool = False  # a failed event's retry is not due yet

    @property
    def stopped(self) -> bool:
        return self.failed_position is not None or self.waiting


NEVER_RAN = Checkpoint(0, None, "", False, 0)


def ensure(name: str) -> None:
    """Create the row at position 0 unless it exists. Idempotent."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO projection_checkpoints (name, position, applied_events, failed_event_type,"
            " last_error, rebuilding, error_count, updated_at) VALUES (%s, 0, 0, '', '', false, 0, now())"
            " ON CONFLICT (name) DO NOTHING",
            [name],
        )


def read(name: str, cursor: Any = None) -> Checkpoint | None:
    """The checkpoint, or None when the projector has never run."""
    if cursor is None:
        with connection.cursor() as own:
            return read(name, own)
    cursor.execute(
        "SELECT position, failed_position, last_error, rebuilding, applied_events, error_position, error_count,"
        " coalesce(retry_at > now(), false) FROM projection_checkpoints WHERE name = %s",
        [name],
    )
    row = cursor.fetchone()
    return Checkpoint(*row) if row else None


def position(name: str) -> int:
    """The position of the last event the projector applied (0 if it has never run)."""
    with prepared() as cursor:  # every API read asks (its X-Projection-Position): planned once
        cursor.execute("SELECT position FROM projection_checkpoints WHERE name = %s", [name])
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def lowest(names: Sequence[str]) -> int:
    """The lowest position of these projectors, in one query (0 if any has never run)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT min(coalesce(c.position, 0)) FROM unnest(%s::text[]) AS n(name)"
            " LEFT JOIN projection_checkpoints c USING (name)",
            [list(names)],
        )
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def advance(cursor: Any, name: str, start: int, reached: int, applied: int) -> None:
    """Move from `start` to `reached` after applying `applied` events, clearing any pending retry. Raises
    RuntimeError if the checkpoint is not at `start` (it cannot move under the runner's lock)."""
    cursor.execute(
        f"UPDATE projection_checkpoints SET position = %s, applied_events = applied_events + %s, last_error = '',"
        f" {_NO_RETRY}, updated_at = now() WHERE name = %s AND position = %s",
        [reached, applied, name, start],
    )
    if cursor.rowcount != 1:
        raise RuntimeError(f"checkpoint {name} moved under us")


def advance_replayed(cursor: Any, name: str, start: int, reached: int, applied: int) -> None:
    """As `advance`, for a replay: a failure or pending retry at an event now applied is cleared, a later one
    stays."""
    cursor.execute(
        "UPDATE projection_checkpoints SET position = %s, applied_events = applied_events + %s, updated_at = now(),"
        " failed_position = CASE WHEN failed_position <= %s THEN NULL ELSE failed_position END,"
        " error_position = CASE WHEN error_position <= %s THEN NULL ELSE error_position END"
        " WHERE name = %s AND position = %s",
        [reached, applied, reached, reached, name, start],
    )


def mark_failed(cursor: Any, name: str, failed_position: int, event_type: str, error: str) -> None:
    """Stop the projector at the event at `failed_position` until an operator retries or skips it."""
    cursor.execute(
        f"UPDATE projection_checkpoints SET failed_position = %s, failed_event_type = %s, last_error = %s,"
        f" {_NO_RETRY}, updated_at = now() WHERE name = %s",
        [failed_position, event_type, error[:2000], name],
    )


def retry_later(cursor: Any, name: str, error_position: int, count: int, delay_seconds: float, note: str) -> None:
    """The event at `error_position` failed for the `count`th time: try it again after `delay_seconds`."""
    cursor.execute(
        "UPDATE projection_checkpoints SET last_error = %s, error_position = %s, error_count = %s,"
        " retry_at = now() + make_interval(secs => %s), updated_at = now() WHERE name = %s",
        [note[:2000], error_position, count, delay_seconds, name],
    )


def clear_retry(cursor: Any, name: str) -> None:
    cursor.execute(f"UPDATE projection_checkpoints SET last_error = '', {_NO_RETRY} WHERE name = %s", [name])


def note_error(cursor: Any, name: str, text: str) -> None:
    cursor.execute(
        "UPDATE projection_checkpoints SET last_error = %s, updated_at = now() WHERE name = %s", [text[:2000], name]
    )


def clear_failure(name: str, *, skip_to: int | None = None) -> None:
    """Let the projector run again: from the failed event (retry), or past it (`skip_to` its position)."""
    with connection.cursor() as cursor:
        if skip_to is None:
            cursor.execute(f"UPDATE projection_checkpoints SET {_CLEAN} WHERE name = %s", [name])
        else:
            cursor.execute(
                f"UPDATE projection_checkpoints SET position = %s, {_CLEAN} WHERE name = %s", [skip_to, name]
            )


def take_over(name: str, reached: int, applied: int) -> None:
    """After a rebuild's swap: the projector continues from its shadow's position, healthy, not rebuilding."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE projection_checkpoints SET position = %s, {_CLEAN}, {_NO_RETRY}, rebuilding = false,"
            " applied_events = applied_events + %s WHERE name = %s",
            [reached, applied, name],
        )


def set_rebuilding(name: str, value: bool) -> None:
    ensure(name)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE projection_checkpoints SET rebuilding = %s WHERE name = %s", [value, name])


def drop(name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM projection_checkpoints WHERE name = %s", [name])


def shadows() -> list[tuple[str, int, int]]:
    """(projector, shadow position, events the shadow has applied) for every rebuild in progress."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, position, applied_events FROM projection_checkpoints WHERE name LIKE %s", ["%\\_\\_shadow"]
        )
        return [(name.removesuffix("__shadow"), pos, applied) for name, pos, applied in cursor.fetchall()]
