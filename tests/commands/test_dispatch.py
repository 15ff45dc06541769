"""The one path from a request to a service (commands.dispatch), through the API and through the forms: one
read of the account's stream per command, on success and on a refusal alike."""

from __future__ import annotations

import pytest

from eventstore import store
from tests.api_client import deposit, open_account
from tests.web.test_pages import browser, form_fields

pytestmark = pytest.mark.django_db


@pytest.fixture
def loads(monkeypatch):
    """The streams `store.load` reads, in order (the real function still does the reading)."""
    seen: list[str] = []
    real = store.load

    def counting(stream_id, **bounds):
        seen.append(stream_id)
        return real(stream_id, **bounds)

    monkeypatch.setattr(store, "load", counting)
    return seen


@pytest.fixture
def account(users, teller):
    account_id = open_account(teller, holder_name="Alice Liddell")
    deposit(teller, account_id, "50.00")
    return account_id


def test_an_api_deposit_reads_the_stream_once(teller, account, loads):
    response = teller.post(f"/api/accounts/{account}/deposits", {"amount": "5.00"})

    assert response.status_code == 201
    assert loads == [f"account-{account}"]


def test_a_refused_api_withdrawal_reads_the_stream_once_and_names_the_field_when_it_is_the_amount(
    teller, account, loads
):
    too_much = teller.post(f"/api/accounts/{account}/withdrawals", {"amount": "500.00"})
    bad_amount = teller.post(f"/api/accounts/{account}/withdrawals", {"amount": "1.234"})

    assert too_much.status_code == 422 and too_much.json()["code"] == "insufficient_funds"
    assert bad_amount.status_code == 422 and bad_amount.json()["errors"][0]["field"] == "amount"
    assert loads == [f"account-{account}"] * 2


def test_a_transfer_reads_each_stream_once(teller, account, loads, users):
    other = open_account(teller, holder_name="Bob Bobson", owner="bob")
    loads.clear()

    response = teller.post("/api/transfers", {"from_account": account, "to_account": other, "amount": "1.00"})

    assert response.status_code == 201
    assert sorted(loads) == sorted([f"account-{account}", f"account-{other}"])


def test_a_form_deposit_reads_the_stream_once(account, loads):
    client = browser("teller")
    fields = form_fields(client.get(f"/accounts/{account}/").content.decode(), "form-deposit")
    loads.clear()

    response = client.post(f"/accounts/{account}/deposit/", {**fields, "amount": "5.00", "reference": ""})

    assert response.status_code == 302
    assert loads == [f"account-{account}"]


def test_a_form_and_the_api_refuse_alike_with_the_reason_on_the_field(account):
    client = browser("teller")
    fields = form_fields(client.get(f"/accounts/{account}/").content.decode(), "form-withdraw")

    response = client.post(f"/accounts/{account}/withdraw/", {**fields, "amount": "1.234", "reference": ""})

    html = response.content.decode()
    assert response.status_code == 422
    field_error = html.split('data-testid="form-withdraw"')[1].split("</form>")[0]
    assert 'data-testid="field-error"' in field_error and "decimal" in field_error.lower()


def test_an_unknown_account_in_the_url_is_not_found_and_stores_nothing(teller, users):
    missing = "00000000-0000-4000-8000-000000000000"

    response = teller.post(f"/api/accounts/{missing}/deposits", {"amount": "5.00"}, Idempotency_Key="k-1")
    again = teller.post(f"/api/accounts/{missing}/deposits", {"amount": "5.00"}, Idempotency_Key="k-1")

    assert response.status_code == again.status_code == 404
    assert "Idempotent-Replayed" not in again
