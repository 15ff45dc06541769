"""Operator actions on projectors: retry, skip, rebuild, verify (replay: projections.replay). Each is logged
(OperatorAction).

Rebuild and verify build a projector's read model from position 0 into shadow tables while the live tables
keep serving. Rebuild then swaps the shadow tables in, in one transaction, under the projector's lock so no
batch is half-applied across the swap. Verify compares the live tables with them at the same checkpoint, and
with the oracle (projections.oracle: each account's stream read by id and folded, sharing no code path with
the projectors), which catches what a rebuild through the same reader would reproduce. Any failure drops the
shadow tables and leaves the live ones untouched.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, connection, transaction

from eventstore import store
from eventstore.records import Recorded, UndecodableEvent
from projections import cache, checkpoints, oracle
from projections.models import OperatorAction
from projections.oracle import Difference, Differences
from projections.projector import Projector
from projections.runner import catch_up, drain, lock_blocking, lock_key
from projections.target import SHADOW, SHADOW_SUFFIX

Progress = Callable[[int], None]
# Rebuilds and verifies read larger batches than the live runner: nobody waits on a shadow's lock, and per
# batch costs (a read, a statement per table, a checkpoint) fall tenfold. 5,000 against 500 took a rebuild of
# 100,000 events from 15 s to 11 s (bench B7); a batch's events are the memory it holds.
REBUILD_BATCH_SIZE = 5000
_MAINTENANCE_LOCKS = 0x1ED6F  # the first key of the session locks that keep rebuild and verify apart


class OperationError(Exception):
    """The operation could not be done; nothing live was changed."""


class Busy(OperationError):
    """Another rebuild or verify of the same projector is running."""


def record(user: str, action: str, projector: str = "", **detail: Any) -> None:
    OperatorAction.objects.create(user=user, action=action, projector=projector, detail=detail)


def retry(projector: Projector, *, user: str) -> None:
    """Clear a failure so the next catch-up tries the failed event again (after a fix was deployed)."""
    with transaction.atomic():
        failed = _failed_position(projector.name)
        checkpoints.clear_failure(projector.name)
        record(user, "retry", projector.name, failed_position=failed)


def skip(projector: Projector, *, position: int, user: str) -> None:
    """Skip the failed event at `position` for good (an explicit operator decision, logged).

    Raises OperationError unless the projector is failed at exactly that position.
    """
    with transaction.atomic():
        failed = _failed_position(projector.name)
        if failed != position:
            raise OperationError(f"{projector.name} is not failed at position {position} (failed at: {failed})")
        checkpoints.clear_failure(projector.name, skip_to=position)
        record(user, "skip", projector.name, position=position)


@dataclass
class RebuildResult:
    name: str
    events: int
    checkpoint: int


def rebuild(
    projector: Projector, *, user: str, batch_size: int = REBUILD_BATCH_SIZE, progress: Progress | None = None
) -> RebuildResult:
    """Build into shadow tables from position 0, catch up, and swap them in atomically.

    Raises OperationError (shadow dropped, live untouched) if an event fails to apply during the build, Busy
    if a rebuild or verify of the projector is running, and OperationError for an outbox (never rebuilt).
    """
    outcome = rebuild_many([projector], user=user, batch_size=batch_size, progress=progress)[projector.name]
    if isinstance(outcome, OperationError):
        raise outcome
    return outcome


def rebuild_many(
    projectors: Sequence[Projector],
    *,
    user: str,
    batch_size: int = REBUILD_BATCH_SIZE,
    progress: Progress | None = None,
) -> dict[str, RebuildResult | OperationError]:
    """Rebuild several projectors side by side, each as `rebuild` would, from one read of the log: every batch
    is read and decoded once and applied to each shadow in turn. Each succeeds or fails on its own (the
    answer holds its RebuildResult or OperationError, by name); `progress` gets the events read so far.

    A fault that is not the projector's (the database lost) drops every shadow not yet swapped and is raised.
    """
    outcomes: dict[str, RebuildResult | OperationError] = {}
    unique = list({projector.name: projector for projector in projectors}.values())
    with contextlib.ExitStack() as held:
        jobs: dict[str, Projector] = {}
        for projector in unique:
            try:
                _refuse_outbox(projector)
                held.enter_context(_exclusive(projector, "rebuild"))
            except OperationError as exc:
                outcomes[projector.name] = exc
            else:
                jobs[projector.name + SHADOW_SUFFIX] = projector
        _build_and_swap(jobs, user, batch_size, progress, outcomes)
    return {projector.name: outcomes[projector.name] for projector in unique}


def _refuse_outbox(projector: Projector) -> None:
    if projector.outbox:
        raise OperationError(
            f"{projector.name} is an outbox of deliveries, not a view of the log: a rebuild would send or lose"
            " notifications, so it is never rebuilt (verify_projections checks it; replay fills in what is missing)"
        )


def _build_and_swap(
    jobs: dict[str, Projector],
    user: str,
    batch_size: int,
    progress: Progress | None,
    outcomes: dict[str, RebuildResult | OperationError],
) -> None:
    pending = dict(jobs)  # shadows that exist and are not swapped in: dropped if anything goes wrong
    try:
        for shadow_name, projector in jobs.items():
            checkpoints.set_rebuilding(projector.name, True)
            _prepare_shadow(projector, shadow_name)
        applied, failed = _fill(jobs, batch_size, progress)
        for shadow_name, error in failed.items():
            _abandon(pending.pop(shadow_name), shadow_name)
            outcomes[jobs[shadow_name].name] = error
        for shadow_name, projector in jobs.items():
            if shadow_name not in pending:
                continue
            try:
                outcomes[projector.name] = _swap_in(projector, shadow_name, user, batch_size, applied[shadow_name])
            except OperationError as exc:
                outcomes[projector.name] = exc
            finally:
                del pending[shadow_name]  # swapped in, or abandoned by _swap_in
    except BaseException:
        for shadow_name, projector in pending.items():
            _abandon(projector, shadow_name)
        raise


def _swap_in(projector: Projector, shadow_name: str, user: str, batch_size: int, events: int) -> RebuildResult:
    """Apply what arrived during the build and swap the shadow tables in, in one transaction, holding the
    projector's lock so no live batch runs across the swap. On any failure the shadow is abandoned."""
    try:
        with transaction.atomic():
            lock_blocking(projector.name)
            events += drain(projector, target=SHADOW, checkpoint_name=shadow_name, batch_size=batch_size, attempts=1)
            _raise_if_failed(shadow_name)
            _swap_tables(projector)
            done = checkpoints.position(shadow_name)
            checkpoints.take_over(projector.name, done, events)
            checkpoints.drop(shadow_name)
            record(user, "rebuild", projector.name, events=events, position=done)
            if "account_summaries" in projector.tables:
                transaction.on_commit(cache.clear)
    except BaseException:
        _abandon(projector, shadow_name)
        raise
    return RebuildResult(projector.name, events, done)


def _abandon(projector: Projector, shadow_name: str) -> None:
    _drop_shadow(projector, shadow_name)
    checkpoints.set_rebuilding(projector.name, False)


@dataclass
class VerifyResult:
    name: str
    checkpoint: int  # of the rebuild comparison; the fold comparison reports its own (fold.checkpoint)
    rebuild: Differences = field(default_factory=Differences)
    rebuild_error: str = ""  # the rebuild could not be built (an event failed to apply): nothing to compare
    fold: oracle.OracleResult = field(default_factory=oracle.OracleResult)

    @property
    def ok(self) -> bool:
        return not (self.rebuild_error or self.rebuild.count or self.fold.count)

    @property
    def difference_count(self) -> int:
        return self.rebuild.count + self.fold.count

    @property
    def differences(self) -> list[Difference]:
        return self.rebuild.shown + self.fold.shown


def verify(
    projector: Projector, *, batch_size: int = REBUILD_BATCH_SIZE, progress: Progress | None = None
) -> VerifyResult:
    """Compare the live tables with a rebuild up to the live checkpoint, and with the fold of every stream.

    The live tables are not touched; the live projector waits only while the rebuilt tables are compared.
    A rebuild that fails (an event does not apply) is reported in `rebuild_error`; the fold is compared anyway.
    """
    with _exclusive(projector, "verify"):
        return _verify(projector, batch_size, progress)


def _verify(projector: Projector, batch_size: int, progress: Progress | None) -> VerifyResult:
    result = VerifyResult(projector.name, checkpoints.position(projector.name))
    shadow_name = projector.name + SHADOW_SUFFIX + "verify"
    try:
        _build_shadow(projector, shadow_name, batch_size, progress, until=result.checkpoint)
        with transaction.atomic():
            lock_blocking(projector.name)  # hold the live tables still at one checkpoint while comparing
            result.checkpoint = checkpoints.position(projector.name)
            drain(
                projector,
                target=SHADOW,
                checkpoint_name=shadow_name,
                batch_size=batch_size,
                until=result.checkpoint,
                attempts=1,
            )
            _raise_if_failed(shadow_name)
            for table in projector.tables:
                _compare(projector, table, result.rebuild)
    except OperationError as exc:
        result.rebuild_error = str(exc)
    finally:
        _drop_shadow(projector, shadow_name)
    result.fold = oracle.differences(projector.tables, projector.name)
    return result


@contextmanager
def _exclusive(projector: Projector, what: str) -> Iterator[None]:
    """One rebuild or verify per projector at a time (they build the same shadow tables): a session-level
    advisory lock, released at the end (or when the process dies). Raises Busy when another one runs."""
    key = [_MAINTENANCE_LOCKS, lock_key(projector.name)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", key)
        if not cursor.fetchone()[0]:
            raise Busy(
                f"cannot {what} {projector.name}: a rebuild or verify of it is running; wait until it ends"
                " (manage.py rebuild_projections --list shows 'rebuilding')"
            )
    try:
        yield
    finally:
        with contextlib.suppress(DatabaseError), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", key)


def _build_shadow(
    projector: Projector,
    shadow_name: str,
    batch_size: int,
    progress: Progress | None,
    until: int | None = None,
) -> int:
    """Build one shadow up to the head (or `until`); raises OperationError if an event fails to apply."""
    _prepare_shadow(projector, shadow_name)
    applied, failed = _fill({shadow_name: projector}, batch_size, progress, until)
    if failed:
        raise failed[shadow_name]
    return applied[shadow_name]


def _prepare_shadow(projector: Projector, shadow_name: str) -> None:
    _drop_shadow(projector, shadow_name)
    with transaction.atomic(), connection.cursor() as cursor:
        for table in projector.tables:
            _create_shadow(cursor, table)
        checkpoints.ensure(shadow_name)


def _fill(
    jobs: dict[str, Projector], batch_size: int, progress: Progress | None, until: int | None = None
) -> tuple[dict[str, int], dict[str, OperationError]]:
    """Catch every shadow (by its checkpoint name) up, batch by batch, in turn. They start together at 0 and
    move together, so each batch is read and decoded once (_SharedRead) however many projectors apply it.
    Returns the events each applied, and an OperationError for each whose event failed to apply (it leaves
    the round there; the others go on)."""
    applied, failed = dict.fromkeys(jobs, 0), {}
    active, read = dict(jobs), _SharedRead()
    while active:
        for shadow_name, projector in list(active.items()):
            count = catch_up(
                projector,
                target=SHADOW,
                checkpoint_name=shadow_name,
                batch_size=batch_size,
                until=until,
                attempts=1,
                read=read,
            )
            applied[shadow_name] += count
            if count < batch_size:  # a failure always stops a batch short
                try:
                    _raise_if_failed(shadow_name)
                except OperationError as exc:
                    failed[shadow_name] = exc
                    del active[shadow_name]
                    continue
            if not count:
                del active[shadow_name]
        if progress and applied:
            progress(max(applied.values()))
    return applied, failed


class _SharedRead:
    """store.read_all for projectors rebuilt side by side: the batch last read (or the UndecodableEvent it
    raised) is handed to the next projector asking for the same one. Events are immutable and a batch below
    the horizon stays a true prefix of what a later read returns, so a projector given it applies what it
    would have read itself."""

    def __init__(self) -> None:
        self._asked: tuple[int, int] | None = None
        self._answer: list[Recorded] | UndecodableEvent = []

    def __call__(self, after: int, limit: int) -> list[Recorded]:
        if self._asked != (after, limit):
            try:
                self._answer = store.read_all(after, limit)
            except UndecodableEvent as exc:
                self._answer = exc
            self._asked = (after, limit)
        if isinstance(self._answer, UndecodableEvent):
            raise self._answer
        return self._answer


def _create_shadow(cursor: Any, table: str) -> None:
    """The empty shadow copy of `table`, created as the live table's owner (when this session may act as it)
    and given the live table's grants: the swap then leaves owner and privileges as they were, so the roles of
    eventstore.database_roles keep working after a rebuild. Runs inside the caller's transaction."""
    cursor.execute(
        "SELECT quote_ident(pg_get_userbyid(relowner)), quote_ident(current_user),"
        " pg_get_userbyid(relowner) <> current_user AND pg_has_role(relowner, 'MEMBER')"
        " FROM pg_class WHERE oid = %s::regclass",
        [f'"{table}"'],
    )
    owner, me, act_as_owner = cursor.fetchone()
    if act_as_owner:
        cursor.execute(f"SET LOCAL ROLE {owner}")
    cursor.execute(f'CREATE TABLE "{table}{SHADOW_SUFFIX}" (LIKE "{table}" INCLUDING ALL)')
    cursor.execute(
        "SELECT a.privilege_type, CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END"
        " FROM pg_class c, aclexplode(c.relacl) a WHERE c.oid = %s::regclass AND a.grantee <> c.relowner",
        [f'"{table}"'],
    )
    for privilege, grantee in cursor.fetchall():
        cursor.execute(f'GRANT {privilege} ON "{table}{SHADOW_SUFFIX}" TO {grantee}')
    if act_as_owner:
        cursor.execute(f"SET LOCAL ROLE {me}")


def _swap_tables(projector: Projector) -> None:
    """Rename shadow tables over the live ones, keeping the live index and constraint names."""
    with connection.cursor() as cursor:
        for table in projector.tables:
            old_names = _index_names(cursor, table)
            cursor.execute(f'ALTER TABLE "{table}" RENAME TO "{table}__old"')
            cursor.execute(f'ALTER TABLE "{table}{SHADOW_SUFFIX}" RENAME TO "{table}"')
            cursor.execute(f'DROP TABLE "{table}__old"')
            for definition, name in _index_names(cursor, table).items():
                if definition in old_names and old_names[definition] != name:
                    cursor.execute(f'ALTER INDEX "{name}" RENAME TO "{old_names[definition]}"')


def _index_names(cursor: Any, table: str) -> dict[str, str]:
    """{definition without its name and table: index name} for every index of `table`."""
    cursor.execute(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
        " WHERE i.indrelid = %s::regclass",
        [f'"{table}"'],
    )
    return {
        re.sub(r"^CREATE (UNIQUE )?INDEX \S+ ON \S+", r"\1", definition): name for name, definition in cursor.fetchall()
    }


def _compare(projector: Projector, table: str, result: Differences) -> None:
    """Rows only in the live table or only in the rebuilt one (EXCEPT both ways, on every compared column)."""
    ignored = set(projector.ignore.get(table, ()))
    keys = projector.compare[table]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
            [table],
        )
        columns = [name for (name,) in cursor.fetchall() if name not in ignored]
        listed = ", ".join(f'"{column}"' for column in columns)
        for live_side, first, second in ((True, table, table + SHADOW_SUFFIX), (False, table + SHADOW_SUFFIX, table)):
            cursor.execute(f'SELECT {listed} FROM "{first}" EXCEPT SELECT {listed} FROM "{second}"')
            for row in cursor.fetchall():
                values = dict(zip(columns, row, strict=True))
                key = {column: values[column] for column in keys}
                live, rebuilt = (values, None) if live_side else (None, values)
                result.add(Difference(table, "rebuild", key, live, rebuilt))


def _drop_shadow(projector: Projector, shadow_name: str) -> None:
    with connection.cursor() as cursor:
        for table in projector.tables:
            cursor.execute(f'DROP TABLE IF EXISTS "{table}{SHADOW_SUFFIX}"')
    checkpoints.drop(shadow_name)


def _failed_position(name: str) -> int | None:
    at = checkpoints.read(name)
    if at is None:
        raise OperationError(f"{name} has never run")
    return at.failed_position


def _raise_if_failed(shadow_name: str) -> None:
    at = checkpoints.read(shadow_name)
    if at and at.failed_position is not None:
        raise OperationError(f"the event at position {at.failed_position} failed to apply: {at.last_error}")
