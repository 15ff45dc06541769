"""Real concurrency over a live HTTP server: threads, each request on its own server thread and connection."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from tests.api_client import Http

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def versions_of(account_id: str) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT version FROM events WHERE stream_id = %s ORDER BY version", [f"account-{account_id}"])
        return [row[0] for row in cursor.fetchall()]


def open_with(http: Http, amount: str) -> str:
    status, body = http.call("POST", "/api/accounts", {"holder_name": "H", "email": "h@example.com", "owner": "alice"})
    assert status == 201, body
    account = body["account_id"]
    if amount != "0":
        assert http.call("POST", f"/api/accounts/{account}/deposits", {"amount": amount})[0] == 201
    return account


def test_twenty_simultaneous_withdrawals_from_fifty_leave_exactly_zero(live_server, users):
    http = Http(live_server.url, "teller")
    account = open_with(http, "50.00")
    barrier = threading.Barrier(20)

    def withdraw(_: int) -> tuple[int, dict]:
        barrier.wait()
        return http.call("POST", f"/api/accounts/{account}/withdrawals", {"amount": "10.00"})

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(withdraw, range(20)))

    statuses = [status for status, _ in results]
    assert statuses.count(201) == 5, results
    assert set(statuses) <= {201, 409, 422}
    assert {body["code"] for status, body in results if status == 422} <= {"insufficient_funds"}
    assert http.call("GET", f"/api/accounts/{account}/state")[1]["balance"] == "0.00"
    assert versions_of(account) == list(range(1, 8))  # opened, deposited, five withdrawals


def test_two_hundred_concurrent_random_transfers_keep_the_total_and_contiguous_versions(live_server, users):
    http = Http(live_server.url, "teller")
    accounts = [open_with(http, "100.00") for _ in range(10)]
    rng = random.Random(7)
    plan = []
    for _ in range(200):
        source, target = rng.sample(accounts, 2)
        plan.append({"from_account": source, "to_account": target, "amount": f"{rng.randint(1, 4000) / 100:.2f}"})

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda body: http.call("POST", "/api/transfers", body), plan))

    statuses = [status for status, _ in results]
    assert set(statuses) <= {201, 409, 422}, [r for r in results if r[0] not in (201, 409, 422)]
    assert statuses.count(201) > 100
    balances = [http.call("GET", f"/api/accounts/{a}/state")[1]["balance"] for a in accounts]
    assert sum(int(b.replace(".", "")) for b in balances) == 10 * 100_00
    for account in accounts:
        versions = versions_of(account)
        assert versions == list(range(1, len(versions) + 1))


def test_concurrent_deposits_to_one_account_queue_instead_of_conflicting(live_server, users):
    http = Http(live_server.url, "teller")
    account = open_with(http, "0")

    def deposit(_: int) -> int:
        return http.call("POST", f"/api/accounts/{account}/deposits", {"amount": "1.00"})[0]

    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(deposit, range(64)))

    assert statuses == [201] * 64  # no expected version was sent: the service never gives up on a lost race
    assert versions_of(account) == list(range(1, 66))
