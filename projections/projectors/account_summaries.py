"""Account summary per account: serves GET /api/accounts/{id}, the account page's summary card and lists."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction

from commands.domain import accounts
from commands.domain.accounts import Account
from eventstore.records import Recorded
from projections import cache
from projections.bulk import fetch_by_ids, upsert
from projections.projector import Projector
from projections.target import Target

TABLE = "account_summaries"
COLUMNS = (
    "account_id",
    "owner",
    "holder_name",
    "email",
    "status",
    "currency",
    "balance",
    "overdraft_limit",
    "version",
    "opened_at",
    "updated_at",
)
_STATE_FIELDS = ("status", "balance", "currency", "overdraft_limit", "owner", "holder_name", "email")


def apply(cursor: Any, events: Sequence[Recorded], target: Target) -> None:
    mine = [recorded for recorded in events if isinstance(recorded.event, accounts.EVENTS)]
    table = target.table(TABLE)
    rows = fetch_by_ids(cursor, table, COLUMNS, "account_id", list({r.event.account_id for r in mine}))  # type: ignore[attr-defined]
    changed: dict[Any, dict[str, Any]] = {}
    for recorded in mine:
        event: Any = recorded.event
        row = rows.get(event.account_id)
        if row is not None and recorded.version <= row["version"]:
            continue  # already applied
        state = accounts.evolve(_state(row), event)
        updated = {name: getattr(state, name) for name in _STATE_FIELDS}
        opened_at = row["opened_at"] if row else recorded.recorded_at
        updated |= {
            "account_id": event.account_id,
            "version": recorded.version,
            "opened_at": opened_at,
            "updated_at": recorded.recorded_at,
        }
        rows[event.account_id] = changed[event.account_id] = updated
    upsert(
        cursor,
        table,
        COLUMNS,
        [tuple(row[c] for c in COLUMNS) for row in changed.values()],
        conflict=("account_id",),
        guard="t.version < EXCLUDED.version",
    )
    if target.live and changed:
        fresh = list(changed.values())
        transaction.on_commit(lambda: cache.put(fresh))


def _state(row: dict[str, Any] | None) -> Account:
    if row is None:
        return Account()
    return Account(**{name: row[name] for name in _STATE_FIELDS}, frozen_reason="")


PROJECTOR = Projector(
    name=TABLE,
    tables=(TABLE,),
    apply=apply,
    serves="GET /api/accounts/{id}, GET /api/accounts (with account_search), the account page",
    compare={TABLE: ("account_id",)},
)
