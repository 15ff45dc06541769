"""Reads on the write side: an account folded from its events, now or as of a version or a moment.

Temporal queries read the event store directly (not a projection), so they are exact for any point in time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from commands.domain import access, accounts
from commands.domain.access import Actor
from commands.domain.accounts import Account
from commands.domain.errors import AccountNotFound
from commands.services import load_account
from eventstore import store
from eventstore.records import Recorded


@dataclass(frozen=True, slots=True)
class AccountAsOf:
    account_id: UUID
    state: Account
    version: int
    position: int
    recorded_at: datetime


def account_state(
    *, account_id: UUID, actor: Actor, version: int | None = None, at: datetime | None = None
) -> AccountAsOf:
    """The account as of `version` and/or `at` (now when both are None).

    Raises AccountNotFound when the account does not exist, did not exist yet at that point, or is
    another customer's.
    """
    access.require_reader(actor)
    stream = accounts.account_stream(account_id)
    current = load_account(stream)
    access.require_access(actor, account_id, current.state)
    loaded = current if version is None and at is None else load_account(stream, until_version=version, until_time=at)
    history = loaded.history
    if history.version == 0 or history.recorded_at is None:
        raise AccountNotFound(f"account {account_id} did not exist yet at that point", account_id=account_id)
    return AccountAsOf(account_id, loaded.state, history.version, history.position, history.recorded_at)


def account_events(*, account_id: UUID, actor: Actor, after_version: int, limit: int) -> list[Recorded]:
    """Up to `limit` events of the account's stream after `after_version`, oldest first."""
    access.require_reader(actor)
    stream = accounts.account_stream(account_id)
    access.require_access(actor, account_id, load_account(stream).state)
    return store.load_range(stream, after_version=after_version, limit=limit)
