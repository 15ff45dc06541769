"""End to end under concurrent load: a live HTTP server, real rqworker processes (one killed mid-load), commands
with and without Idempotency-Key and If-Match; afterwards every acknowledged command is in its stream, every
read model equals the tests' own oracle (tests/oracle.py), and the global log's positions only go up."""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection

from tests import oracle
from tests.api_client import Http
from tests.projections.workers import all_at_head, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
CLIENTS, COMMANDS_EACH, ACCOUNTS = 8, 40, 4


class Load:
    """Random commands from one client; every 201 is remembered, with its request, for the checks."""

    def __init__(self, http: Http, accounts: list[str], seed: int) -> None:
        self.http, self.accounts, self.rng = http, accounts, random.Random(seed)
        self.acknowledged: list[tuple[str, dict[str, Any], list[str]]] = []  # (key or "", body, accounts touched)
        self.replays: list[tuple[dict[str, Any], dict[str, Any]]] = []  # (first answer, replayed answer)
        self.statuses = Counter[int]()

    def run(self, count: int) -> None:
        try:
            for _ in range(count):
                self.one()
        finally:
            connection.close()

    def one(self) -> None:
        rng, account = self.rng, self.rng.choice(self.accounts)
        amount = f"{rng.randint(100, 900) / 100:.2f}"
        kind = rng.choice(["deposit", "deposit", "withdrawal", "transfer"])
        if kind == "transfer":
            target = rng.choice([a for a in self.accounts if a != account])
            path, body, touched = (
                "/api/transfers",
                {"from_account": account, "to_account": target, "amount": amount},
                [
                    account,
                    target,
                ],
            )
        else:
            path, body, touched = f"/api/accounts/{account}/{kind}s", {"amount": amount, "reference": kind}, [account]
        headers = {}
        if rng.random() < 0.5:
            headers["Idempotency-Key"] = str(uuid.uuid4())
        if rng.random() < 0.25:  # a client that read the version first and insists on it
            headers["If-Match"] = f'"{self.http.call("GET", f"/api/accounts/{account}/state")[1]["version"]}"'
        status, answer, _ = self.http.exchange("POST", path, body, headers=headers)
        self.statuses[status] += 1
        assert status in (201, 409, 422), (status, answer)
        if status != 201:
            return
        self.acknowledged.append((headers.get("Idempotency-Key", ""), answer, touched))
        if "Idempotency-Key" in headers and rng.random() < 0.4:  # the client retries, e.g. after a timeout
            again_status, again, again_headers = self.http.exchange("POST", path, body, headers=headers)
            assert (again_status, again_headers.get("Idempotent-Replayed")) == (201, "true")
            self.replays.append((answer, again))


def test_concurrent_commands_with_a_killed_worker_end_with_every_read_model_equal_to_the_oracle(
    live_server, users, async_queues, workers
):
    http = Http(live_server.url, "teller")
    accounts = []
    for n in range(ACCOUNTS):
        status, body = http.call("POST", "/api/accounts", {"holder_name": f"Load {n}", "email": f"l{n}@example.com"})
        assert status == 201, body
        accounts.append(body["account_id"])
        assert http.call("POST", f"/api/accounts/{body['account_id']}/deposits", {"amount": "1000.00"})[0] == 201
    first = workers("first")
    loads = [Load(Http(live_server.url, "teller"), accounts, seed) for seed in range(CLIENTS)]

    killer = threading.Timer(2.0, lambda: (first.kill(), workers("second")))
    killer.start()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(lambda load: load.run(COMMANDS_EACH), loads))
    killer.join()
    wait_until(all_at_head, 60, "the surviving worker brings every projector to the head")

    acknowledged = [entry for load in loads for entry in load.acknowledged]
    assert sum(load.statuses[201] for load in loads) > CLIENTS * COMMANDS_EACH // 2, [load.statuses for load in loads]
    _every_acknowledged_command_is_in_its_stream_once(accounts, acknowledged)
    assert all(answer == replayed for load in loads for answer, replayed in load.replays)
    assert oracle.all_mismatches() == []
    _the_api_agrees_with_the_oracle(http, accounts)
    _the_global_log_only_goes_up(http, accounts)


def _every_acknowledged_command_is_in_its_stream_once(accounts: list[str], acknowledged: list) -> None:
    touched = Counter(account for _, _, accounts_touched in acknowledged for account in accounts_touched)
    with connection.cursor() as cursor:
        for key, body, accounts_touched in acknowledged:
            versions = body.get("versions") or {body["account_id"]: body["version"]}
            for account in accounts_touched:
                cursor.execute(
                    "SELECT position FROM events WHERE stream_id = %s AND version = %s",
                    [f"account-{account}", versions[account]],
                )
                row = cursor.fetchone()
                assert row is not None, (key, body)
                assert row[0] <= body["position"] and (row[0] == body["position"] or "versions" in body)
        for account in accounts:
            cursor.execute("SELECT count(*) FROM events WHERE stream_id = %s", [f"account-{account}"])
            assert cursor.fetchone()[0] == 2 + touched[account]  # opened, the first deposit, and one per command


def _the_api_agrees_with_the_oracle(http: Http, accounts: list[str]) -> None:
    expected, _, _ = oracle.fold_every_account()
    for account in accounts:
        status, summary = http.call("GET", f"/api/accounts/{account}")  # through the cache, as clients read
        want = expected[uuid.UUID(account)]
        assert status == 200
        assert (summary["version"], summary["balance"]) == (want.version, f"{want.balance / 100:.2f}")


def _the_global_log_only_goes_up(http: Http, accounts: list[str]) -> None:
    positions, versions, after = [], Counter[str](), 0
    while True:
        status, page = http.call("GET", f"/api/events?after_position={after}&limit=200")
        assert status == 200
        for event in page["items"]:
            positions.append(event["position"])
            versions[event["stream_id"]] += 1
            assert event["version"] == versions[event["stream_id"]], event  # each stream in version order
        if not page["items"]:
            break
        after = page["items"][-1]["position"]
    assert positions == sorted(set(positions))
    assert all(versions[f"account-{account}"] > 2 for account in accounts)
