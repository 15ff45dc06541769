"""Projectors fail loudly rather than skip, and verify_projections checks read models against the fold of each
stream read by id, so an error a rebuild would reproduce is still found."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from commands.domain import accounts
from projections.jobs import catch_up_everything
from projections.models import AccountSummary, ProjectionCheckpoint
from projections.projectors import account_summaries
from projections.registry import PROJECTORS
from projections.status import checkpoint, projector_status
from tests.api_client import deposit, open_account
from tests.cli import run
from tests.eventstore.raw import insert_raw_events
from tests.projections.workers import catch_up_until_settled

pytestmark = pytest.mark.django_db


def test_a_projector_that_meets_a_gap_fails_at_it_and_applies_nothing_past_it(teller):
    account = open_account(teller)
    deposit(teller, account, "1.00")
    catch_up_everything()
    # The row forgets its last event, as a projector that once skipped one would have left it.
    AccountSummary.objects.filter(account_id=account).update(version=1)
    before = checkpoint("account_summaries")
    later = deposit(teller, account, "2.00")
    after = deposit(teller, account, "4.00")

    catch_up_until_settled()

    status = projector_status("account_summaries")
    assert (status.status, status.failed_position) == ("failed", later["position"])
    assert "version 3" in status.last_error and "reflects version 1" in status.last_error
    assert checkpoint("account_summaries") == before  # nothing at or past the gap
    assert AccountSummary.objects.get(account_id=account).balance == 100
    others = [name for name in PROJECTORS if name != "account_summaries"]
    assert all(checkpoint(name) >= after["position"] for name in others)  # the others go on to the head


def test_verify_projections_finds_what_a_rebuild_would_reproduce(teller, monkeypatch):
    real_step = account_summaries._step

    def off_by_a_cent(row, recorded):  # a bug in the projector: the live tables and any rebuild agree on it
        new = real_step(row, recorded)
        return new | {"balance": new["balance"] + 1} if isinstance(recorded.event, accounts.FundsDeposited) else new

    monkeypatch.setattr(account_summaries, "_step", off_by_a_cent)
    account = open_account(teller)
    deposit(teller, account, "5.00")
    catch_up_everything()

    code, out, _ = run("verify_projections", "account_summaries")

    assert code == 1
    assert "vs a rebuild at position" in out and ": 0; vs the fold of" in out  # the rebuild has the same bug
    assert "balance live 501 expected 500" in out


def test_verify_reports_data_the_old_order_left_behind(capsys):
    """Version 3 stored at a lower position than version 2, and a summary that skipped version 2 (what the
    old reader order and the old skip-if-applied projectors did): both verifications exit 1."""
    account_id = uuid.uuid4()
    at = datetime.now(UTC).isoformat()
    positions = insert_raw_events(
        accounts.account_stream(account_id),
        [
            ("AccountOpened", {"account_id": str(account_id), "holder_name": "Old Order", "email": "o@example.com",
                               "currency": "EUR", "overdraft_limit": 0, "owner": "alice", "opened_at": at}),
            ("FundsDeposited", {"account_id": str(account_id), "amount": 100, "currency": "EUR", "reference": "",
                                "deposited_at": at}),
            ("FundsDeposited", {"account_id": str(account_id), "amount": 50, "currency": "EUR", "reference": "",
                                "deposited_at": at}),
        ],
        offsets=[0, 2, 1],
    )  # fmt: skip
    AccountSummary.objects.create(
        account_id=account_id, owner="alice", holder_name="Old Order", email="o@example.com", status="open",
        currency="EUR", balance=50, overdraft_limit=0, version=3, opened_at=datetime.now(UTC),
        updated_at=datetime.now(UTC),
    )  # fmt: skip
    ProjectionCheckpoint.objects.create(name="account_summaries", position=max(positions))

    store_code, store_out, _ = run("verify_eventstore")
    code, out, _ = run("verify_projections", "account_summaries")

    assert store_code == 1 and "read order" in store_out
    assert code == 1 and "balance live 50 expected 150" in out
    assert "could not rebuild" in out and "out of order" in out  # the rebuild stops at version 3, loudly
