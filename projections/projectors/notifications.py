"""Notifications of large withdrawals and transfers: the outbox that projections.outbox delivers, and whom each
account's notifications go to. Serves the deliveries, GET /api/notifications and the ops page.

An outbox row is written in the projector's transaction, with its checkpoint, once per qualifying event (unique
`position`): a replay or a second worker can never add a second one. The rows are deliveries, not a view of
the log, so this projector is never rebuilt by a table swap (that would send or lose notifications).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_CEILING, Decimal
from email.utils import formataddr
from typing import Any

from django.conf import settings

from commands.domain import accounts, money
from eventstore.records import Recorded
from projections import outbox
from projections.bulk import account_rows, evolve_rows, insert_new, upsert_account_rows
from projections.projector import Projector
from projections.target import Target

TABLE = "notifications"
ACCOUNTS = "notification_accounts"
ACCOUNT_COLUMNS = ("account_id", "holder_name", "email", "version")
COLUMNS = ("position", "kind", "account_id", "amount", "currency", "recipient", "next_attempt_at", "created_at")
KINDS: dict[type, str] = {accounts.FundsWithdrawn: "large_withdrawal", accounts.TransferSent: "large_transfer"}


def threshold(currency: str) -> int:
    """LEDGER_ALERT_THRESHOLD in minor units of `currency` (rounded up)."""
    scaled = Decimal(settings.LEDGER_ALERT_THRESHOLD) * 10 ** money.decimals(currency)
    return int(scaled.to_integral_value(ROUND_CEILING))


def apply(cursor: Any, events: Sequence[Recorded], target: Target, *, replay: bool = False) -> None:
    mine = [recorded for recorded in events if isinstance(recorded.event, accounts.EVENTS)]
    if not mine:
        return
    table = target.table(ACCOUNTS)
    rows = account_rows(cursor, table, ACCOUNT_COLUMNS, mine)
    due: list[tuple[Any, ...]] = []
    erased: list[Any] = []

    def step(row: dict[str, Any] | None, recorded: Recorded) -> dict[str, Any]:
        event: Any = recorded.event
        holder = dict(row) if row else {"account_id": event.account_id, "holder_name": "", "email": ""}
        if isinstance(event, accounts.AccountOpened | accounts.HolderDetailsChanged):
            holder |= {"holder_name": event.holder_name, "email": event.email}
        if isinstance(event, accounts.HolderDetailsErased):
            holder |= {"holder_name": accounts.ERASED, "email": accounts.ERASED}
            erased.append(event.account_id)
        kind = KINDS.get(type(event))
        if kind and event.amount >= threshold(event.currency):
            recipient = formataddr((holder["holder_name"], holder["email"]))
            moment = recorded.recorded_at
            due.append(
                (recorded.position, kind, event.account_id, event.amount, event.currency, recipient, moment, moment)
            )
        return holder | {"version": recorded.version}

    changed = evolve_rows(mine, rows, step, replay=replay)
    upsert_account_rows(cursor, table, ACCOUNT_COLUMNS, list(changed.values()))
    insert_new(cursor, target.table(TABLE), COLUMNS, due)  # a position already in the outbox stays as it is
    if erased:  # the holder was forgotten: earlier notifications no longer name them (as a rebuild would not)
        cursor.execute(
            f"UPDATE {target.table(TABLE)} SET recipient = %s, last_error = '' WHERE account_id = ANY(%s)",
            [formataddr((accounts.ERASED, accounts.ERASED)), erased],
        )
    if due and target.live:
        outbox.wake_after_commit()


PROJECTOR = Projector(
    name=TABLE,
    tables=(ACCOUNTS, TABLE),
    apply=apply,
    serves="the notification deliveries (projections.outbox), GET /api/notifications and the ops page",
    compare={ACCOUNTS: ("account_id",), TABLE: ("position",)},
    ignore={TABLE: ("id", *outbox.DELIVERY_COLUMNS)},
    outbox=True,
)
