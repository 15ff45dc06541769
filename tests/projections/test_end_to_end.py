"""End to end under concurrent load: a live HTTP server, real rqworker processes (one killed mid-load), commands
with and without Idempotency-Key and If-Match (tests/stress.py); afterwards every acknowledged command is in its
streams exactly once, every read model equals the tests' own oracle (tests/oracle.py), the API's reads agree,
and the global log's positions only go up."""

from __future__ import annotations

import pytest

from tests import stress
from tests.api_client import PASSWORD, Http

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_concurrent_commands_with_a_killed_worker_end_with_every_read_model_equal_to_the_oracle(
    live_server, users, async_queues, workers
):
    http = Http(live_server.url, "teller")
    accounts = stress.open_accounts(http, 4)
    running = [workers("first")]

    def kill_and_replace() -> None:
        running[-1].kill()
        running.append(workers("next"))

    tally = stress.run_load(
        live_server.url,
        PASSWORD,
        clients=8,
        accounts=accounts,
        commands_each=40,
        faults=[(1.5, "worker SIGKILLed", kill_and_replace)],
    )
    stress.wait_for_projections(http, timeout=60)

    assert tally.faults and tally.statuses[201] > 160, tally.statuses
    assert set(tally.statuses) <= {201, 409, 422} and not tally.ambiguous
    assert stress.violations(http, accounts, tally) == []
