"""Ledger's side of each measurement, through the real code: the store, the command service, the loader and
the projection rebuild. Streams are real account histories (opened, then deposits), so a rebuild over what
the benchmark wrote does the work it does in production."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from django.db import transaction

from commands import calls, services
from commands.domain import accounts
from commands.domain.access import Actor
from eventstore import store
from projections import operations
from projections.registry import PROJECTORS

OWNER = "bench"
_CONTEXT = calls.CommandContext(
    actor=Actor("bench-teller", frozenset({"teller"})), correlation_id="bench", request_id="bench"
)


def new_account() -> uuid.UUID:
    return uuid.uuid4()


_HOLDER = {"holder_name": "Bench Holder", "email": "bench@example.com", "currency": "EUR", "overdraft_limit": 0}


def opened(account_id: uuid.UUID) -> accounts.AccountOpened:
    return accounts.AccountOpened(account_id=account_id, owner=OWNER, opened_at=datetime.now(UTC), **_HOLDER)  # type: ignore[arg-type]


def deposited(account_id: uuid.UUID, amount: int = 100) -> accounts.FundsDeposited:
    return accounts.FundsDeposited(
        account_id=account_id, amount=amount, currency="EUR", reference="", deposited_at=datetime.now(UTC)
    )


def append_one(account_id: uuid.UUID, version: int) -> None:
    """Event number `version` of the account (1: the opening), in a commit of its own."""
    event = opened(account_id) if version == 1 else deposited(account_id)
    store.append(accounts.account_stream(account_id), [event], expected_version=version - 1, subject=OWNER)


def append_batch(account_id: uuid.UUID, first_version: int, count: int) -> None:
    """`count` events of the account from `first_version`, in one commit."""
    events: list[object] = [
        opened(account_id) if version == 1 else deposited(account_id)
        for version in range(first_version, first_version + count)
    ]
    with transaction.atomic():
        store.append(accounts.account_stream(account_id), events, expected_version=first_version - 1, subject=OWNER)


def open_for_commands() -> uuid.UUID:
    account_id = new_account()
    command = accounts.OpenAccount(account_id=account_id, owner=OWNER, now=datetime.now(UTC), **_HOLDER)  # type: ignore[arg-type]
    services.account_open(command=command, context=_CONTEXT)
    return account_id


def deposit_command(account_id: uuid.UUID) -> int:
    """The full command path: load (snapshot + tail), decide, append (snapshot when due), wake-up. Returns the
    position of the event."""
    command = accounts.Deposit(account_id=account_id, amount=100, reference="", now=datetime.now(UTC))
    return services.account_deposit(command=command, context=_CONTEXT).position


def load(account_id: uuid.UUID) -> accounts.Account:
    return services.load_account(accounts.account_stream(account_id)).state


def rebuild_all() -> int:
    """Rebuild every projector from the whole log (not the notification outbox, which is never rebuilt), as
    `rebuild_projections --all` does: one read of the log for all. Returns how many projectors were rebuilt."""
    rebuildable = [projector for projector in PROJECTORS.values() if not projector.outbox]
    outcomes = operations.rebuild_many(rebuildable, user="bench")
    failed = [str(outcome) for outcome in outcomes.values() if isinstance(outcome, Exception)]
    if failed:
        raise RuntimeError(f"a rebuild failed: {failed}")
    return len(outcomes)


def event_count() -> int:
    return store.count_between(-1, 2**63 - 1)
