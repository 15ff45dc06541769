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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, connection, transaction

from projections import cache, checkpoints, oracle
from projections.models import OperatorAction
from projections.oracle import Difference, Differences
from projections.projector import Projector
from projections.runner import BATCH_SIZE, catch_up, drain, lock_blocking, lock_key
from projections.target import SHADOW, SHADOW_SUFFIX

Progress = Callable[[int], None]
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
    projector: Projector, *, user: str, batch_size: int = BATCH_SIZE, progress: Progress | None = None
) -> RebuildResult:
    """Build into shadow tables from position 0, catch up, and swap them in atomically.

    Raises OperationError (shadow dropped, live untouched) if an event fails to apply during the build.
    """
    if projector.outbox:
        raise OperationError(
            f"{projector.name} is an outbox of deliveries, not a view of the log: a rebuild would send or lose"
            " notifications, so it is never rebuilt (verify_projections checks it; replay fills in what is missing)"
        )
    shadow_name = projector.name + SHADOW_SUFFIX
    with _exclusive(projector, "rebuild"):
        return _rebuild(projector, shadow_name, user, batch_size, progress)


def _rebuild(
    projector: Projector, shadow_name: str, user: str, batch_size: int, progress: Progress | None
) -> RebuildResult:
    checkpoints.set_rebuilding(projector.name, True)
    try:
        events = _build_shadow(projector, shadow_name, batch_size, progress)
        with transaction.atomic():
            lock_blocking(projector.name)  # no live batch runs across the swap
            events += drain(projector, target=SHADOW, checkpoint_name=shadow_name, batch_size=batch_size, attempts=1)
            _raise_if_failed(shadow_name)
            _swap_tables(projector)
            done = checkpoints.position(shadow_name)
            checkpoints.take_over(projector.name, done, events)
            checkpoints.drop(shadow_name)
            record(user, "rebuild", projector.name, events=events, position=done)
            if "account_summaries" in projector.tables:
                transaction.on_commit(cache.clear)
        return RebuildResult(projector.name, events, done)
    except BaseException:
        _drop_shadow(projector, shadow_name)
        checkpoints.set_rebuilding(projector.name, False)
        raise


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


def verify(projector: Projector, *, batch_size: int = BATCH_SIZE, progress: Progress | None = None) -> VerifyResult:
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
    _drop_shadow(projector, shadow_name)
    with transaction.atomic(), connection.cursor() as cursor:
        for table in projector.tables:
            _create_shadow(cursor, table)
        checkpoints.ensure(shadow_name)
    total = 0
    while applied := catch_up(
        projector, target=SHADOW, checkpoint_name=shadow_name, batch_size=batch_size, until=until, attempts=1
    ):
        total += applied
        if progress:
            progress(total)
    _raise_if_failed(shadow_name)
    return total


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
