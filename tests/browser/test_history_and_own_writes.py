"""Read-your-own-writes on the account page, time travel by moment and the comparison of two versions, in a
real headless Chromium against a live server."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest
from playwright.sync_api import expect

from commands.domain import accounts
from eventstore import store
from tests.browser.test_flows import deposit, open_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

API_DEPOSIT = """async ([account, amount]) => {
    const csrf = JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
    const response = await fetch(`/api/accounts/${account}/deposits`, {
        method: "POST", headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
        body: JSON.stringify({amount}), credentials: "same-origin"});
    return [response.status, await response.json()];
}"""


def test_a_stale_page_after_my_own_api_deposit_sends_its_form_without_a_conflict(
    teller_page, live_server, read_models, shoot
):
    page, context = teller_page
    account = open_account(page, live_server.url, "Ozma of Oz")
    deposit(page, "10.00")
    expect(page.get_by_test_id("balance")).to_contain_text("10.00")
    expect(page.get_by_test_id("pending")).to_contain_text("up to date")
    read_models.hold()

    other_tab = context.new_page()
    other_tab.goto(f"{live_server.url}/accounts/{account}/")
    status, body = other_tab.evaluate(API_DEPOSIT, [account, "5.00"])
    assert status == 201 and body["version"] == 3
    page.reload()  # the read models still say version 2; the page waits, then says it is updating

    expect(page.get_by_test_id("pending")).to_contain_text("updating")
    assert page.locator("[data-testid=form-withdraw] input[name=expected_version]").input_value() == "3"
    read_models.release()
    form = page.locator("[data-testid=form-withdraw]")
    form.locator("input[name=amount]").fill("1.00")
    form.locator("button").click()

    expect(page.get_by_test_id("balance")).to_contain_text("14.00")
    expect(page.get_by_test_id("conflict")).to_have_count(0)
    shoot(page, "own-writes")


def test_time_travel_by_moment_and_the_comparison_of_two_versions(teller_page, live_server, shoot):
    page, _ = teller_page
    account = open_account(page, live_server.url, "Jack Pumpkinhead")
    deposit(page, "10.00")
    expect(page.get_by_test_id("balance")).to_contain_text("10.00")
    page.wait_for_timeout(1200)  # the picker has one-second steps: the two deposits a second apart
    deposit(page, "15.00")
    expect(page.get_by_test_id("balance")).to_contain_text("25.00")
    times = [event.recorded_at for event in store.load(accounts.account_stream(UUID(account))).events]
    between = times[1].replace(microsecond=0) + timedelta(seconds=1)  # after the first deposit, before the second
    assert times[1] < between < times[2]

    page.goto(f"{live_server.url}/accounts/{account}/history/")
    page.get_by_test_id("moment").fill(between.strftime("%Y-%m-%dT%H:%M:%S"))
    page.get_by_test_id("show-moment").click()

    expect(page.get_by_test_id("state-caption")).to_contain_text("Version 2")
    expect(page.get_by_test_id("state-balance")).to_have_text("10.00")
    shoot(page, "time-travel-by-moment")
    page.get_by_text("Compare with the version before").click()

    expect(page.get_by_test_id("compare-balance")).to_contain_text("changed")
    expect(page.get_by_test_id("compare-balance")).to_contain_text("10.00")
    expect(page.get_by_test_id("compare-events")).to_contain_text("FundsDeposited")
    shoot(page, "compare-versions")
