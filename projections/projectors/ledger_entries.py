"""Ledger entries with running balance per account: serves GET /api/accounts/{id}/ledger, the account
page's ledger and its balance chart.

`ledger_heads` keeps, per account, the last version this projector has seen (of any event type) and the
running balance, so every event is checked to be its account's next one even between money movements.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from commands.domain import accounts
from eventstore.records import Recorded
from projections.bulk import account_rows, evolve_rows, insert_new, upsert_account_rows
from projections.projector import Projector
from projections.target import Target

TABLE = "ledger_entries"
HEADS = "ledger_heads"
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
HEAD_COLUMNS = ("account_id", "version", "balance")
MOVEMENTS = (
    accounts.FundsDeposited,
    accounts.FundsWithdrawn,
    accounts.TransferSent,
    accounts.TransferReceived,
)


def apply(cursor: Any, events: Sequence[Recorded], target: Target, *, replay: bool = False) -> None:
    mine = [recorded for recorded in events if isinstance(recorded.event, accounts.EVENTS)]
    if not mine:
        return
    heads_table = target.table(HEADS)
    heads = account_rows(cursor, heads_table, HEAD_COLUMNS, mine)
    entries: list[tuple[Any, ...]] = []

    def step(head: dict[str, Any] | None, recorded: Recorded) -> dict[str, Any]:
        event: Any = recorded.event
        balance = head["balance"] if head else 0
        if isinstance(event, MOVEMENTS):
            kind, amount, counterparty = _movement(event)
            balance += amount
            entries.append(
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
        return {"account_id": event.account_id, "version": recorded.version, "balance": balance}

    changed = evolve_rows(mine, heads, step, replay=replay)
    upsert_account_rows(cursor, heads_table, HEAD_COLUMNS, list(changed.values()))
    insert_new(cursor, target.table(TABLE), COLUMNS, entries)


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


PROJECTOR = Projector(
    name=TABLE,
    tables=(TABLE, HEADS),
    apply=apply,
    serves="GET /api/accounts/{id}/ledger, the account page's ledger and balance chart",
    compare={TABLE: ("account_id", "version"), HEADS: ("account_id",)},
    ignore={TABLE: ("id",)},
)
