"""Account histories written straight to the store: many valid events, fast, without ringing any doorbell."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from commands.domain import accounts
from eventstore import store
from eventstore.records import Metadata


def bulk_history(accounts_count: int, deposits_each: int) -> int:
    """Many valid account events, written straight to the store (fast); returns how many."""
    now = datetime.now(UTC)
    for _ in range(accounts_count):
        account_id = uuid.uuid4()
        events: list[object] = [
            accounts.AccountOpened(account_id=account_id, holder_name="Bulk Holder", email="bulk@example.com",
                                   currency="EUR", overdraft_limit=0, owner="alice", opened_at=now)
        ]  # fmt: skip
        events += [
            accounts.FundsDeposited(account_id=account_id, amount=100 + n, currency="EUR", reference=f"r{n}",
                                    deposited_at=now)
            for n in range(deposits_each)
        ]  # fmt: skip
        store.append(
            accounts.account_stream(account_id),
            events,
            expected_version=0,
            metadata=Metadata(user="bulk"),
            subject="alice",
        )
    return accounts_count * (deposits_each + 1)
