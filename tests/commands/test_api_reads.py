"""The stream and temporal queries, read straight from the event store."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from tests.api_client import deposit, open_account

pytestmark = pytest.mark.django_db


def test_events_page_through_the_stream_with_an_opaque_cursor(teller):
    account = open_account(teller)
    for amount in ("1.00", "2.00", "3.00", "4.00"):
        deposit(teller, account, amount)

    first = teller.get(f"/api/accounts/{account}/events?limit=2").json()
    second = teller.get(f"/api/accounts/{account}/events?limit=2&cursor={first['next_cursor']}").json()
    last = teller.get(f"/api/accounts/{account}/events?limit=2&cursor={second['next_cursor']}").json()

    assert [e["version"] for e in first["items"] + second["items"] + last["items"]] == [1, 2, 3, 4, 5]
    assert last["next_cursor"] is None
    event = first["items"][0]
    assert set(event) == {
        "position",
        "stream_id",
        "version",
        "type",
        "schema_version",
        "data",
        "metadata",
        "recorded_at",
        "hash",
    }
    assert event["stream_id"] == f"account-{account}" and event["type"] == "AccountOpened"


@pytest.mark.parametrize("query", ["cursor=%%%", "cursor=bm9wZQ", "limit=0", "limit=501", "limit=many"])
def test_bad_paging_parameters_are_refused(teller, query):
    account = open_account(teller)
    response = teller.get(f"/api/accounts/{account}/events?{query}")
    assert response.status_code in (400, 422)
    assert response["Content-Type"] == "application/problem+json"


def test_state_as_of_a_version(teller):
    account = open_account(teller)
    deposit(teller, account, "10.00")
    deposit(teller, account, "5.00")

    state = teller.get(f"/api/accounts/{account}/state?version=2").json()

    assert (state["version"], state["balance"]) == (2, "10.00")


def test_state_as_of_a_moment(teller):
    account = open_account(teller)
    deposit(teller, account, "10.00")
    time.sleep(0.01)
    between = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    time.sleep(0.01)
    deposit(teller, account, "5.00")

    then = teller.get(f"/api/accounts/{account}/state", {"at": between}).json()
    now = teller.get(f"/api/accounts/{account}/state").json()

    assert (then["version"], then["balance"]) == (2, "10.00")
    assert (now["version"], now["balance"]) == (3, "15.00")
    assert then["recorded_at"] < between.replace("Z", "+00:00")


def test_state_before_the_account_existed_is_404(teller):
    account = open_account(teller)
    response = teller.get(f"/api/accounts/{account}/state", {"at": "2000-01-01T00:00:00Z"})
    assert (response.status_code, response.json()["code"]) == (404, "account_not_found")


def test_a_malformed_moment_is_400(teller):
    account = open_account(teller)
    assert teller.get(f"/api/accounts/{account}/state", {"at": "last tuesday"}).status_code == 400
