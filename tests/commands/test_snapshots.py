"""Snapshots cannot lie: one that does not match its stream is detected on load, ignored, logged, and reported by
verify_eventstore; and nobody can change a snapshot in place."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import override_settings

from commands import calls, selectors, services
from commands.domain import accounts
from commands.domain.access import Actor
from commands.domain.errors import InsufficientFunds
from eventstore import store
from eventstore.models import Snapshot

pytestmark = pytest.mark.django_db
TELLER = Actor("teller", frozenset({"teller"}))


def context() -> calls.CommandContext:
    return calls.CommandContext(actor=TELLER, correlation_id=str(uuid.uuid4()), request_id=str(uuid.uuid4()))


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def account_of_110_events() -> uuid.UUID:
    """Opened, then 109 deposits of 1.00 to 109.00: with a snapshot every 100 events, one at version 100."""
    account_id = uuid.uuid4()
    with override_settings(LEDGER_SNAPSHOT_EVERY=100):
        services.account_open(
            command=accounts.OpenAccount(
                account_id=account_id, holder_name="Snap Shot", email="s@example.com", currency="EUR",
                overdraft_limit=0, owner="teller", now=now(),
            ),
            context=context(),
        )  # fmt: skip
        for n in range(109):
            deposit = accounts.Deposit(account_id=account_id, amount=100 + n, reference="", now=now())
            services.account_deposit(command=deposit, context=context())
    assert list(Snapshot.objects.filter(stream_id=accounts.account_stream(account_id)).values_list("version")) == [
        (100,)
    ]
    return account_id


def balance_after(deposits: int) -> int:
    return sum(100 + n for n in range(deposits))


def forge(account_id: uuid.UUID, *, at_version: int, from_version: int) -> None:
    """Store the state of `from_version` as if it were the state at `at_version`, with a digest that matches
    the event at `at_version`: what a bug that handed the store a stale state would leave."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO snapshots (stream_id, version, state_schema, state, digest, created_at)"
            " SELECT s.stream_id, %s, s.state_schema, s.state, snapshot_digest(e.hash, s.state_schema, s.state), now()"
            " FROM snapshots s JOIN events e ON e.stream_id = s.stream_id AND e.version = %s"
            " WHERE s.stream_id = %s AND s.version = %s",
            [at_version, at_version, accounts.account_stream(account_id), from_version],
        )
        assert cursor.rowcount == 1


def test_a_snapshot_holding_an_older_state_changes_no_balance_query_or_decision(account_of_110_events, caplog):
    account_id = account_of_110_events
    forge(account_id, at_version=107, from_version=100)
    expected = balance_after(109)

    with caplog.at_level(logging.WARNING):
        now_state = selectors.account_state(account_id=account_id, actor=TELLER)
        at_108 = selectors.account_state(account_id=account_id, actor=TELLER, version=108)

    assert (now_state.state.balance, now_state.version) == (expected, 110)
    assert at_108.state.balance == balance_after(107)
    assert "snapshot ignored" in caplog.text
    with pytest.raises(InsufficientFunds):
        withdraw = accounts.Withdraw(account_id=account_id, amount=expected + 1, reference="", now=now())
        services.account_withdraw(command=withdraw, context=context())
    exact = accounts.Withdraw(account_id=account_id, amount=expected, reference="", now=now())
    assert services.account_withdraw(command=exact, context=context()).version == 111


def test_a_snapshot_moved_to_another_version_fails_its_digest_and_is_ignored(account_of_110_events, caplog):
    account_id = account_of_110_events
    stream = accounts.account_stream(account_id)
    with connection.cursor() as cursor:  # a copy of the version-100 row, digest and all, claiming version 107
        cursor.execute(
            "INSERT INTO snapshots (stream_id, version, state_schema, state, digest, created_at)"
            " SELECT stream_id, 107, state_schema, state, digest, now() FROM snapshots WHERE stream_id = %s",
            [stream],
        )

    with caplog.at_level(logging.WARNING):
        history = store.load(stream, snapshot_schema=accounts.STATE_SCHEMA)

    assert history.snapshot is not None and history.snapshot.version == 100  # the older, matching one
    assert [r.version for r in history.events] == list(range(101, 111))
    assert "does not match its stream" in caplog.text


def test_verify_eventstore_names_each_bad_snapshot(account_of_110_events, capsys):
    account_id = account_of_110_events
    forge(account_id, at_version=107, from_version=100)

    with pytest.raises(SystemExit) as exit_:
        call_command("verify_eventstore")

    out = capsys.readouterr().out
    assert exit_.value.code == 1
    assert f"PROBLEM account-{account_id} version 107" in out and "snapshot state differs" in out
    assert f"account-{account_id} version 100" not in out


def test_nobody_can_change_a_snapshot_in_place(account_of_110_events):
    with pytest.raises(DatabaseError, match="never changed"), transaction.atomic():
        Snapshot.objects.update(state={"balance": 0})
