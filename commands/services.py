"""Command handlers: one function per command, each load (snapshot + tail) -> decide -> append.

Contract shared by every service:
- Keyword-only arguments; returns the new stream version(s) and the global position of the last event.
- Raises DomainError (a broken rule; nothing stored), Forbidden (the actor's role may not do this),
  AccountNotFound (also for a customer's request on someone else's account) or ConcurrencyError.
- `expected_version` given: strict, a stream at any other version raises ConcurrencyError. Not given: the
  version just loaded, and a lost race is retried from a fresh load up to MAX_ATTEMPTS times in all.
- A command that has already taken effect appends nothing and returns the stream's current version.
- Same-stream commands queue: each takes its streams' locks (store.lock_streams) before it loads, so it
  rarely loses a race; commands on other streams never wait.
- Transactions: with no enclosing transaction, each command runs in one of its own, and runs again in a new
  one when the store refuses the append as stale (eventstore.transactions). Inside a caller's transaction
  (the idempotency layer opens one) it runs there, and StaleTransaction goes up to that caller, which
  retries the same way. The append is the transaction's first write, so it is rarely stale at all.
  After the commit, every projector's wake-up is enqueued (projections.jobs), robustly: Redis being down
  never turns a stored command into an error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar, cast
from uuid import UUID

from django.db import transaction

from commands.calls import AccountResult, CommandContext, Draft, TransferResult
from commands.domain import access, accounts
from commands.domain.accounts import Account, AccountCommand
from eventstore import store
from eventstore.codec import load as load_dataclass
from eventstore.records import (
    AppendResult,
    ConcurrencyError,
    SnapshotState,
    StaleTransaction,
    StreamAppend,
    StreamHistory,
)
from eventstore.transactions import atomic_with_retries
from projections.jobs import schedule_catch_up

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
T = TypeVar("T")


def account_open(*, command: accounts.OpenAccount, context: CommandContext) -> AccountResult:
    """Open an account. Retrying with the same account id is a no-op that returns the account as it is."""
    if context.actor.is_customer_only and command.owner != context.actor.username:
        raise access.Forbidden("customers open accounts for themselves only")
    return _execute(command, context, expected_version=None, check_access=False)


def account_deposit(
    *, command: accounts.Deposit | Draft[accounts.Deposit], context: CommandContext, expected_version: int | None = None
) -> AccountResult:
    return _execute(command, context, expected_version)


def account_withdraw(
    *,
    command: accounts.Withdraw | Draft[accounts.Withdraw],
    context: CommandContext,
    expected_version: int | None = None,
) -> AccountResult:
    return _execute(command, context, expected_version)


def account_freeze(
    *,
    command: accounts.Freeze | Draft[accounts.Freeze],
    context: CommandContext,
    expected_version: int | None = None,
) -> AccountResult:
    return _execute(command, context, expected_version)


def account_unfreeze(
    *,
    command: accounts.Unfreeze | Draft[accounts.Unfreeze],
    context: CommandContext,
    expected_version: int | None = None,
) -> AccountResult:
    return _execute(command, context, expected_version)


def account_close(
    *,
    command: accounts.Close | Draft[accounts.Close],
    context: CommandContext,
    expected_version: int | None = None,
) -> AccountResult:
    return _execute(command, context, expected_version)


def account_change_holder(
    *,
    command: accounts.ChangeHolderDetails | Draft[accounts.ChangeHolderDetails],
    context: CommandContext,
    expected_version: int | None = None,
) -> AccountResult:
    return _execute(command, context, expected_version)


def transfer_execute(
    *,
    command: accounts.Transfer | Draft[accounts.Transfer],
    context: CommandContext,
    from_expected_version: int | None = None,
    to_expected_version: int | None = None,
) -> TransferResult:
    """Move money between two accounts: one atomic append to both streams, so never half-moved.

    A customer may transfer only out of their own account, to any open account whose id they know.
    """
    access.require_command(context.actor, "Transfer")
    from_account, to_account = _parties(command)
    source_stream = accounts.account_stream(from_account)
    target_stream = accounts.account_stream(to_account)

    def attempt() -> TransferResult:
        store.lock_streams([source_stream, target_stream])
        loaded_source, loaded_target = load_account(source_stream), load_account(target_stream)
        source, target = loaded_source.history, loaded_target.history
        source_state, target_state = loaded_source.state, loaded_target.state
        access.require_access(context.actor, from_account, source_state)
        _check_expected(source_stream, from_expected_version, source)
        _check_expected(target_stream, to_expected_version, target)
        transfer = command.build(source_state) if isinstance(command, Draft) else command
        sent, received = accounts.decide_transfer(transfer, source_state, target_state)
        result = store.append_streams(
            [
                StreamAppend(
                    source_stream, [sent], source.version, _snapshot(source_state, [sent]), source_state.owner
                ),
                StreamAppend(
                    target_stream, [received], target.version, _snapshot(target_state, [received]), target_state.owner
                ),
            ],
            metadata=context.metadata(transfer),
        )
        transaction.on_commit(schedule_catch_up)
        versions = {from_account: result.versions[source_stream], to_account: result.versions[target_stream]}
        return TransferResult(transfer.transfer_id, versions, result.position, context.correlation_id)

    strict = from_expected_version is not None or to_expected_version is not None
    return _with_retries(attempt, strict=strict)


@dataclass(frozen=True, slots=True)
class LoadedAccount:
    """An account stream as loaded (newest snapshot + the events after it) and its state at `history.version`."""

    history: StreamHistory
    state: Account


def load_account(stream: str, *, until_version: int | None = None, until_time: datetime | None = None) -> LoadedAccount:
    """An account stream and its state, within the given bounds, from its newest snapshot of the current state
    schema (the store has checked its digest) plus the events after it.

    The state counts the events folded into it: if that count is not the stream's version, the snapshot
    does not hold the state at its version (kept at the wrong version, or from a bug). It is then ignored,
    logged, and the state is folded from the first event, so a bad snapshot changes no balance, no temporal
    query and no decision.
    """
    history = store.load(
        stream, until_version=until_version, until_time=until_time, snapshot_schema=accounts.STATE_SCHEMA
    )
    start = load_dataclass(Account, history.snapshot.state) if history.snapshot else Account()
    state = _fold(history, start)
    if state.version != history.version:
        log.warning(
            "snapshot ignored: its state is not at its version",
            extra={"stream_id": stream, "version": history.snapshot and history.snapshot.version},
        )
        history = store.load(stream, until_version=until_version, until_time=until_time)
        state = _fold(history, Account())
    return LoadedAccount(history, state)


def _fold(history: StreamHistory, start: Account) -> Account:
    return accounts.fold([cast(accounts.AccountEvent, recorded.event) for recorded in history.events], start)


def _parties(command: accounts.Transfer | Draft[accounts.Transfer]) -> tuple[UUID, UUID]:
    if isinstance(command, Draft):
        assert command.to_account is not None, "a transfer's draft names both accounts"
        return command.account_id, command.to_account
    return command.from_account, command.to_account


def _execute(
    draft: AccountCommand | Draft[AccountCommand],
    context: CommandContext,
    expected_version: int | None,
    *,
    check_access: bool = True,
) -> AccountResult:
    access.require_command(context.actor, draft.name if isinstance(draft, Draft) else type(draft).__name__)
    account_id = draft.account_id
    stream = accounts.account_stream(account_id)

    def attempt() -> AccountResult:
        store.lock_streams([stream])
        loaded = load_account(stream)
        history, state = loaded.history, loaded.state
        if check_access:
            access.require_access(context.actor, account_id, state)
        _check_expected(stream, expected_version, history)
        command = draft.build(state) if isinstance(draft, Draft) else draft
        result = record(stream, loaded, command, context)
        if result is None:
            return AccountResult(account_id, history.version, history.position, context.correlation_id)
        return AccountResult(account_id, result.version, result.position, context.correlation_id)

    return _with_retries(attempt, strict=expected_version is not None)


def record(stream: str, loaded: LoadedAccount, command: AccountCommand, context: CommandContext) -> AppendResult | None:
    """Decide `command` on the state as loaded and append what it causes, with the snapshot when one is due, and
    wake the read models after the commit; None when it causes nothing (it has already taken effect).

    Runs in the caller's transaction, which holds the stream's lock (store.lock_streams) and loaded it. Raises
    DomainError (nothing stored), ConcurrencyError, StaleTransaction.
    """
    events = accounts.decide(command, loaded.state)
    if not events:
        return None
    result = store.append(
        stream,
        events,
        expected_version=loaded.history.version,
        metadata=context.metadata(command),
        snapshot=_snapshot(loaded.state, events),
        subject=command.owner if isinstance(command, accounts.OpenAccount) else loaded.state.owner,
    )
    transaction.on_commit(schedule_catch_up)
    return result


def _with_retries(attempt: Callable[[], T], *, strict: bool) -> T:
    """Run `attempt` in a transaction (see the module docstring); when the service chose the expected version,
    retry a lost race from a fresh load.

    A lost race is retried inside the same transaction: under READ COMMITTED every statement sees the latest
    commits, and a lost race never breaks the transaction (events_append catches it). A stale transaction
    cannot be mended inside it: StaleTransaction goes to atomic_with_retries, which starts a new one.
    """
    attempts = 1 if strict else MAX_ATTEMPTS

    def in_transaction() -> T:
        for number in range(1, attempts + 1):
            try:
                return attempt()
            except StaleTransaction:
                raise
            except ConcurrencyError:
                if number == attempts:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    return atomic_with_retries(in_transaction)


def _snapshot(state: Account, events: Sequence[accounts.AccountEvent]) -> SnapshotState:
    return SnapshotState(accounts.fold(list(events), state), accounts.STATE_SCHEMA)


def _check_expected(stream: str, expected: int | None, history: StreamHistory) -> None:
    if expected is not None and expected != history.version:
        raise ConcurrencyError(stream, expected, history.version)
