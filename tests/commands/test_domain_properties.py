"""Random command sequences against two accounts: the rules hold and folding the history gives the state."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st

from commands.domain.accounts import (
    Close,
    Deposit,
    Freeze,
    FundsDeposited,
    FundsWithdrawn,
    OpenAccount,
    Transfer,
    Unfreeze,
    Withdraw,
    decide,
    decide_transfer,
    evolve,
    fold,
)
from commands.domain.errors import DomainError

A, B = UUID(int=1), UUID(int=2)
NOW = datetime(2026, 11, 3, tzinfo=UTC)
amounts = st.integers(min_value=-10, max_value=20_000)
accounts = st.sampled_from([A, B])
commands = st.one_of(
    st.builds(lambda a, n: Deposit(account_id=a, amount=n, reference="", now=NOW), accounts, amounts),
    st.builds(lambda a, n: Withdraw(account_id=a, amount=n, reference="", now=NOW), accounts, amounts),
    st.builds(
        lambda a, n: Transfer(
            transfer_id=UUID(int=n % 97),
            from_account=a,
            to_account=B if a == A else A,
            amount=n,
            reference="",
            now=NOW,
        ),
        accounts,
        amounts,
    ),
    st.builds(lambda a: Freeze(account_id=a, reason="check", now=NOW), accounts),
    st.builds(lambda a: Unfreeze(account_id=a, now=NOW), accounts),
    st.builds(lambda a: Close(account_id=a, now=NOW), accounts),
)


@settings(max_examples=300)
@given(
    overdrafts=st.tuples(st.integers(0, 5_000), st.integers(0, 5_000)),
    sequence=st.lists(commands, max_size=40),
)
def test_no_sequence_of_commands_takes_a_balance_below_its_overdraft(overdrafts, sequence):
    history: dict[UUID, list] = {A: [], B: []}
    state: dict[UUID, Any] = {}
    for account_id, overdraft in zip((A, B), overdrafts, strict=True):
        open_ = OpenAccount(
            account_id=account_id,
            holder_name="H",
            email="h@example.com",
            currency="EUR",
            overdraft_limit=overdraft,
            owner="h",
            now=NOW,
        )
        history[account_id] = decide(open_, fold([]))
        state[account_id] = fold(history[account_id])

    for command in sequence:
        for account_id in (A, B):  # the state decide sees is the folded history
            assert fold(history[account_id]) == state[account_id]
        try:
            if isinstance(command, Transfer):
                source, target = state[command.from_account], state[command.to_account]
                sent, received = decide_transfer(command, source, target)
                produced: dict[UUID, list[Any]] = {
                    command.from_account: [sent],
                    command.to_account: [received],
                }
            else:
                produced = {command.account_id: decide(command, state[command.account_id])}
        except DomainError:
            continue
        for account_id, events in produced.items():
            history[account_id] += events
            for event in events:
                state[account_id] = evolve(state[account_id], event)

    for account_id, overdraft in zip((A, B), overdrafts, strict=True):
        assert state[account_id].balance >= -overdraft
        assert fold(history[account_id]) == state[account_id]
    everything = history[A] + history[B]
    deposits = sum(e.amount for e in everything if isinstance(e, FundsDeposited))
    withdrawals = sum(e.amount for e in everything if isinstance(e, FundsWithdrawn))
    assert state[A].balance + state[B].balance == deposits - withdrawals  # transfers only move money
