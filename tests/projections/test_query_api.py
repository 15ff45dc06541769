"""The query API over the read models, with the same auth and roles as the commands."""

from __future__ import annotations

from uuid import UUID

import pytest
from django.test import Client

from gateway.optional_redis import optional_redis
from projections import cache
from projections.jobs import catch_up_everything
from tests.api_client import deposit, open_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def accounts(teller):
    alice = open_account(teller, owner="alice", holder_name="Alice Liddell", email="alice@example.com")
    bob = open_account(teller, owner="bob", holder_name="Bob Builder", email="bob@example.com")
    deposit(teller, alice, "12.34")
    catch_up_everything()
    return alice, bob


def test_an_account_with_etag_and_projection_position(teller, accounts):
    alice, _ = accounts

    response = teller.get(f"/api/accounts/{alice}")
    again = teller.get(f"/api/accounts/{alice}", **{"If-None-Match": response["ETag"]})

    body = response.json()
    assert (body["balance"], body["holder_name"], body["version"], body["stale"]) == (
        "12.34",
        "Alice Liddell",
        2,
        False,
    )
    assert response["ETag"] == '"2"' and int(response["X-Projection-Position"]) == body["projection_position"] > 0
    assert again.status_code == 304


def test_min_position_waits_then_reports_stale(teller, accounts):
    alice, _ = accounts
    later = deposit(teller, alice, "1.00")  # not projected yet: nothing runs the catch-up in this test

    stale = teller.get(f"/api/accounts/{alice}", {"min_position": str(later["position"])}).json()
    catch_up_everything()
    fresh = teller.get(f"/api/accounts/{alice}", {"min_position": str(later["position"])}).json()

    assert (stale["stale"], stale["balance"]) == (True, "12.34")
    assert (fresh["stale"], fresh["balance"]) == (False, "13.34")


def test_a_new_account_whose_read_model_is_behind_answers_503_not_404_after_the_wait(teller, accounts):
    newest = open_account(teller, owner="alice")  # in the store, not projected yet
    position = teller.get(f"/api/accounts/{newest}/events").json()["items"][0]["position"]

    behind = teller.get(f"/api/accounts/{newest}", {"min_position": str(position)})
    unknown = teller.get("/api/accounts/00000000-0000-4000-8000-000000000000", {"min_position": str(position)})

    assert (behind.status_code, behind.json()["code"], behind["Retry-After"]) == (503, "read_model_behind", "1")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "account_not_found")
    catch_up_everything()
    assert teller.get(f"/api/accounts/{newest}", {"min_position": str(position)}).status_code == 200


def test_search_lists_by_prefix_and_customers_see_their_own(teller, alice, accounts):
    alice_id, bob_id = accounts

    by_name = teller.get("/api/accounts", {"q": "lidd"}).json()["items"]
    by_id = teller.get("/api/accounts", {"q": bob_id[:8]}).json()["items"]
    mine = alice.get("/api/accounts").json()["items"]
    none = alice.get("/api/accounts", {"q": "bob"}).json()["items"]

    assert [item["account_id"] for item in by_name] == [alice_id]
    assert [item["account_id"] for item in by_id] == [bob_id]
    assert [item["account_id"] for item in mine] == [alice_id]
    assert none == []


def test_listing_pages_with_a_cursor_and_filters_by_status(teller, accounts):
    for n in range(3):
        open_account(teller, holder_name=f"Page Person {n}")
    teller.post(f"/api/accounts/{accounts[1]}/freeze", {"reason": "x"})
    catch_up_everything()

    first = teller.get("/api/accounts", {"limit": "2"}).json()
    rest = teller.get("/api/accounts", {"limit": "50", "cursor": first["next_cursor"]}).json()
    frozen = teller.get("/api/accounts", {"status": "frozen"}).json()["items"]

    seen = [i["account_id"] for i in first["items"] + rest["items"]]
    assert len(seen) == len(set(seen)) == 5 and rest["next_cursor"] is None
    assert [i["account_id"] for i in frozen] == [accounts[1]]
    assert teller.get("/api/accounts", {"status": "gone"}).status_code == 422
    assert teller.get("/api/accounts", {"cursor": "garbage"}).status_code == 400


def test_the_ledger_lists_movements_newest_first(teller, accounts):
    alice, bob = accounts
    teller.post("/api/transfers", {"from_account": alice, "to_account": bob, "amount": "2.34"})
    catch_up_everything()

    items = teller.get(f"/api/accounts/{alice}/ledger").json()["items"]

    assert [(i["kind"], i["amount"], i["balance_after"]) for i in items] == [
        ("transfer_out", "-2.34", "10.00"),
        ("deposit", "12.34", "12.34"),
    ]
    assert items[0]["counterparty"] == bob


def test_another_customers_account_is_404_on_the_query_side_too(bob, accounts):
    alice, _ = accounts
    assert bob.get(f"/api/accounts/{alice}").status_code == 404
    assert bob.get(f"/api/accounts/{alice}/ledger").status_code == 404


def test_the_global_log_is_for_tellers_and_auditors(teller, auditor, alice, accounts):
    first = teller.get("/api/events", {"limit": "2"}).json()
    second = auditor.get("/api/events", {"after_position": first["next_cursor"], "limit": "2"}).json()

    assert len(first["items"]) == 2 and first["head_position"] >= first["items"][-1]["position"]
    assert second["items"][0]["position"] != first["items"][0]["position"]
    assert alice.get("/api/events").status_code == 403
    beyond = teller.get("/api/events", {"after_position": str(first["head_position"])}).json()
    assert beyond["items"] == [] and beyond["next_cursor"] is None  # any position is a place to resume from
    assert teller.get("/api/events", {"after_position": "-1"}).status_code == 422


def test_without_redis_account_reads_fall_back_to_the_database(teller, accounts, settings):
    alice, _ = accounts
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    optional_redis.reset()
    try:
        response = teller.get(f"/api/accounts/{alice}")
    finally:
        optional_redis.reset()
    assert (response.status_code, response.json()["balance"]) == (200, "12.34")


def test_the_projector_writes_the_cache_after_commit(teller, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        account = open_account(teller)
        deposit(teller, account, "4.00")

    cached = cache.get(UUID(account))
    assert cached is not None and cached["balance"] == 400


def test_health_readiness_and_metrics(teller, users):
    assert Client().get("/healthz").json() == {"status": "ok"}
    ready = Client().get("/readyz").json()
    assert ready == {"status": "ready", "checks": {"postgresql": "ok", "redis": "ok"}}
    assert Client().get("/metrics").status_code == 403
    operator = Client()
    operator.login(username="operator", password="correct-horse-42")
    metrics = operator.get("/metrics").content.decode()
    assert 'ledger_projection_lag_events{projector="account_summaries"}' in metrics
    assert "ledger_commands_total" in metrics


def test_metrics_with_the_token(settings, users):
    settings.LEDGER_METRICS_TOKEN = "s3cret-token"
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token").status_code == 200
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
