"""Each read model, built by its projector from events made through the API."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection

from projections.jobs import catch_up_everything
from projections.models import AccountSearch, AccountSummary, DailyTotal, LedgerEntry
from projections.operations import verify
from projections.registry import PROJECTORS
from tests.api_client import deposit, open_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_accounts(teller):
    alice = open_account(teller, owner="alice", holder_name="Alice Liddell", email="alice@example.com")
    bob = open_account(teller, owner="bob", holder_name="Bob Builder", email="bob@example.com")
    deposit(teller, alice, "100.00")
    teller.post(f"/api/accounts/{alice}/withdrawals", {"amount": "30.00", "reference": "rent november"})
    teller.post("/api/transfers", {"from_account": alice, "to_account": bob, "amount": "20.00", "reference": "lunch"})
    teller.post(f"/api/accounts/{bob}/freeze", {"reason": "check"})
    catch_up_everything()
    return alice, bob


def test_the_summary_has_balance_status_holder_and_version(two_accounts):
    alice, bob = two_accounts

    a, b = AccountSummary.objects.get(account_id=alice), AccountSummary.objects.get(account_id=bob)

    assert (a.balance, a.status, a.holder_name, a.owner, a.version) == (5000, "open", "Alice Liddell", "alice", 4)
    assert (b.balance, b.status, b.version) == (2000, "frozen", 3)


def test_the_ledger_has_running_balances_references_and_counterparties(two_accounts):
    alice, bob = two_accounts

    entries = list(LedgerEntry.objects.filter(account_id=alice).order_by("version"))

    assert [(e.kind, e.amount, e.balance_after) for e in entries] == [
        ("deposit", 10000, 10000),
        ("withdrawal", -3000, 7000),
        ("transfer_out", -2000, 5000),
    ]
    assert entries[1].reference == "rent november"
    assert str(entries[2].counterparty) == bob and entries[2].transfer_id is not None
    assert LedgerEntry.objects.get(account_id=bob).kind == "transfer_in"


def test_search_finds_by_name_prefix_email_and_reference(two_accounts):
    alice, _ = two_accounts

    def search(query: str) -> list:
        with connection.cursor() as cursor:
            cursor.execute("SELECT account_id FROM account_search WHERE document @@ to_tsquery('simple', %s)", [query])
            return [str(row[0]) for row in cursor.fetchall()]

    assert search("lid:*") == [alice]
    assert search("alice@example.com") == [alice]
    assert search("rent:*") == [alice]
    assert AccountSearch.objects.get(account_id=two_accounts[1]).status == "frozen"


def test_daily_totals_count_each_kind_once(two_accounts):
    today = DailyTotal.objects.get(day=datetime.now(UTC).date(), currency="EUR")

    assert (today.deposits, today.deposit_count) == (10000, 1)
    assert (today.withdrawals, today.withdrawal_count) == (3000, 1)
    assert (today.transfers, today.transfer_count, today.accounts_opened) == (2000, 1, 2)


def test_replaying_the_same_batch_twice_changes_nothing(two_accounts):
    from eventstore import store
    from projections.target import LIVE

    events = store.read_all(after=0, limit=10_000)
    for projector in PROJECTORS.values():
        with connection.cursor() as cursor:
            projector.apply(cursor, events, LIVE, replay=True)
            projector.apply(cursor, events, LIVE, replay=True)

    for projector in PROJECTORS.values():
        assert verify(projector).ok, projector.name


@pytest.mark.parametrize("name", sorted(PROJECTORS))
def test_an_event_applied_a_second_time_outside_a_replay_is_refused_as_a_step_back(two_accounts, name):
    from eventstore import store
    from projections.projector import OutOfOrder
    from projections.target import LIVE

    events = store.read_all(after=0, limit=10_000)

    with pytest.raises(OutOfOrder, match="out of order"), connection.cursor() as cursor:
        PROJECTORS[name].apply(cursor, events, LIVE)
