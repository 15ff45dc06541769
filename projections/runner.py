"""Apply events to projectors: one batch at a time, exactly once per projector.

`catch_up` takes the projector's transaction-scoped advisory lock (so two workers never apply the same
projector at once), reads a batch after its checkpoint (positions only go up in reader order, so the
checkpoint is one position), applies it with the projector's bulk SQL and moves the checkpoint, all in one
transaction. A crash anywhere rolls all of it back; the next run starts from the same checkpoint.

When applying fails, the failure decides what happens:
- transient (connection lost, serialization failure, deadlock, lock or statement timeout): nothing is applied,
  the error shows in `last_error`, and the next run tries again, without limit;
- anything else (an event that does not decode, is out of order for its row, breaks a constraint or a trigger,
  or makes a projector raise): the events before it are applied, and it is tried again after a back-off,
  LEDGER_PROJECTION_ATTEMPTS times in all; then the projector is marked failed at it (position, stream,
  version, error) until an operator retries or skips it (projections.operations). Other projectors go on.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction

from eventstore import store
from eventstore.records import Recorded, UndecodableEvent
from projections import checkpoints
from projections.projector import Projector
from projections.target import LIVE, Target

log = logging.getLogger(__name__)
BATCH_SIZE = 500
_LOCK_NAMESPACE = 0x1ED6E  # the first key of pg_advisory locks taken by projections
# SQLSTATE classes and codes of faults that pass by themselves: connection, transaction rollback
# (serialization, deadlock), insufficient resources, lock not available, operator intervention (timeouts,
# shutdown). Retried without limit; anything else is the event's fault.
_TRANSIENT_CLASSES = {"08", "40", "53", "57"}
_TRANSIENT_CODES = {"55P03"}
Read = Callable[[int, int], list[Recorded]]  # (after, limit) -> a batch, as store.read_all


@dataclass(frozen=True, slots=True)
class Failure:
    """The event that could not be applied, and why."""

    position: int
    type: str
    stream_id: str
    version: int | None
    error: str

    def describe(self) -> str:
        where = f"{self.stream_id} version {self.version}" if self.version is not None else self.stream_id
        return f"{where} (position {self.position}): {self.error}"


def lock_key(checkpoint_name: str) -> int:
    """The second advisory-lock key for a checkpoint (a projector, or its rebuild's shadow)."""
    return zlib.crc32(checkpoint_name.encode()) & 0x7FFFFFFF


def catch_up(
    projector: Projector,
    *,
    target: Target = LIVE,
    checkpoint_name: str | None = None,
    batch_size: int = BATCH_SIZE,
    until: int | None = None,
    attempts: int | None = None,
    read: Read | None = None,
) -> int:
    """Apply the next batch; return how many events were applied.

    An event that fails is marked failed after `attempts` tries (LEDGER_PROJECTION_ATTEMPTS by default; a
    rebuild, whose operator is waiting for the answer, passes 1). `read` fetches the batch (store.read_all;
    projectors rebuilt side by side share one read, projections.operations).

    Returns 0 when another process holds the projector, when it is failed or waiting to retry an event, or
    when nothing is new (up to `until`, if given). Idempotent: a batch is applied once, with the checkpoint,
    or not at all. A transient fault is noted in `last_error` (when the database can still be reached) and
    raised: the caller tries again later.
    """
    name = checkpoint_name or projector.name
    attempts = attempts or settings.LEDGER_PROJECTION_ATTEMPTS

    def attempt() -> int | None:
        try:
            return _catch_up(projector, target, name, batch_size, until, attempts, read, careful=False)
        except _BatchFailed:
            # The batch is applied without a savepoint of its own (two round trips a batch, bench B8), so one
            # that raises aborts its transaction: run it again, event by event in savepoints, to find the
            # event at fault.
            return _catch_up(projector, target, name, batch_size, until, attempts, read, careful=True)

    try:
        applied = attempt()
        if applied is None:
            # Never ran: create the row in a statement of its own (so a failure of the first batch can still be
            # noted on it), then go. Not done on every call: it was a round trip per batch (bench B8).
            checkpoints.ensure(name)
            applied = attempt() or 0
        return applied
    except Exception as exc:
        _note_error(name, f"{'transient' if is_transient(exc) else 'unexpected'}, will retry: {_describe(exc)}")
        raise


def _catch_up(
    projector: Projector,
    target: Target,
    name: str,
    batch_size: int,
    until: int | None,
    attempts: int,
    read: Read | None,
    *,
    careful: bool,
) -> int | None:
    """As catch_up, but None when the projector has no checkpoint row yet. Unless `careful`, the batch is
    applied as a whole and _BatchFailed raised (rolling back) if it raises anything but a transient fault."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, lock_key(name)])
        if not cursor.fetchone()[0]:
            return 0
        at = checkpoints.read(name, cursor)
        if at is None:
            return None
        if at.stopped:
            return 0
        try:
            events, poison = (read or store.read_all)(at.position, batch_size), None
        except UndecodableEvent as exc:
            events, poison = exc.decoded, Failure(exc.position, exc.type_name, exc.stream_id, exc.version, str(exc))
        if until is not None:
            events = [event for event in events if event.position <= until]
            if poison and poison.position > until:
                poison = None  # beyond the point we were asked to reach: not ours to judge yet
        if careful:
            applied, failure = _apply_one_by_one(projector, cursor, events, target)
        else:
            applied, failure = _apply_at_once(projector, cursor, events, target), None
        failure = failure or poison
        if applied:
            checkpoints.advance(cursor, name, at.position, applied[-1].position, len(applied))
        if failure:
            count = at.error_count + 1 if at.error_position == failure.position else 1
            _record_failure(cursor, name, failure, count, attempts)
        elif at.last_error and not applied:
            checkpoints.clear_retry(cursor, name)  # healthy again (applying also clears it)
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


def is_transient(exc: BaseException) -> bool:
    """A fault of the moment (the database or the connection), not of the event being applied."""
    sqlstate = str(getattr(exc.__cause__, "sqlstate", "") or getattr(exc, "sqlstate", "") or "")
    if sqlstate:
        return sqlstate[:2] in _TRANSIENT_CLASSES or sqlstate in _TRANSIENT_CODES
    return isinstance(exc, (OperationalError, InterfaceError))  # no SQLSTATE: the connection itself failed


class _BatchFailed(Exception):
    """A batch raised, not transiently, when applied as a whole."""


def _apply_at_once(projector: Projector, cursor: Any, events: Sequence[Recorded], target: Target) -> Sequence[Recorded]:
    if events:
        try:
            projector.apply(cursor, events, target)
        except Exception as exc:
            if is_transient(exc):
                raise
            raise _BatchFailed from exc
    return events


def _apply_one_by_one(
    projector: Projector, cursor: Any, events: Sequence[Recorded], target: Target
) -> tuple[Sequence[Recorded], Failure | None]:
    """For a batch that raised as a whole: apply each event in a savepoint of its own, up to the first that
    raises. A transient fault is raised: it says nothing about the events."""
    for index, recorded in enumerate(events):
        try:
            with transaction.atomic():
                projector.apply(cursor, [recorded], target)
        except Exception as exc:
            if is_transient(exc):
                raise
            log.warning(
                "projector could not apply an event",
                extra={"projector": projector.name, "position": recorded.position, "error": repr(exc)},
            )
            failure = Failure(recorded.position, recorded.type, recorded.stream_id, recorded.version, _describe(exc))
            return events[:index], failure
    return events, None  # every event applied on its own: the failure depended on the batch; all are in


def _record_failure(cursor: Any, name: str, failure: Failure, count: int, attempts: int) -> None:
    """Another failed attempt at the same event: wait and retry, or, when attempts are spent, mark failed."""
    if count >= attempts:
        log.error("projector failed", extra={"projector": name, "position": failure.position, "error": failure.error})
        checkpoints.mark_failed(
            cursor, name, failure.position, failure.type, f"{failure.describe()} (after {count} attempts)"
        )
        return
    delay_ms = settings.LEDGER_PROJECTION_RETRY_MS * 2 ** (count - 1)
    note = f"{failure.describe()} (attempt {count} of {attempts}; again in {delay_ms / 1000:g} s)"
    checkpoints.retry_later(cursor, name, failure.position, count, delay_ms / 1000, note)


def _note_error(name: str, text: str) -> None:
    """Best effort, in a transaction of its own: the database may be the thing that is down."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            checkpoints.note_error(cursor, name, text)
    except DatabaseError:
        log.warning("could not record a projector's error", extra={"projector": name, "error": text})


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".strip()
