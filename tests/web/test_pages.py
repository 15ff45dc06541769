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
