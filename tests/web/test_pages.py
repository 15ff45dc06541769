"""Pages and their htmx partials: 200, 409 and 422, roles, and user text rendered inert everywhere."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from django.test import Client

from projections.jobs import catch_up_everything
from tests.api_client import PASSWORD, deposit, open_account

pytestmark = pytest.mark.django_db
XSS = "<img src=x onerror=alert(1)>"
HTMX: dict[str, Any] = {"HTTP_HX_REQUEST": "true"}


def browser(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


def form_fields(html: str, testid: str) -> dict[str, str]:
    """The hidden fields of one form on a page (expected_version, idempotency_key)."""
    form = re.search(rf'data-testid="{testid}".*?</form>', html, re.S)
    assert form, f"no form {testid}"
    return dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', form.group(0)))


@pytest.fixture
def account(teller):
    account_id = open_account(teller, holder_name="Alice Liddell")
    deposit(teller, account_id, "50.00")
    catch_up_everything()
    return account_id


def test_the_account_page_shows_summary_chart_ledger_and_forms(users, account):
    page = browser("teller").get(f"/accounts/{account}/")

    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="balance">50.00' in html
    assert 'data-testid="chart"' in html and "<polyline" in html
    assert "Deposit" in html and 'data-testid="form-freeze"' in html
    assert page["Content-Security-Policy"].startswith("default-src 'self'; script-src 'self'")
    assert "<script>" not in html and "<script " not in html.replace('<script src="/static/', "")


def test_a_deposit_through_htmx_answers_fresh_forms_and_a_trigger_for_the_pending_badge(users, account):
    client = browser("teller")
    fields = form_fields(client.get(f"/accounts/{account}/").content.decode(), "form-deposit")

    response = client.post(f"/accounts/{account}/deposit/", {**fields, "amount": "5.00", "reference": "tip"}, **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.startswith('<section id="forms"') or '<section id="forms"' in html[:200]
    assert "command-saved" in response["HX-Trigger"]
    page = client.get(f"/accounts/{account}/").content.decode()
    assert 'hx-trigger="command-saved from:body"' in page  # the badge asks when a command is saved
    new_fields = form_fields(html, "form-deposit")
    assert new_fields["expected_version"] == "3" and new_fields["idempotency_key"] != fields["idempotency_key"]


def test_a_deposit_without_javascript_redirects_to_the_account_page(users, account):
    client = browser("teller")
    fields = form_fields(client.get(f"/accounts/{account}/").content.decode(), "form-deposit")

    response = client.post(f"/accounts/{account}/deposit/", {**fields, "amount": "5.00"})

    assert response.status_code == 302 and response["Location"].startswith(f"/accounts/{account}/?pending=")
    catch_up_everything()
    assert 'data-testid="balance">55.00' in client.get(response["Location"]).content.decode()


def test_a_double_submitted_form_applies_once(users, account):
    client = browser("teller")
    fields = form_fields(client.get(f"/accounts/{account}/").content.decode(), "form-deposit")
    for _ in range(2):
        client.post(f"/accounts/{account}/deposit/", {**fields, "amount": "5.00"})
    catch_up_everything()

    assert 'data-testid="balance">55.00' in client.get(f"/accounts/{account}/").content.decode()


@pytest.mark.parametrize("htmx", [True, False], ids=["partial", "page"])
def test_a_refused_withdrawal_is_422_inline_with_the_input_kept(users, account, htmx):
    client = browser("teller")
    fields = form_fields(client.get(f"/accounts/{account}/").content.decode(), "form-withdraw")

    response = client.post(
        f"/accounts/{account}/withdraw/",
        {**fields, "amount": "999.00", "reference": "too much"},
        **(HTMX if htmx else {}),
    )

    html = response.content.decode()
    assert response.status_code == 422
    assert "insufficient funds" in html and 'data-testid="error"' in html
    assert 'value="999.00"' in html and 'value="too much"' in html
    assert ("<html" in html) is not htmx


def test_a_malformed_amount_is_a_field_error(users, account):
    client = browser("teller")
    fields = form_fields(client.get(f"/accounts/{account}/").content.decode(), "form-deposit")

    response = client.post(f"/accounts/{account}/deposit/", {**fields, "amount": "1.234"}, **HTMX)

    assert response.status_code == 422 and 'data-testid="field-error"' in response.content.decode()


@pytest.mark.parametrize("htmx", [True, False], ids=["partial", "page"])
def test_a_stale_form_shows_the_conflict_panel_with_what_changed(users, account, teller, htmx):
    client = browser("teller")
    fields = form_fields(client.get(f"/accounts/{account}/").content.decode(), "form-deposit")
    teller.post(f"/api/accounts/{account}/withdrawals", {"amount": "1.00"}, **{"X-Correlation-ID": "someone-else"})

    response = client.post(f"/accounts/{account}/deposit/", {**fields, "amount": "5.00"}, **(HTMX if htmx else {}))

    html = response.content.decode()
    assert response.status_code == 409
    assert 'data-testid="conflict"' in html and "FundsWithdrawn" in html and "teller" in html
    retry = form_fields(html, "conflict")
    assert retry["expected_version"] == "3" and retry["amount"] == "5.00"
    applied = client.post(f"/accounts/{account}/deposit/", retry, **HTMX)
    assert applied.status_code == 200


def test_time_travel_shows_the_state_at_an_earlier_version_and_what_changed(users, account):
    client = browser("auditor")

    page = client.get(f"/accounts/{account}/history/?version=1").content.decode()
    partial = client.get(f"/accounts/{account}/history/?version=2", **HTMX)

    assert 'data-testid="state-balance">0.00' in page
    assert partial.status_code == 200 and "<html" not in partial.content.decode()
    assert re.search(r'class="changed"[^>]*data-testid="state-balance">50.00', partial.content.decode())


def test_the_account_list_searches_as_you_type(users, account):
    client = browser("teller")
    page = client.get("/accounts/").content.decode()
    rows = client.get("/accounts/", {"q": "lidd"}, **HTMX).content.decode()
    none = client.get("/accounts/", {"q": "zzzz"}, **HTMX).content.decode()

    assert 'hx-trigger="input changed delay:300ms' in page
    assert rows.startswith('<div id="rows">') or '<div id="rows">' in rows[:50]
    assert "Alice Liddell" in rows and "No accounts match" in none


def test_customers_see_only_their_own_accounts_and_pages(users, teller, account):
    bobs = open_account(teller, owner="bob", holder_name="Bob Builder")
    catch_up_everything()
    alice = browser("alice")

    listing = alice.get("/accounts/").content.decode()

    assert "Alice Liddell" in listing and "Bob Builder" not in listing
    assert alice.get(f"/accounts/{bobs}/").status_code == 404
    assert alice.get(f"/accounts/{bobs}/history/").status_code == 404
    assert alice.get("/events/").status_code == 403
    assert 'data-testid="form-freeze"' not in alice.get(f"/accounts/{account}/").content.decode()


def test_the_pending_badge_polls_until_the_read_models_catch_up(users, account, teller):
    later = deposit(teller, account, "1.00")
    client = browser("teller")

    waiting = client.get(f"/accounts/{account}/pending/", **HTMX)  # position: the stream's last event
    catch_up_everything()
    done = client.get(f"/accounts/{account}/pending/", **HTMX)
    gave_up = client.get(f"/accounts/{account}/pending/", {"position": 2**62, "tries": 99}, **HTMX)

    assert f"position={later['position']}" in waiting.content.decode()
    assert 'hx-trigger="load delay:500ms"' in waiting.content.decode()
    assert "up to date" in done.content.decode() and "account-changed" in done["HX-Trigger"]
    assert "load delay" not in gave_up.content.decode() and "behind" in gave_up.content.decode()  # polling stops


def test_panels_refresh_as_partials(users, account):
    client = browser("teller")
    for panel in ("summary", "chart", "ledger"):
        response = client.get(f"/accounts/{account}/panel/{panel}/", **HTMX)
        assert response.status_code == 200 and response.content.decode().lstrip().startswith(f'<section id="{panel}"')


def test_open_account_and_transfer_pages(users, account):
    client = browser("teller")
    page = client.get("/accounts/new/").content.decode()
    fields = form_fields(page.replace('data-testid="open-account"', 'data-testid="open-account"'), "open-account")

    opened = client.post(
        "/accounts/new/",
        {
            **fields,
            "holder_name": "Carol",
            "email": "carol@example.com",
            "currency": "EUR",
            "overdraft_limit": "0.00",
            "owner": "bob",
        },
    )
    catch_up_everything()
    target = opened["Location"].split("/")[2]
    transfer_fields = form_fields(client.get("/transfers/new/").content.decode(), "transfer")
    sent = client.post(
        "/transfers/new/", {**transfer_fields, "from_account": account, "to_account": target, "amount": "10.00"}
    )
    refused = client.post(
        "/transfers/new/",
        {
            **form_fields(client.get("/transfers/new/").content.decode(), "transfer"),
            "from_account": account,
            "to_account": account,
            "amount": "1.00",
        },
    )

    assert opened.status_code == 302 and sent.status_code == 302
    assert refused.status_code == 422 and "two different accounts" in refused.content.decode()


def test_events_dashboard_and_ops_pages(users, account):
    staff = browser("teller")
    events = staff.get("/events/", {"type": "FundsDeposited"}).content.decode()
    assert "FundsDeposited" in events and "AccountOpened" not in events.split("<tbody>")[1]
    assert staff.get("/dashboard/").status_code == 200
    ops = browser("operator").get("/ops/")
    assert ops.status_code == 200 and 'hx-trigger="every 2s"' in ops.content.decode()
    assert staff.get("/ops/").status_code == 403 and browser("alice").get("/ops/").status_code == 403


def test_the_ops_page_shows_a_rebuild_s_progress_in_events_not_positions(users, account):
    from eventstore import store
    from projections.models import ProjectionCheckpoint

    remaining, _ = store.backlog(0)
    ProjectionCheckpoint.objects.create(name="ledger_entries__shadow", position=0, applied_events=remaining)

    ops = browser("operator").get("/ops/").content.decode()

    assert '<span class="muted">50%</span>' in ops  # half applied, half still to read


def test_user_text_is_inert_on_every_page_and_in_the_admin(users, teller):
    account = open_account(teller, holder_name=XSS, email="x@example.com")
    teller.post(f"/api/accounts/{account}/deposits", {"amount": "1.00", "reference": XSS})
    catch_up_everything()
    admin = browser("admin")
    from eventstore.models import Event

    event = Event.objects.filter(stream_id=f"account-{account}").earliest("position")
    pages = [
        f"/accounts/{account}/",
        "/accounts/",
        "/accounts/?q=x",
        f"/accounts/{account}/history/",
        f"/accounts/{account}/panel/ledger/",
        "/events/",
        "/admin/eventstore/event/",
        f"/admin/eventstore/event/{event.position}/change/",
        "/admin/projections/accountsummary/",
        "/admin/projections/ledgerentry/",
    ]
    for url in pages:
        html = admin.get(url).content.decode()
        assert XSS not in html, url
    assert "&lt;img src=x onerror=alert(1)&gt;" in admin.get(f"/accounts/{account}/").content.decode()


def test_the_admin_is_read_only_even_for_superusers(users, account):
    admin = browser("admin")
    from eventstore.models import Event

    event = Event.objects.earliest("position")
    listing = admin.get("/admin/eventstore/event/").content.decode()
    detail = admin.get(f"/admin/eventstore/event/{event.position}/change/").content.decode()

    assert admin.get("/admin/eventstore/event/add/").status_code == 403
    assert admin.get(f"/admin/eventstore/event/{event.position}/delete/").status_code == 403
    assert 'name="_save"' not in detail and "Delete" not in detail
    assert 'name="action"' not in listing  # no bulk actions
    assert admin.post(f"/admin/eventstore/event/{event.position}/change/", {"type": "x"}).status_code == 403
    assert "/history/" in detail  # a link to the stream's history page


def test_an_unknown_account_page_is_404(users):
    assert browser("teller").get(f"/accounts/{uuid.uuid4()}/").status_code == 404


def test_the_admin_filters_events_by_user_and_finds_them_by_correlation_id(users, teller, account):
    teller.post(f"/api/accounts/{account}/deposits", {"amount": "1.00"}, **{"X-Correlation-ID": "find-me-42"})
    admin = browser("admin")

    def rows(query: dict) -> str:
        html = admin.get("/admin/eventstore/event/", query).content.decode()
        return html.split('id="result_list"')[1].split("</table>")[0] if 'id="result_list"' in html else ""

    by_user, by_correlation, nobody = rows({"user": "teller"}), rows({"q": "find-me-42"}), rows({"user": "nobody"})

    assert "AccountOpened" in by_user and "FundsDeposited" in by_user
    assert by_correlation.count("FundsDeposited") == 1 and "AccountOpened" not in by_correlation
    assert "AccountOpened" not in nobody


def test_the_rq_pages_are_for_operators_only(users):
    assert browser("operator").get("/ops/rq/").status_code == 200
    assert browser("teller").get("/ops/rq/").status_code == 403
    assert browser("auditor").get("/ops/rq/").status_code == 403
    assert Client().get("/ops/rq/").status_code == 302  # to the login page


def test_only_the_rq_dashboard_may_run_its_own_inline_code(users):
    """django-rq's pages carry inline styles and onclick handlers; every page of ours keeps the strict policy."""
    operator = browser("operator")

    dashboard = operator.get("/ops/rq/")["Content-Security-Policy"]
    ops = operator.get("/ops/")["Content-Security-Policy"]

    assert "script-src 'self' 'unsafe-inline'" in dashboard and "style-src 'self' 'unsafe-inline'" in dashboard
    assert "unsafe-inline" not in ops and "script-src 'self';" in ops


def test_a_transfer_to_an_unknown_account_is_an_inline_error_not_a_404(users, account):
    client = browser("teller")
    fields = form_fields(client.get("/transfers/new/").content.decode(), "transfer")

    response = client.post(
        "/transfers/new/", {**fields, "from_account": account, "to_account": str(uuid.uuid4()), "amount": "1.00"}
    )

    assert response.status_code == 422
    assert "receiving account" in response.content.decode() and 'value="1.00"' in response.content.decode()


def test_a_customer_transferring_out_of_someone_elses_account_learns_nothing_more(users, teller):
    bobs = open_account(teller, owner="bob", holder_name="Bob Builder")
    alices = open_account(teller, owner="alice")
    client = browser("alice")
    fields = form_fields(client.get("/transfers/new/").content.decode(), "transfer")

    response = client.post("/transfers/new/", {**fields, "from_account": bobs, "to_account": alices, "amount": "1.00"})

    assert response.status_code == 422 and "does not exist" in response.content.decode()


def test_the_404_403_and_500_pages_are_the_site_s_own_and_leak_nothing(users, rf):
    from django.views.defaults import server_error

    missing = browser("teller").get(f"/accounts/{uuid.uuid4()}/")
    refused = browser("operator").get("/accounts/")
    crashed = server_error(rf.get("/"))

    for response, status, title in ((missing, 404, "Not found"), (refused, 403, "Not allowed")):
        page = response.content.decode()
        assert response.status_code == status and 'data-testid="error-page"' in page and title in page
        assert "Traceback" not in page and "DEBUG" not in page and "urlpatterns" not in page
    assert "your role reads no accounts" in refused.content.decode()  # the reason the server knows
    assert crashed.status_code == 500 and "Something went wrong" in crashed.content.decode()


# --- money, labels and names on the pages -------------------------------------------------------------


def transfer(api, source: str, target: str, amount: str) -> None:
    response = api.post("/api/transfers", {"from_account": source, "to_account": target, "amount": amount})
    assert response.status_code == 201, response.content


@pytest.fixture
def rich(teller):
    """Alice's account with 1,234,567.89 EUR in it."""
    account_id = open_account(teller, holder_name="Alice Liddell")
    deposit(teller, account_id, "1234567.89")
    catch_up_everything()
    return account_id


def test_money_text_groups_thousands_in_every_currency_and_keeps_the_sign():
    from web.display import money_text

    assert money_text(123456789, "EUR") == "1,234,567.89"
    assert money_text(-123456789, "EUR") == "-1,234,567.89"
    assert money_text(1234567, "JPY") == "1,234,567"
    assert money_text(1234567, "BHD") == "1,234.567"
    assert money_text(5, "EUR") == "0.05"


def test_pages_show_money_with_thousands_separators_and_the_api_keeps_plain_decimals(users, teller, rich):
    client = browser("teller")

    page = client.get(f"/accounts/{rich}/").content.decode()
    listing = client.get("/accounts/").content.decode()
    dashboard = client.get("/dashboard/").content.decode()

    assert 'data-testid="balance">1,234,567.89' in page
    assert page.count("1,234,567.89") >= 3  # the balance, the ledger's amount and its balance after
    assert "1,234,567.89 EUR" in listing
    assert "1,234,567.89" in dashboard and "1234567.89" not in dashboard
    assert teller.get(f"/api/accounts/{rich}").json()["balance"] == "1234567.89"


def test_the_ledger_names_entry_kinds_in_words_and_the_other_account_by_its_holder(users, teller, account):
    bobs = open_account(teller, owner="bob", holder_name="Bob Builder")
    transfer(teller, account, bobs, "10.00")
    teller.post(f"/api/accounts/{account}/withdrawals", {"amount": "1.00"})
    catch_up_everything()
    client = browser("teller")

    sender = client.get(f"/accounts/{account}/").content.decode()
    receiver = client.get(f"/accounts/{bobs}/panel/ledger/", **HTMX).content.decode()

    kinds = re.findall(r'data-testid="entry-kind">([^<]+)', sender)
    assert [kind.strip() for kind in kinds] == ["Withdrawal", "Transfer out", "Deposit"]
    assert re.search(rf'<a href="/accounts/{bobs}/" data-testid="counterparty">Bob Builder</a>', sender)
    assert "Transfer in" in receiver
    assert re.search(rf'<a href="/accounts/{account}/" data-testid="counterparty">Alice Liddell</a>', receiver)
    assert "Transferout" not in sender and "Transferin" not in receiver and f"{bobs[:8]}…" not in sender


def test_a_customer_sees_another_customers_account_only_as_another_account(users, teller, account):
    bobs = open_account(teller, owner="bob", holder_name="Bob Builder")
    savings = open_account(teller, owner="alice", holder_name="Alice Savings")
    transfer(teller, account, bobs, "10.00")
    transfer(teller, account, savings, "5.00")
    catch_up_everything()

    page = browser("alice").get(f"/accounts/{account}/").content.decode()

    others = re.findall(r'data-testid="counterparty">([^<]+)<', page)
    assert others == ["Alice Savings", "another account"]
    assert f'href="/accounts/{savings}/"' in page
    assert "Bob Builder" not in page and bobs not in page and bobs[:8] not in page


def test_the_ledger_looks_up_the_other_accounts_names_in_one_query(users, teller, account):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for name in ("Bob Builder", "Carol Singer", "Dan Dare"):
        transfer(teller, account, open_account(teller, owner="bob", holder_name=name), "1.00")
    catch_up_everything()
    client = browser("teller")

    with CaptureQueriesContext(connection) as queries:
        page = client.get(f"/accounts/{account}/panel/ledger/", **HTMX).content.decode()

    lookups = [q["sql"] for q in queries.captured_queries if "account_summaries" in q["sql"] and " IN (" in q["sql"]]
    assert len(lookups) == 1
    assert all(name in page for name in ("Bob Builder", "Carol Singer", "Dan Dare"))


def test_the_event_log_shows_amounts_and_json_payloads_with_decimal_strings(users, teller, rich):
    import html as html_lib
    import json

    page = browser("auditor").get("/events/", {"stream": rich}).content.decode()

    amounts = [a.strip() for a in re.findall(r'data-testid="event-amount">([^<]*)<', page)]
    payloads = [json.loads(html_lib.unescape(p)) for p in re.findall(r'data-testid="payload">(.*?)</pre>', page, re.S)]
    assert amounts == ["1,234,567.89 EUR", ""]  # the deposit; the opening moves no money
    assert payloads[0]["amount"] == "1234567.89" and payloads[0]["currency"] == "EUR"
    assert payloads[1]["overdraft_limit"] == "0.00" and payloads[1]["holder_name"] == "Alice Liddell"
    assert "123456789" not in page  # no cents, no Python dict
    assert re.search(rf'<a href="/accounts/{rich}/history/">Alice Liddell</a>', page)


def test_the_history_page_names_its_account_and_shows_the_same_payloads(users, rich):
    page = browser("auditor").get(f"/accounts/{rich}/history/").content.decode()

    assert "<h1>History of Alice Liddell</h1>" in page
    assert "&quot;amount&quot;: &quot;1234567.89&quot;" in page


# --- the transfer form's account pickers ----------------------------------------------------------------


@pytest.fixture
def two_alices(teller):
    """Alice's own account and Bob's, both found by the word "alice"."""
    mine = open_account(teller, owner="alice", holder_name="Alice Liddell")
    bobs = open_account(teller, owner="bob", holder_name="Alice Bobson")
    catch_up_everything()
    return mine, bobs


def choices(html: str, field: str) -> list[str]:
    return re.findall(rf'type="radio" name="{field}" value="([0-9a-f-]{{36}})"', html)


def test_a_customer_finds_only_their_own_accounts_to_send_from(users, two_alices):
    mine, bobs = two_alices
    query = {"side": "from", "from_account_search": "alic"}

    as_alice = browser("alice").get("/transfers/accounts/", query, **HTMX)
    as_teller = browser("teller").get("/transfers/accounts/", query, **HTMX)

    assert as_alice.status_code == 200 and "<html" not in as_alice.content.decode()
    assert choices(as_alice.content.decode(), "from_account") == [mine]
    assert "Alice Bobson" not in as_alice.content.decode()
    assert sorted(choices(as_teller.content.decode(), "from_account")) == sorted([mine, bobs])


def test_a_customer_paying_someone_else_is_told_to_paste_the_id(users, two_alices):
    mine, bobs = two_alices

    found = browser("alice").get("/transfers/accounts/", {"side": "to", "to_account_search": "bobson"}).content

    assert choices(found.decode(), "to_account") == [] and "paste its id" in found.decode()


def test_the_picker_offers_only_accounts_that_can_send(users, teller, two_alices):
    mine, bobs = two_alices
    teller.post(f"/api/accounts/{bobs}/freeze", {"reason": "check"})
    catch_up_everything()
    client = browser("teller")

    senders = client.get("/transfers/accounts/", {"side": "from", "from_account_search": "alice"}).content.decode()
    receivers = client.get("/transfers/accounts/", {"side": "to", "to_account_search": "alice"}).content.decode()

    assert choices(senders, "from_account") == [mine]
    assert sorted(choices(receivers, "to_account")) == sorted([mine, bobs])  # a frozen account still receives


@pytest.mark.parametrize("username", ["auditor", "operator"])
def test_roles_that_cannot_transfer_get_no_picker(users, username):
    response = browser(username).get("/transfers/accounts/", {"side": "from", "from_account_search": "a"})

    assert response.status_code == 403


def test_the_picker_needs_a_login_and_a_known_side(users):
    assert Client().get("/transfers/accounts/", {"side": "from"}).status_code == 302
    assert browser("teller").get("/transfers/accounts/", {"side": "sideways"}).status_code == 404


def test_the_transfer_page_searches_as_you_type_and_keeps_the_api_field_names(users, account):
    page = browser("teller").get("/transfers/new/", {"from": account}).content.decode()

    found = re.search(r'<form [^>]*data-testid="transfer".*?</form>', page, re.S)
    assert found
    form = found.group(0)
    assert 'name="from_account_search"' in form and 'name="to_account_search"' in form
    assert 'hx-get="/transfers/accounts/?side=from"' in form and 'hx-trigger="input changed delay:250ms"' in form
    assert re.search(rf'name="from_account" value="{account}" checked', form)  # ?from= comes chosen
    assert "<script" not in form and " style=" not in form and " hx-on" not in form


def test_without_javascript_search_text_lists_the_matches_to_choose_from(users, two_alices):
    mine, bobs = two_alices
    client = browser("teller")
    fields = form_fields(client.get("/transfers/new/").content.decode(), "transfer")
    posted = {**fields, "from_account_search": "liddell", "to_account_search": "bobson", "amount": "1.00"}

    asked = client.post("/transfers/new/", posted)
    chosen = client.post("/transfers/new/", {**posted, "from_account": mine, "to_account": bobs})

    assert asked.status_code == 422 and "No account chosen." in asked.content.decode()
    assert choices(asked.content.decode(), "from_account") == [mine]
    assert choices(asked.content.decode(), "to_account") == [bobs]
    assert 'value="1.00"' in asked.content.decode()
    assert chosen.status_code == 422 and "insufficient funds" in chosen.content.decode()  # sent: the domain said no
    assert re.search(rf'name="from_account" value="{mine}" checked', chosen.content.decode())


def test_an_account_id_pasted_into_the_search_box_is_sent_as_it_is(users, teller, account):
    bobs = open_account(teller, owner="bob", holder_name="Bob Builder")
    client = browser("alice")
    fields = form_fields(client.get("/transfers/new/").content.decode(), "transfer")

    sent = client.post(
        "/transfers/new/", {**fields, "from_account": account, "to_account_search": f" {bobs} ", "amount": "2.00"}
    )

    assert sent.status_code == 302
    catch_up_everything()
    assert teller.get(f"/api/accounts/{bobs}").json()["balance"] == "2.00"


def test_a_transfer_without_accounts_says_how_to_choose_them(users):
    client = browser("teller")
    fields = form_fields(client.get("/transfers/new/").content.decode(), "transfer")

    response = client.post("/transfers/new/", {**fields, "amount": "1.00"})

    assert response.status_code == 422
    assert response.content.decode().count("choose the account, or paste its id") == 2


# --- charts ---------------------------------------------------------------------------------------------


def svg_rects(html: str) -> list[dict[str, float]]:
    return [
        {name: float(value) for name, value in re.findall(r'(x|y|width|height)="([-\d.]+)"', attributes)}
        for attributes in re.findall(r'<rect class="bar-(?:in|out|move)"([^>]*)>', html)
    ]


def test_the_account_chart_has_a_time_axis_and_an_amount_axis(users, rich):
    page = browser("teller").get(f"/accounts/{rich}/panel/chart/", **HTMX).content.decode()

    x_labels = re.findall(r'class="x-label"[^>]*>([^<]+)<', page)
    y_labels = re.findall(r'class="y-label"[^>]*>([^<]+)<', page)
    assert x_labels and all(re.search(r"\d{1,2} [A-Z][a-z]{2}|\d\d:\d\d", label) for label in x_labels)
    assert y_labels == ["0.00", "500,000.00", "1,000,000.00", "1,500,000.00"]  # round amounts around the balance
    assert ' style="' not in page


def test_one_day_on_the_dashboard_is_one_narrow_column_of_thirty_with_visible_bars_and_a_legend(users, teller):
    account_id = open_account(teller, holder_name="Big Spender")
    deposit(teller, account_id, "100000.00")
    teller.post(f"/api/accounts/{account_id}/withdrawals", {"amount": "0.50"})
    catch_up_everything()

    page = browser("teller").get("/dashboard/").content.decode()

    chart = page.split('data-testid="dashboard-chart"')[1].split("</svg>")[0]
    bars = svg_rects(chart.split('data-testid="legend"')[0])
    assert len(bars) == 2  # today's deposits and withdrawals; no transfers
    assert all(bar["width"] <= 10 for bar in bars)
    assert min(bar["height"] for bar in bars) >= 3  # 0.50 next to 100,000.00 is still a visible bar
    assert bars[0]["x"] > 500  # today is the last of 30 columns, not the whole width
    assert [label for label in ("Deposits", "Withdrawals", "Transfers") if label in chart] == [
        "Deposits",
        "Withdrawals",
        "Transfers",
    ]
    assert len(re.findall(r'class="x-label"', chart)) == 5  # a date every week


def test_a_request_for_a_host_not_allowed_gets_the_sites_400_page():
    response = Client().get("/accounts/", HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert b"Bad request" in response.content and b"data-error-message" in response.content
