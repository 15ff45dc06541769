"""Account summary per account: serves GET /api/accounts/{id}, the account page's summary card and lists."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction

from commands.domain import accounts
from commands.domain.accounts import Account
from eventstore.records import Recorded
from projections import cache
from projections.bulk import account_rows, evolve_rows, upsert_account_rows
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


def apply(cursor: Any, events: Sequence[Recorded], target: Target, *, replay: bool = False) -> None:
    mine = [recorded for recorded in events if isinstance(recorded.event, accounts.EVENTS)]
    table = target.table(TABLE)
    changed = evolve_rows(mine, account_rows(cursor, table, COLUMNS, mine), _step, replay=replay)
    upsert_account_rows(cursor, table, COLUMNS, list(changed.values()))
    if target.live and changed:
        fresh = list(changed.values())
        transaction.on_commit(lambda: cache.put(fresh))


def _step(row: dict[str, Any] | None, recorded: Recorded) -> dict[str, Any]:
    state = accounts.evolve(_state(row), recorded.event)  # type: ignore[arg-type]
    updated = {name: getattr(state, name) for name in _STATE_FIELDS}
    return updated | {
        "account_id": recorded.event.account_id,  # type: ignore[attr-defined]
        "version": recorded.version,
        "opened_at": row["opened_at"] if row else recorded.recorded_at,
        "updated_at": recorded.recorded_at,
    }


def _state(row: dict[str, Any] | None) -> Account:
    if row is None:
        return Account()
    return Account(**{name: row[name] for name in _STATE_FIELDS}, version=row["version"], frozen_reason="")


PROJECTOR = Projector(
    name=TABLE,
    tables=(TABLE,),
    apply=apply,
    serves="GET /api/accounts/{id}, GET /api/accounts (with account_search), the account page",
    compare={TABLE: ("account_id",)},
)
