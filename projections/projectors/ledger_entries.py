"""Ledger entries with running balance per account: serves GET /api/accounts/{id}/ledger, the account
page's ledger and its balance chart."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from commands.domain import accounts
from eventstore.records import Recorded
from projections.bulk import insert_new
from projections.projector import Projector
from projections.target import Target

TABLE = "ledger_entries"
COLUMNS = (
    "account_id",
    "version",
    "position",
    "kind",
    "amount",
    "balance_after",
    "currency",
    "reference",
    "counterparty",
    "transfer_id",
    "recorded_at",
)
MOVEMENTS = (
    accounts.FundsDeposited,
    accounts.FundsWithdrawn,
    accounts.TransferSent,
    accounts.TransferReceived,
)


def apply(cursor: Any, events: Sequence[Recorded], target: Target) -> None:
    moves = [recorded for recorded in events if isinstance(recorded.event, MOVEMENTS)]
    if not moves:
        return
    table = target.table(TABLE)
    last = _last_entries(cursor, table, list({r.event.account_id for r in moves}))  # type: ignore[attr-defined]
    rows = []
    for recorded in moves:
        event: Any = recorded.event
        version, balance = last.get(event.account_id, (0, 0))
        if recorded.version <= version:
            continue  # already applied
        kind, amount, counterparty = _movement(event)
        balance += amount
        last[event.account_id] = (recorded.version, balance)
        rows.append(
            (
                event.account_id,
                recorded.version,
                recorded.position,
                kind,
                amount,
                balance,
                event.currency,
                event.reference,
                counterparty,
                getattr(event, "transfer_id", None),
                recorded.recorded_at,
            )
        )
    insert_new(cursor, table, COLUMNS, rows)


def _movement(event: Any) -> tuple[str, int, Any]:
    match event:
        case accounts.FundsDeposited():
            return "deposit", event.amount, None
        case accounts.FundsWithdrawn():
            return "withdrawal", -event.amount, None
        case accounts.TransferSent():
            return "transfer_out", -event.amount, event.to_account
        case accounts.TransferReceived():
            return "transfer_in", event.amount, event.from_account
    raise TypeError(f"not a money movement: {event!r}")


def _last_entries(cursor: Any, table: str, account_ids: list[Any]) -> dict[Any, tuple[int, int]]:
    """Each account's latest (version, balance_after): where its running balance continues."""
    cursor.execute(
        f"SELECT DISTINCT ON (account_id) account_id, version, balance_after FROM {table}"
        " WHERE account_id = ANY(%s) ORDER BY account_id, version DESC",
        [account_ids],
    )
    return {account_id: (version, balance) for account_id, version, balance in cursor.fetchall()}


PROJECTOR = Projector(
    name=TABLE,
    tables=(TABLE,),
    apply=apply,
    serves="GET /api/accounts/{id}/ledger, the account page's ledger and balance chart",
    compare={TABLE: ("account_id", "version")},
    ignore={TABLE: ("id",)},
)
