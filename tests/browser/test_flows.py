"""The flows people use, in a real headless Chromium against a live server (issue: web UI)."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from projections.jobs import catch_up_everything
from tests.api_client import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(context, base: str, username: str, *, lands_on: str = r"/accounts/$") -> Page:
    """A new page logged in as `username`, on the page it lands on (a regex; the accounts list for a teller)."""
    page = context.new_page()
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Log in')")
    expect(page).to_have_url(re.compile(lands_on))
    return page


def open_account(page: Page, base: str, holder: str, owner: str = "alice") -> str:
    page.goto(f"{base}/accounts/new/")
    page.fill("input[name=holder_name]", holder)
    page.fill("input[name=email]", "holder@example.com")
    page.fill("input[name=owner]", owner)
    page.click("button:has-text('Open account')")
    expect(page).to_have_url(re.compile(r"/accounts/[0-9a-f-]{36}/"))
    return page.url.split("/")[4]


def deposit(page: Page, amount: str) -> None:
    form = page.locator("[data-testid=form-deposit]")
    form.locator("input[name=amount]").fill(amount)
    form.locator("button").click()


def test_teller_opens_an_account_deposits_and_the_page_updates_without_a_reload(teller_page, live_server, shoot):
    page, _ = teller_page
    open_account(page, live_server.url, "Dorothy Gale")
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))

    deposit(page, "125.50")

    expect(page.get_by_test_id("balance")).to_contain_text("125.50")
    expect(page.get_by_test_id("pending")).to_contain_text("up to date")
    expect(page.get_by_test_id("ledger")).to_contain_text("125.50")
    expect(page.locator("[data-testid=chart] polyline")).to_have_count(1)
    assert navigations == []  # htmx swapped the panels; the page never reloaded
    shoot(page, "account-after-deposit")


def test_withdrawing_too_much_shows_the_error_inline(teller_page, live_server, shoot):
    page, _ = teller_page
    open_account(page, live_server.url, "Scarecrow")
    deposit(page, "10.00")
    expect(page.get_by_test_id("balance")).to_contain_text("10.00")

    form = page.locator("[data-testid=form-withdraw]")
    form.locator("input[name=amount]").fill("500.00")
    form.locator("button").click()

    expect(page.get_by_test_id("error")).to_contain_text("insufficient funds")
    expect(page.locator("[data-testid=form-withdraw] input[name=amount]")).to_have_value("500.00")
    shoot(page, "withdraw-refused")


def test_two_browsers_on_one_account_the_second_sees_the_conflict_and_applies_on_the_new_version(
    chromium, teller_page, live_server, shoot
):
    first, _ = teller_page
    account = open_account(first, live_server.url, "Tin Woodman")
    other_context = chromium.new_context()
    second = login(other_context, live_server.url, "teller")
    second.goto(f"{live_server.url}/accounts/{account}/")

    deposit(first, "20.00")
    expect(first.get_by_test_id("balance")).to_contain_text("20.00")
    deposit(second, "5.00")  # this form still carries the version before the first deposit

    expect(second.get_by_test_id("conflict")).to_contain_text("FundsDeposited")
    shoot(second, "conflict-panel")
    second.get_by_test_id("apply-anyway").click()
    expect(second.get_by_test_id("balance")).to_contain_text("25.00")
    other_context.close()


def test_live_search_finds_the_account_as_you_type(teller_page, live_server, shoot):
    page, _ = teller_page
    open_account(page, live_server.url, "Glinda Goodwitch")
    page.goto(f"{live_server.url}/accounts/")

    page.locator("#q").press_sequentially("goodw", delay=40)

    expect(page.locator("#rows")).to_contain_text("Glinda Goodwitch")
    page.locator("#q").fill("nobody-like-this")
    expect(page.locator("#rows")).to_contain_text("No accounts match")
    shoot(page, "live-search")


def test_time_travel_shows_the_balance_at_an_earlier_version(teller_page, live_server, shoot):
    page, _ = teller_page
    account = open_account(page, live_server.url, "Toto")
    deposit(page, "10.00")
    expect(page.get_by_test_id("balance")).to_contain_text("10.00")
    deposit(page, "15.00")
    expect(page.get_by_test_id("balance")).to_contain_text("25.00")
    page.goto(f"{live_server.url}/accounts/{account}/history/")
    expect(page.get_by_test_id("state-balance")).to_have_text("25.00")

    page.get_by_test_id("slider").fill("2")

    expect(page.get_by_test_id("state-balance")).to_have_text("10.00")
    expect(page.get_by_test_id("state-caption")).to_contain_text("FundsDeposited")
    shoot(page, "time-travel")


def test_a_customer_cannot_reach_another_customers_account(chromium, teller_page, live_server):
    teller, _ = teller_page
    bobs = open_account(teller, live_server.url, "Bob's Account", owner="bob")
    context = chromium.new_context()
    alice = login(context, live_server.url, "alice")

    response = alice.goto(f"{live_server.url}/accounts/{bobs}/")

    assert response is not None and response.status == 404
    context.close()


def test_the_admin_shows_events_read_only(chromium, teller_page, live_server, shoot):
    teller, _ = teller_page
    open_account(teller, live_server.url, "Audit Me")
    context = chromium.new_context()
    admin = context.new_page()
    admin.goto(f"{live_server.url}/admin/login/")
    admin.fill("input[name=username]", "admin")
    admin.fill("input[name=password]", PASSWORD)
    admin.click("input[type=submit]")
    admin.goto(f"{live_server.url}/admin/eventstore/event/")

    expect(admin.locator("#result_list")).to_contain_text("AccountOpened")
    expect(admin.locator("#content .object-tools a.addlink")).to_have_count(0)  # (the sidebar may add users)
    expect(admin.locator("select[name=action]")).to_have_count(0)
    admin.locator("#result_list tbody tr a").first.click()
    expect(admin.locator("input[name=_save]")).to_have_count(0)
    expect(admin.locator("a.deletelink")).to_have_count(0)
    expect(admin.locator("pre.payload").first).to_be_visible()
    shoot(admin, "admin-event")
    context.close()


def test_without_javascript_opening_and_depositing_work_with_plain_posts(chromium, live_server, users, shoot):
    context = chromium.new_context(java_script_enabled=False)
    page = login(context, live_server.url, "teller")
    account = open_account(page, live_server.url, "No Script")

    deposit(page, "42.00")

    expect(page).to_have_url(re.compile(rf"/accounts/{account}/\?pending=\d+"))
    catch_up_everything()  # without JavaScript nothing polls: the person reloads
    page.reload()
    expect(page.get_by_test_id("balance")).to_contain_text("42.00")
    shoot(page, "no-javascript")
    context.close()
    assert uuid.UUID(account)
