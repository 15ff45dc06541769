"""The transfer form's account pickers in a real Chromium: each account is found by part of its holder's name."""

from __future__ import annotations

import random
import re
import string
import time

import pytest
from playwright.sync_api import expect

from projections.jobs import catch_up_everything
from projections.models import AccountSearch
from tests.api_client import deposit, open_account
from tests.api_client import login as api_login
from tests.browser.test_flows import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def searchable(*names: str) -> None:
    """Until the search read model holds every name (the page's list comes from it)."""
    deadline = time.monotonic() + 10
    while AccountSearch.objects.filter(holder_name__in=names).count() < len(names):
        assert time.monotonic() < deadline, f"{names} never became searchable"
        catch_up_everything()
        time.sleep(0.1)


def test_a_teller_picks_both_accounts_by_name_and_sends_a_transfer(chromium, live_server, users, shoot):
    surname = "Tin" + "".join(random.choices(string.ascii_lowercase, k=6))  # no other test's holder matches
    sender, receiver = f"Nick {surname.title()}", f"Tik-Tok {surname.title()}ski"
    teller = api_login("teller")
    source = open_account(teller, holder_name=sender)
    target = open_account(teller, owner="bob", holder_name=receiver)
    deposit(teller, source, "5000.00")
    searchable(sender, receiver)
    context = chromium.new_context(viewport={"width": 1280, "height": 1000})
    page = login(context, live_server.url, "teller")
    page.goto(f"{live_server.url}/transfers/new/")

    page.locator("#id_from_account_search").press_sequentially(surname[:6], delay=40)
    page.get_by_test_id("from_account-options").get_by_text(sender).click()
    page.locator("#id_to_account_search").press_sequentially(f"tik {surname[:5]}", delay=40)
    page.get_by_test_id("to_account-options").get_by_text(receiver).click()
    shoot(page, "transfer-picker")
    page.fill("input[name=amount]", "1250.00")
    expect(page.locator(f"input[name=from_account][value='{source}']")).to_be_checked()
    page.click("button:has-text('Send transfer')")

    expect(page).to_have_url(re.compile(rf"/accounts/{source}/"))
    expect(page.get_by_test_id("balance")).to_contain_text("3,750.00")
    newest = page.get_by_test_id("ledger").locator("tbody tr").first
    expect(newest).to_contain_text("Transfer out")
    expect(newest.get_by_test_id("counterparty")).to_have_text(receiver)
    expect(newest.get_by_test_id("counterparty")).to_have_attribute("href", f"/accounts/{target}/")
    shoot(page, "account-after-picked-transfer")
    context.close()
