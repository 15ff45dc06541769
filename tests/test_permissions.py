"""The permission matrix: every page, fragment action, API endpoint, admin URL and ops action, for each role, a
customer who owns the account, one who does not, and an anonymous visitor. A foreign account and one that does
not exist answer the same, so account ids cannot be probed."""

from __future__ import annotations

import time
import uuid

import pytest
from django.test import Client

from tests.api_client import PASSWORD, deposit, login, open_account

pytestmark = pytest.mark.django_db
WHO = ("teller", "auditor", "operator", "alice", "bob", "anonymous")

# (method, path) -> the status for each of WHO. {A}: alice's account; {X}: an account that does not exist.
PAGES = {
    ("GET", "/accounts/"): (200, 200, 403, 200, 200, 302),
    ("GET", "/accounts/new/"): (200, 403, 403, 200, 200, 302),
    ("GET", "/accounts/{A}/"): (200, 200, 403, 200, 404, 302),
    ("GET", "/accounts/{X}/"): (404, 404, 403, 404, 404, 302),
    ("GET", "/accounts/{A}/history/"): (200, 200, 403, 200, 404, 302),
    ("GET", "/accounts/{X}/history/"): (404, 404, 403, 404, 404, 302),
    ("GET", "/transfers/new/"): (200, 403, 403, 200, 200, 302),
    ("GET", "/events/"): (200, 200, 403, 403, 403, 302),
    ("GET", "/dashboard/"): (200, 200, 403, 403, 403, 302),
    ("GET", "/ops/"): (403, 403, 200, 403, 403, 302),
    ("POST", "/ops/daily_totals/retry/"): (403, 403, 302, 403, 403, 302),
    ("POST", "/ops/daily_totals/rebuild/"): (403, 403, 302, 403, 403, 302),
    ("POST", "/ops/forget-customer/"): (403, 403, 302, 403, 403, 302),
    ("GET", "/ops/rq/"): (403, 403, 200, 403, 403, 302),
    ("GET", "/metrics"): (403, 403, 200, 403, 403, 403),
    ("GET", "/admin/"): (302, 200, 200, 302, 302, 302),
    ("GET", "/admin/eventstore/event/"): (302, 200, 403, 302, 302, 302),
    ("GET", "/admin/projections/projectioncheckpoint/"): (302, 200, 200, 302, 302, 302),
    ("POST", "/accounts/{A}/deposit/"): (302, 403, 403, 302, 404, 302),
    ("POST", "/accounts/{X}/deposit/"): (404, 403, 403, 404, 404, 302),
    ("POST", "/accounts/{A}/freeze/"): (302, 403, 403, 403, 403, 302),  # customers may freeze nothing at all
}
API = {
    ("GET", "/api/accounts"): (200, 200, 403, 200, 200, 401),
    ("GET", "/api/accounts/{A}"): (200, 200, 403, 200, 404, 401),
    ("GET", "/api/accounts/{X}"): (404, 404, 403, 404, 404, 401),
    ("GET", "/api/accounts/{A}/ledger"): (200, 200, 403, 200, 404, 401),
    ("GET", "/api/accounts/{A}/events"): (200, 200, 403, 200, 404, 401),
    ("GET", "/api/accounts/{A}/state"): (200, 200, 403, 200, 404, 401),
    ("GET", "/api/accounts/{X}/state"): (404, 404, 403, 404, 404, 401),
    ("GET", "/api/events"): (200, 200, 403, 403, 403, 401),
    ("GET", "/api/projections"): (200, 200, 200, 403, 403, 401),
    ("GET", "/api/notifications"): (200, 200, 200, 403, 403, 401),
    ("POST", "/api/accounts/{A}/deposits"): (201, 403, 403, 201, 404, 401),
    ("POST", "/api/accounts/{X}/deposits"): (404, 403, 403, 404, 404, 401),
    ("POST", "/api/accounts/{A}/freeze"): (201, 403, 403, 403, 403, 401),
}


@pytest.fixture
def account(users) -> str:
    teller = login("teller")
    account_id = open_account(teller, owner="alice")
    deposit(teller, account_id, "10.00")
    from projections.jobs import catch_up_everything

    catch_up_everything()
    return account_id


def page_client(who: str) -> Client:
    client = Client()
    if who != "anonymous":
        assert client.login(username=who, password=PASSWORD)
    return client


def fill(path: str, account: str) -> str:
    return path.replace("{A}", account).replace("{X}", str(uuid.uuid4()))


def body(path: str) -> dict[str, str]:
    fields = {"amount": "1.00"} if path.endswith(("deposit/", "deposits")) else {}
    fields |= {"reason": "checking"} if path.endswith(("freeze/", "freeze")) else {}
    if path.endswith("/") and path.startswith("/accounts/"):  # a page's form carries its own key
        fields["idempotency_key"] = str(uuid.uuid4())
    return fields


@pytest.mark.parametrize(("method", "path"), list(PAGES))
def test_pages_answer_each_role_as_the_matrix_says(account, method, path):
    answers = {}
    for who, expected in zip(WHO, PAGES[(method, path)], strict=True):
        client = page_client(who)
        url = fill(path, account)
        response = client.get(url) if method == "GET" else client.post(url, body(path))
        answers[who] = (response.status_code, expected)
    assert {who: got for who, (got, _) in answers.items()} == {who: want for who, (_, want) in answers.items()}


@pytest.mark.parametrize(("method", "path"), list(API))
def test_the_api_answers_each_role_as_the_matrix_says(account, method, path):
    answers = {}
    for who, expected in zip(WHO, API[(method, path)], strict=True):
        api = login(who) if who != "anonymous" else None
        url = fill(path, account)
        if api is None:
            client = Client()
            response = (
                client.get(url) if method == "GET" else client.post(url, body(path), content_type="application/json")
            )
        else:
            response = api.get(url) if method == "GET" else api.post(url, body(path))
        answers[who] = (response.status_code, expected)
    assert {who: got for who, (got, _) in answers.items()} == {who: want for who, (_, want) in answers.items()}


def test_a_foreign_account_and_a_missing_one_answer_the_same_to_a_customer(account):
    bob, missing = login("bob"), str(uuid.uuid4())
    for suffix in ("", "/ledger", "/events", "/state"):
        foreign, absent = bob.get(f"/api/accounts/{account}{suffix}"), bob.get(f"/api/accounts/{missing}{suffix}")

        assert foreign.status_code == absent.status_code == 404
        assert foreign.json() | {"detail": foreign.json()["detail"].replace(account, "ID")} == absent.json() | {
            "detail": absent.json()["detail"].replace(missing, "ID")
        }


def test_an_invalid_htmx_form_on_someone_else_s_account_shows_nothing_of_it(account):
    bob = page_client("bob")

    response = bob.post(f"/accounts/{account}/deposit/", {"amount": "not money"}, HTTP_HX_REQUEST="true")

    assert response.status_code == 404
    assert "expected_version" not in response.content.decode() and account not in response.content.decode()


def test_a_read_your_writes_wait_on_someone_else_s_account_is_refused_before_it_waits(account):
    from projections import selectors

    selectors.WAIT_SECONDS, waited = 30.0, selectors.WAIT_SECONDS
    try:
        started = time.monotonic()
        response = login("bob").get(f"/api/accounts/{account}", {"min_position": str(2**62)})
        took = time.monotonic() - started
    finally:
        selectors.WAIT_SECONDS = waited

    assert response.status_code == 404
    assert took < 10  # it would have waited the full 30 s had the check come after the wait
