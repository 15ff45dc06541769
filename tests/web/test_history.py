"""The history page: time travel by version and by moment, and the comparison of two versions."""

from __future__ import annotations

from datetime import UTC, timedelta
from uuid import UUID

import pytest

from commands.domain import accounts
from eventstore import store
from tests.api_client import deposit, open_account
from tests.web.test_pages import HTMX, browser

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(users, teller):
    account_id = open_account(teller, holder_name="Alice Liddell")
    deposit(teller, account_id, "50.00")
    deposit(teller, account_id, "25.00")
    response = teller.post(f"/api/accounts/{account_id}/withdrawals", {"amount": "5.00"})
    assert response.status_code == 201, response.content
    return account_id


def recorded(account_id: str) -> list:
    return [event.recorded_at for event in store.load(accounts.account_stream(UUID(account_id))).events]


def test_the_history_page_names_its_account_and_lists_every_event(account):
    html = browser("teller").get(f"/accounts/{account}/history/").content.decode()

    assert "History of Alice Liddell" in html
    assert html.count('data-testid="history"') == 1 and html.count("?version=") == 4
    assert 'data-testid="state-balance">70.00' in html


def test_a_moment_between_two_events_shows_the_state_after_the_earlier_one(account):
    times = recorded(account)
    between = times[1] + (times[2] - times[1]) / 2  # after the first deposit, before the second

    page = browser("teller").get(f"/accounts/{account}/history/", {"at": between.isoformat()}, **HTMX)

    html = page.content.decode()
    assert "Version 2, after" in html
    assert 'data-testid="state-balance">50.00' in html
    assert 'data-testid="notice"' not in html


def test_a_moment_without_a_zone_is_read_as_utc_like_the_picker_sends_it(account):
    third = recorded(account)[2]
    utc_text = third.astimezone(UTC).replace(tzinfo=None).isoformat()  # what <input type=datetime-local> sends

    html = browser("teller").get(f"/accounts/{account}/history/", {"at": utc_text}).content.decode()

    assert "Version 3, after" in html


def test_a_moment_before_the_opening_says_so_and_shows_the_opening(account):
    before = recorded(account)[0] - timedelta(days=1)

    html = browser("teller").get(f"/accounts/{account}/history/", {"at": before.isoformat()}).content.decode()

    assert "did not exist yet" in html and "Version 1, after" in html


def test_a_moment_that_is_not_a_date_is_a_notice_not_an_error(account):
    page = browser("teller").get(f"/accounts/{account}/history/", {"at": "last tuesday"})

    assert page.status_code == 200 and "is not a date and time" in page.content.decode()


def test_comparing_two_versions_marks_what_changed_and_lists_the_events_between(account):
    page = browser("teller").get(f"/accounts/{account}/compare/", {"from": "2", "to": "4"})

    html = page.content.decode()
    assert page.status_code == 200
    assert "version 2 against 4" in html
    balance = html.split('data-testid="compare-balance"')[1].split("</tr>")[0]
    assert "50.00" in balance and "70.00" in balance and "changed" in balance
    owner = html.split('data-testid="compare-owner"')[1].split("</tr>")[0]
    assert "changed" not in owner
    assert "2 events between them" in html
    assert "FundsDeposited" in html and "FundsWithdrawn" in html


def test_comparing_clamps_and_orders_the_versions(account):
    html = browser("teller").get(f"/accounts/{account}/compare/", {"from": "99", "to": "0"}).content.decode()

    assert "version 1 against 4" in html


def test_another_customers_history_and_comparison_are_not_found(account, users):
    client = browser("bob")

    assert client.get(f"/accounts/{account}/history/").status_code == 404
    assert client.get(f"/accounts/{account}/compare/").status_code == 404


def test_payloads_show_money_as_the_api_does(account):
    html = browser("teller").get(f"/accounts/{account}/history/").content.decode()

    assert "&quot;amount&quot;: &quot;25.00&quot;" in html
