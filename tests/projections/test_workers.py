"""Projection acceptance with real rqworker processes, real PostgreSQL and real Redis (issue: read side)."""

from __future__ import annotations

import io
import threading

import pytest
from django.core.management import call_command
from django.db import connection

from gateway.optional_redis import optional_redis
from projections import checkpoints, runner
from projections.models import AccountSummary, ProjectionCheckpoint
from projections.registry import PROJECTORS
from tests.api_client import deposit, login, open_account
from tests.projections.history import bulk_history
from tests.projections.workers import CATCH_UP_SECONDS, all_at_head, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
MARGIN_SECONDS = 10


def verify_all() -> str:
    out = io.StringIO()
    call_command("verify_projections", stdout=out, stderr=io.StringIO())  # SystemExit(1) on any difference
    return out.getvalue()


def test_two_workers_on_the_same_projectors_give_what_a_rebuild_gives(async_queues, workers, users):
    teller = login("teller")
    workers("a")
    workers("b")
    for n in range(40):
        account = open_account(teller, holder_name=f"Holder {n}")
        deposit(teller, account, f"{n + 1}.00")
        teller.post(f"/api/accounts/{account}/withdrawals", {"amount": "0.50"})

    wait_until(all_at_head, 60, "both workers bring every projector to the head")

    assert "DIFFERING" not in verify_all()


def test_lost_wake_ups_only_delay(async_queues, workers, users, settings):
    teller = login("teller")
    account = open_account(teller)
    deposit(teller, account, "5.00")
    optional_redis.client().flushdb()  # every queued wake-up is gone, and no worker has run yet
    workers()

    took = wait_until(all_at_head, CATCH_UP_SECONDS + MARGIN_SECONDS, "the worker's first catch-up")

    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # now Redis is unreachable for the web side: no wake-ups at all
    optional_redis.reset()
    response = teller.post(f"/api/accounts/{account}/deposits", {"amount": "1.00"})
    assert response.status_code == 201  # a stored command never turns into an error
    took_again = wait_until(all_at_head, CATCH_UP_SECONDS + MARGIN_SECONDS, "the periodic catch-up")

    assert AccountSummary.objects.get(account_id=account).balance == 600
    assert took < CATCH_UP_SECONDS + MARGIN_SECONDS and took_again < CATCH_UP_SECONDS + MARGIN_SECONDS


def test_a_worker_killed_in_the_middle_of_a_batch_loses_nothing_and_applies_nothing_twice(async_queues, workers):
    for name in PROJECTORS:
        checkpoints.ensure(name)
    before = {c.name: (c.applied_events, c.position) for c in ProjectionCheckpoint.objects.all()}
    bulk_history(accounts_count=40, deposits_each=74)  # 3,000 events: six full batches at least

    victim = workers("victim")
    wait_until(_batch_in_progress, 60, "a batch in progress")
    victim.kill()
    assert not all_at_head()
    workers("successor")
    wait_until(all_at_head, 120, "the successor reaches the head")

    assert "DIFFERING" not in verify_all()
    for checkpoint in ProjectionCheckpoint.objects.filter(name__in=PROJECTORS):
        applied_before, position = before[checkpoint.name]
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM events WHERE position > %s", [position])
            expected = cursor.fetchone()[0]
        # Every event after the old checkpoint was applied exactly once: a re-applied batch would count twice.
        assert checkpoint.applied_events - applied_before == expected, checkpoint.name


def _batch_in_progress() -> bool:
    """A worker's backend holds a projector's advisory lock: it is inside a batch transaction."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s AND granted",
            [runner._LOCK_NAMESPACE],
        )
        return bool(cursor.fetchone()[0])


def test_rebuild_while_commands_arrive_keeps_serving_and_verifies_clean(async_queues, workers, users):
    teller = login("teller")
    seed = [open_account(teller, holder_name=f"Seed {n}") for n in range(5)]
    workers()
    wait_until(all_at_head, 30, "the seed is projected")
    stop, errors, empty, commands_done = threading.Event(), [], [], []

    def write() -> None:
        client = login("teller")
        try:
            for n in range(220):
                target = seed[n % len(seed)]
                response = client.post(f"/api/accounts/{target}/deposits", {"amount": "1.00"})
                commands_done.append(response.status_code)
        finally:
            connection.close()

    def read() -> None:
        client = login("teller")
        try:
            while not stop.is_set():
                listing = client.get("/api/accounts")
                detail = client.get(f"/api/accounts/{seed[0]}")
                if listing.status_code != 200 or detail.status_code != 200:
                    errors.append((listing.status_code, detail.status_code))
                elif not listing.json()["items"]:
                    empty.append(listing.content)
        finally:
            connection.close()

    writer, reader = threading.Thread(target=write), threading.Thread(target=read)
    writer.start()
    reader.start()
    try:
        call_command("rebuild_projections", "--all", "--user", "test", stdout=io.StringIO(), stderr=io.StringIO())
    finally:
        writer.join(120)
        stop.set()
        reader.join(30)

    assert commands_done.count(201) == 220
    assert errors == [] and empty == []
    wait_until(all_at_head, 30, "the live projectors catch up after the swap")
    assert "DIFFERING" not in verify_all()


def test_end_to_end_min_position_and_search(async_queues, workers, users):
    workers().wait_listening()  # the 2 s read-your-writes wait is for catching up, not for a worker's start
    teller = login("teller")
    account = open_account(teller, holder_name="Zebedee Quartermaine")
    last = deposit(teller, account, "42.00")

    fresh = teller.get(f"/api/accounts/{account}", {"min_position": str(last["position"])}).json()
    wait_until(
        lambda: any(i["account_id"] == account for i in teller.get("/api/accounts", {"q": "quarterm"}).json()["items"]),
        CATCH_UP_SECONDS + MARGIN_SECONDS,
        "search finds the new holder by a prefix",
    )

    assert (fresh["balance"], fresh["stale"]) == ("42.00", False)
