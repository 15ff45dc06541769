"""Forgetting a customer (erasure by crypto-shredding; docs/security.md, "Erasure").

The holder details in a customer's events and snapshots are sealed with the customer's key
(eventstore.personal). Forgetting appends HolderDetailsErased to each of their accounts, so the erasure is on
record and every read model drops the details, and destroys their keys, in one transaction: afterwards every
event still loads, and what was sealed reads as "erased".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from commands.calls import CommandContext
from commands.domain import access, accounts
from commands.services import load_account, record
from eventstore import personal, store
from eventstore.transactions import atomic_with_retries


class NothingToForget(LookupError):
    """The customer has no account and no key: there is nothing of theirs to erase."""

    code = "nothing_to_forget"


@dataclass(frozen=True, slots=True)
class Forgotten:
    customer: str
    accounts: list[UUID]  # where an erasure was recorded now (not those erased before)
    keys_destroyed: int


def customer_forget(*, customer: str, context: CommandContext) -> Forgotten:
    """Erase `customer`'s personal data. Raises Forbidden unless the actor operates, NothingToForget for an
    unknown customer. Idempotent: forgetting again records and destroys nothing. One transaction (retried
    from the start when the store refuses it as stale), holding each account's stream lock."""
    if not context.actor.may_operate:
        raise access.Forbidden("only an operator may forget a customer")

    def attempt() -> Forgotten:
        streams = store.streams_with("AccountOpened", "owner", customer)
        store.lock_streams(streams)
        erased = [_erase(stream, context) for stream in streams]
        keys = personal.forget(customer)
        if not streams and not keys:
            raise NothingToForget(f"no customer {customer!r} has accounts or personal data here")
        return Forgotten(customer, [account for account in erased if account], keys)

    return atomic_with_retries(attempt)


def _erase(stream: str, context: CommandContext) -> UUID | None:
    """Record the erasure on one account (its lock is held); its id, or None when it was erased before."""
    account_id = UUID(stream.removeprefix(accounts.STREAM_PREFIX))
    command = accounts.EraseHolderDetails(account_id=account_id, now=datetime.now(UTC))
    return account_id if record(stream, load_account(stream), command, context) else None
