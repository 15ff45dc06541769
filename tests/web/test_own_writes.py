"""Read-your-own-writes in pages: after a user's command (a form, or the API with the session cookie), a page
for the account waits (at most web.freshness.WAIT_SECONDS) for the read models to hold it, so its forms never
carry a version older than the user's own last write."""

from __future__ import annotations

import re
import threading
import time

import pytest
from django.db import connection

from gateway.optional_redis import optional_redis
from projections.jobs import PENDING_PREFIX, catch_up_everything
from projections.registry import PROJECTORS
from tests.api_client import deposit, open_account
from tests.web.test_pages import browser, form_fields
from web import freshness

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def quiet_projectors():
    """The doorbells rung already: a command enqueues no catch-up, so the read models stay behind until the
    test catches them up (the synchronous queue of the tests would otherwise apply each command at once)."""
    client = optional_redis.client()
    for name in PROJECTORS:
        client.set(PENDING_PREFIX + name, "1")
    yield
    for name in PROJECTORS:
        client.delete(PENDING_PREFIX + name)


@pytest.fixture
def account(users, teller):
    account_id = open_account(teller, holder_name="Alice Liddell")
    deposit(teller, account_id, "50.00")
    catch_up_everything()
    return account_id


def session_deposit(client, account_id: str, amount: str) -> dict:
    """A deposit through the API with the page's session cookie (as a script on the page would send it)."""
    response = client.post(f"/api/accounts/{account_id}/deposits", {"amount": amount}, content_type="application/json")
    assert response.status_code == 201, response.content
    return response.json()


def test_a_page_after_my_api_deposit_waits_for_it_and_its_forms_carry_my_version(account, quiet_projectors):
    client = browser("teller")
    mine = session_deposit(client, account, "7.00")  # version 3; the read models still say 2

    def catch_up_soon() -> None:
        time.sleep(0.4)
        catch_up_everything()
        connection.close()

    helper = threading.Thread(target=catch_up_soon)
    helper.start()
    started = time.monotonic()
    page = client.get(f"/accounts/{account}/")
    waited = time.monotonic() - started
    helper.join()

    html = page.content.decode()
    assert 0.3 < waited < freshness.WAIT_SECONDS
    assert 'data-testid="balance">57.00' in html
    assert form_fields(html, "form-deposit")["expected_version"] == str(mine["version"]) == "3"
    assert "updating" not in html


def test_a_page_whose_read_models_stay_behind_shows_the_badge_and_still_my_version(account, quiet_projectors):
    client = browser("teller")
    mine = session_deposit(client, account, "7.00")

    started = time.monotonic()
    page = client.get(f"/accounts/{account}/")

    html = page.content.decode()
    assert time.monotonic() - started >= freshness.WAIT_SECONDS
    assert re.search(r'data-testid="pending"[^>]*>saved — updating', html)
    assert form_fields(html, "form-deposit")["expected_version"] == str(mine["version"])
    assert 'data-testid="balance">50.00' in html  # the read model as it is: the badge says it is behind


def test_a_form_sent_after_my_api_deposit_is_applied_without_a_conflict(account, quiet_projectors):
    client = browser("teller")
    session_deposit(client, account, "7.00")
    html = client.get(f"/accounts/{account}/").content.decode()

    response = client.post(
        f"/accounts/{account}/withdraw/", {**form_fields(html, "form-withdraw"), "amount": "1.00", "reference": ""}
    )

    assert response.status_code == 302, response.content.decode()[:500]


def test_someone_elses_deposit_is_not_waited_for(account, quiet_projectors, teller):
    deposit(teller, account, "7.00")  # a Bearer token: no session, nothing remembered
    client = browser("auditor")

    started = time.monotonic()
    page = client.get(f"/accounts/{account}/")

    assert page.status_code == 200
    assert time.monotonic() - started < freshness.WAIT_SECONDS / 2
