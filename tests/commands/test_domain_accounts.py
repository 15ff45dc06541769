from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from commands.domain.accounts import (
    Account,
    AccountClosed,
    AccountFrozen,
    AccountOpened,
    AccountUnfrozen,
    ChangeHolderDetails,
    Close,
    Deposit,
    EraseHolderDetails,
    Freeze,
    FundsDeposited,
    FundsWithdrawn,
    HolderDetailsChanged,
    HolderDetailsErased,
    OpenAccount,
    Transfer,
    TransferReceived,
    TransferSent,
    Unfreeze,
    Withdraw,
    account_stream,
    decide,
    decide_transfer,
    fold,
)
from commands.domain.errors import (
    AccountClosedError,
    AccountFrozenError,
    AccountNotFound,
    BalanceNotZero,
    CurrencyMismatch,
    InsufficientFunds,
    InvalidAmount,
    InvalidCurrency,
    InvalidHolder,
    InvalidText,
    SameAccount,
)
from tests.commands.spec import given

ID = UUID("00000000-0000-4000-8000-00000000000a")
OTHER = UUID("00000000-0000-4000-8000-00000000000b")
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
T1, T2 = T0 + timedelta(hours=1), T0 + timedelta(hours=2)


def opened(account_id=ID, overdraft=0, currency="EUR", owner="alice"):
    return AccountOpened(
        account_id=account_id,
        holder_name="Alice Liddell",
        email="alice@example.com",
        currency=currency,
        overdraft_limit=overdraft,
        owner=owner,
        opened_at=T0,
    )


def deposited(amount, account_id=ID):
    return FundsDeposited(account_id=account_id, amount=amount, currency="EUR", reference="", deposited_at=T1)


def open_command(**changes):
    fields = {
        "account_id": ID,
        "holder_name": "Alice Liddell",
        "email": "alice@example.com",
        "currency": "EUR",
        "overdraft_limit": 0,
        "owner": "alice",
        "now": T0,
    }
    return OpenAccount(**{**fields, **changes})


# --- opening -------------------------------------------------------------------------------------------


def test_opening_a_new_account_records_the_holder_and_terms():
    given().when(open_command(overdraft_limit=5000)).then(opened(overdraft=5000))


def test_opening_an_open_account_again_is_a_no_op():
    given(opened()).when(open_command()).then()


@pytest.mark.parametrize(
    "changes, error",
    [
        ({"holder_name": ""}, InvalidHolder),
        ({"holder_name": "x" * 201}, InvalidHolder),
        ({"holder_name": "Tab\there"}, InvalidHolder),
        ({"email": "not-an-email"}, InvalidHolder),
        ({"currency": "XXX"}, InvalidCurrency),
        ({"overdraft_limit": -1}, InvalidAmount),
    ],
)
def test_opening_with_bad_details_is_refused(changes, error):
    given().when(open_command(**changes)).then_fails(error)


def test_commands_on_an_account_that_does_not_exist_are_refused():
    given().when(Deposit(account_id=ID, amount=100, reference="", now=T1)).then_fails(AccountNotFound)


# --- deposits and withdrawals --------------------------------------------------------------------------


def test_a_deposit_records_the_amount_in_the_account_currency():
    given(opened()).when(Deposit(account_id=ID, amount=1234, reference="salary", now=T1)).then(
        FundsDeposited(account_id=ID, amount=1234, currency="EUR", reference="salary", deposited_at=T1)
    )


@pytest.mark.parametrize("amount", [0, -5, 10**12 + 1])
def test_amounts_must_be_positive_and_at_most_ten_to_the_twelfth(amount):
    given(opened()).when(Deposit(account_id=ID, amount=amount, reference="", now=T1)).then_fails(InvalidAmount)


def test_a_withdrawal_within_the_balance_is_recorded():
    given(opened(), deposited(500)).when(Withdraw(account_id=ID, amount=500, reference="", now=T2)).then(
        FundsWithdrawn(account_id=ID, amount=500, currency="EUR", reference="", withdrawn_at=T2)
    )


def test_a_withdrawal_may_use_the_overdraft_but_not_beyond_it():
    history = given(opened(overdraft=1000), deposited(500))
    history.when(Withdraw(account_id=ID, amount=1500, reference="", now=T2)).then(
        FundsWithdrawn(account_id=ID, amount=1500, currency="EUR", reference="", withdrawn_at=T2)
    )
    history.when(Withdraw(account_id=ID, amount=1501, reference="", now=T2)).then_fails(
        InsufficientFunds, "15.00 EUR available"
    )


def test_a_reference_with_control_characters_is_refused():
    given(opened()).when(Deposit(account_id=ID, amount=1, reference="a\x00b", now=T1)).then_fails(InvalidText)


# --- freezing --------------------------------------------------------------------------------------------


def test_a_frozen_account_accepts_deposits():
    given(opened(), AccountFrozen(account_id=ID, reason="fraud check", frozen_at=T1)).when(
        Deposit(account_id=ID, amount=100, reference="", now=T2)
    ).then(FundsDeposited(account_id=ID, amount=100, currency="EUR", reference="", deposited_at=T2))


def test_a_frozen_account_refuses_withdrawals():
    given(opened(), deposited(500), AccountFrozen(account_id=ID, reason="fraud check", frozen_at=T1)).when(
        Withdraw(account_id=ID, amount=100, reference="", now=T2)
    ).then_fails(AccountFrozenError)


def test_freezing_needs_a_reason_and_freezing_twice_is_a_no_op():
    given(opened()).when(Freeze(account_id=ID, reason=" ", now=T1)).then_fails(InvalidText)
    given(opened()).when(Freeze(account_id=ID, reason="court order", now=T1)).then(
        AccountFrozen(account_id=ID, reason="court order", frozen_at=T1)
    )
    given(opened(), AccountFrozen(account_id=ID, reason="x", frozen_at=T1)).when(
        Freeze(account_id=ID, reason="again", now=T2)
    ).then()


def test_unfreezing_a_frozen_account_and_unfreezing_an_open_one_is_a_no_op():
    given(opened(), AccountFrozen(account_id=ID, reason="x", frozen_at=T1)).when(Unfreeze(account_id=ID, now=T2)).then(
        AccountUnfrozen(account_id=ID, unfrozen_at=T2)
    )
    given(opened()).when(Unfreeze(account_id=ID, now=T2)).then()


# --- closing -------------------------------------------------------------------------------------------


def test_closing_needs_a_zero_balance():
    given(opened(), deposited(1)).when(Close(account_id=ID, now=T2)).then_fails(BalanceNotZero, "0.01")
    given(opened()).when(Close(account_id=ID, now=T2)).then(AccountClosed(account_id=ID, closed_at=T2))


def test_a_closed_account_accepts_nothing_and_closing_again_is_a_no_op():
    closed = given(opened(), AccountClosed(account_id=ID, closed_at=T1))
    closed.when(Deposit(account_id=ID, amount=1, reference="", now=T2)).then_fails(AccountClosedError)
    closed.when(Freeze(account_id=ID, reason="x", now=T2)).then_fails(AccountClosedError)
    closed.when(Close(account_id=ID, now=T2)).then()


# --- holder details --------------------------------------------------------------------------------------


def test_changing_holder_details_records_the_full_new_details():
    given(opened()).when(ChangeHolderDetails(account_id=ID, holder_name=None, email="a@b.example", now=T1)).then(
        HolderDetailsChanged(account_id=ID, holder_name="Alice Liddell", email="a@b.example", changed_at=T1)
    )


def test_changing_holder_details_to_the_same_values_is_a_no_op():
    given(opened()).when(ChangeHolderDetails(account_id=ID, holder_name="Alice Liddell", email=None, now=T1)).then()


def test_a_bad_email_is_refused_on_change():
    given(opened()).when(ChangeHolderDetails(account_id=ID, holder_name=None, email="nope", now=T1)).then_fails(
        InvalidHolder
    )


def test_a_bad_email_is_refused_without_echoing_it():
    command = ChangeHolderDetails(account_id=ID, holder_name=None, email="secret-value", now=T1)
    with pytest.raises(InvalidHolder) as refused:
        decide(command, fold([opened()]))
    assert "secret-value" not in str(refused.value)  # error bodies are stored: no personal data in them


# --- erasure -----------------------------------------------------------------------------------------------


def test_erasing_records_the_erasure_even_on_a_closed_account():
    closed = given(opened(), AccountClosed(account_id=ID, closed_at=T1))
    closed.when(EraseHolderDetails(account_id=ID, now=T2)).then(HolderDetailsErased(account_id=ID, erased_at=T2))


def test_erasing_an_erased_account_is_a_no_op_and_a_missing_one_is_not_found():
    given(opened(), HolderDetailsErased(account_id=ID, erased_at=T1)).when(
        EraseHolderDetails(account_id=ID, now=T2)
    ).then()
    given().when(EraseHolderDetails(account_id=ID, now=T2)).then_fails(AccountNotFound)


def test_after_erasure_the_state_keeps_its_money_and_reads_erased_details():
    state = fold([opened(), FundsDeposited(account_id=ID, amount=5, currency="EUR", reference="", deposited_at=T1),
                  HolderDetailsErased(account_id=ID, erased_at=T2)])  # fmt: skip
    assert (state.holder_name, state.email, state.balance, state.owner) == ("erased", "erased", 5, "alice")


# --- transfers -------------------------------------------------------------------------------------------


def transfer(amount=300, to=OTHER):
    return Transfer(transfer_id=UUID(int=7), from_account=ID, to_account=to, amount=amount, reference="rent", now=T2)


def test_a_transfer_debits_one_account_and_credits_the_other():
    source, target = fold([opened(), deposited(500)]), fold([opened(account_id=OTHER, owner="bob")])

    sent, received = decide_transfer(transfer(), source, target)

    assert sent == TransferSent(
        account_id=ID,
        transfer_id=UUID(int=7),
        to_account=OTHER,
        amount=300,
        currency="EUR",
        reference="rent",
        sent_at=T2,
    )
    assert received == TransferReceived(
        account_id=OTHER,
        transfer_id=UUID(int=7),
        from_account=ID,
        amount=300,
        currency="EUR",
        reference="rent",
        received_at=T2,
    )


@pytest.mark.parametrize(
    "source_events, target_events, command, error",
    [
        ([opened(), deposited(500)], [opened()], transfer(to=ID), SameAccount),
        ([opened(), deposited(500)], [], transfer(), AccountNotFound),
        ([], [opened(account_id=OTHER)], transfer(), AccountNotFound),
        ([opened(), deposited(100)], [opened(account_id=OTHER)], transfer(amount=101), InsufficientFunds),
        (
            [opened(), deposited(500)],
            [opened(account_id=OTHER, currency="USD")],
            transfer(),
            CurrencyMismatch,
        ),
        (
            [opened(), deposited(500), AccountFrozen(account_id=ID, reason="x", frozen_at=T1)],
            [opened(account_id=OTHER)],
            transfer(),
            AccountFrozenError,
        ),
        (
            [opened(), deposited(500)],
            [opened(account_id=OTHER), AccountClosed(account_id=OTHER, closed_at=T1)],
            transfer(),
            AccountClosedError,
        ),
        ([opened(), deposited(500)], [opened(account_id=OTHER)], transfer(amount=0), InvalidAmount),
    ],
)
def test_a_transfer_is_refused_when_a_rule_is_broken(source_events, target_events, command, error):
    with pytest.raises(error):
        decide_transfer(command, fold(source_events), fold(target_events))


def test_a_frozen_account_may_receive_a_transfer():
    frozen_target = fold([opened(account_id=OTHER), AccountFrozen(account_id=OTHER, reason="x", frozen_at=T1)])

    sent, received = decide_transfer(transfer(), fold([opened(), deposited(500)]), frozen_target)

    assert fold([received], frozen_target).balance == 300


def test_the_stream_name_comes_from_the_account_id():
    assert account_stream(ID) == f"account-{ID}"


def test_the_state_counts_the_events_folded_into_it_whatever_they_are():
    events = [opened(), deposited(500), AccountFrozen(account_id=ID, reason="x", frozen_at=T1)]

    assert [fold(events[:n]).version for n in range(4)] == [0, 1, 2, 3]
    assert fold(events[1:], fold(events[:1])) == fold(events)


def test_state_folds_every_event():
    state = fold([opened(overdraft=100), deposited(500), AccountFrozen(account_id=ID, reason="x", frozen_at=T1)])

    assert state == Account(
        version=3,
        status="frozen",
        balance=500,
        currency="EUR",
        overdraft_limit=100,
        owner="alice",
        holder_name="Alice Liddell",
        email="alice@example.com",
        frozen_reason="x",
    )
