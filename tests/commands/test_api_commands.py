"""Every command endpoint: success, each error status, each domain code, and nothing stored on any error."""

from __future__ import annotations

import uuid

import pytest

from tests.api_client import deposit, event_count, open_account

pytestmark = pytest.mark.django_db


# --- success ---------------------------------------------------------------------------------------------


def test_a_teller_opens_an_account_for_a_customer(teller):
    response = teller.post(
        "/api/accounts",
        {
            "holder_name": "Alice Liddell",
            "email": "alice@example.com",
            "owner": "alice",
            "overdraft_limit": "100.00",
        },
        **{"X-Correlation-ID": "corr-123"},
    )

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"account_id", "version", "position", "correlation_id"}
    assert body["version"] == 1 and body["position"] > 0 and body["correlation_id"] == "corr-123"
    assert response["Location"] == f"/api/accounts/{body['account_id']}"
    assert response["X-Correlation-ID"] == "corr-123"
    state = teller.get(f"/api/accounts/{body['account_id']}/state").json()
    assert (state["owner"], state["overdraft_limit"], state["currency"]) == ("alice", "100.00", "EUR")


def test_a_customer_opens_an_account_for_themself(alice):
    response = alice.post("/api/accounts", {"holder_name": "Alice", "email": "a@example.com"})

    assert response.status_code == 201
    assert alice.get(f"/api/accounts/{response.json()['account_id']}/state").json()["owner"] == "alice"


def test_deposit_and_withdraw_move_the_balance_and_the_version(teller):
    account = open_account(teller)

    first = deposit(teller, account, "50.25")
    second = teller.post(f"/api/accounts/{account}/withdrawals", {"amount": "20", "reference": "cash"})

    assert first["version"] == 2 and second.status_code == 201 and second.json()["version"] == 3
    assert second.json()["position"] > first["position"]
    assert teller.get(f"/api/accounts/{account}/state").json()["balance"] == "30.25"


def test_freeze_unfreeze_holder_and_close(teller):
    account = open_account(teller)

    assert teller.post(f"/api/accounts/{account}/freeze", {"reason": "fraud check"}).status_code == 201
    assert teller.get(f"/api/accounts/{account}/state").json()["status"] == "frozen"
    assert teller.post(f"/api/accounts/{account}/unfreeze").status_code == 201
    holder = teller.post(f"/api/accounts/{account}/holder", {"email": "new@example.com"})
    assert holder.status_code == 201 and holder.json()["version"] == 4
    assert teller.post(f"/api/accounts/{account}/close").status_code == 201
    state = teller.get(f"/api/accounts/{account}/state").json()
    assert (state["status"], state["email"]) == ("closed", "new@example.com")


def test_a_transfer_moves_money_in_one_append(teller):
    source, target = open_account(teller), open_account(teller, owner="bob")
    deposit(teller, source, "100.00")

    response = teller.post("/api/transfers", {"from_account": source, "to_account": target, "amount": "40.00"})

    assert response.status_code == 201
    body = response.json()
    assert body["versions"] == {source: 3, target: 2}
    assert teller.get(f"/api/accounts/{source}/state").json()["balance"] == "60.00"
    assert teller.get(f"/api/accounts/{target}/state").json()["balance"] == "40.00"
    events = teller.get(f"/api/accounts/{target}/events").json()["items"]
    assert events[-1]["type"] == "TransferReceived"
    assert events[-1]["data"]["transfer_id"] == body["transfer_id"]


def test_a_repeated_no_op_command_appends_nothing(teller):
    account = open_account(teller)
    teller.post(f"/api/accounts/{account}/freeze", {"reason": "x"})
    before = event_count()

    again = teller.post(f"/api/accounts/{account}/freeze", {"reason": "x"})

    assert again.status_code == 201 and again.json()["version"] == 2
    assert event_count() == before


def test_event_metadata_records_who_what_and_which_request(teller):
    account = open_account(teller)
    teller.post(f"/api/accounts/{account}/deposits", {"amount": "1.00"}, **{"X-Request-ID": "req-7"})

    event = teller.get(f"/api/accounts/{account}/events").json()["items"][-1]

    assert event["metadata"]["user"] == "teller"
    assert event["metadata"]["command"] == "Deposit"
    assert event["metadata"]["request_id"] == "req-7"
    assert event["metadata"]["correlation_id"]
    assert event["data"] == {
        "account_id": account,
        "amount": 100,
        "currency": "EUR",
        "reference": "",
        "deposited_at": event["data"]["deposited_at"],
    }


# --- domain refusals: 422 with the rule's code, nothing stored -------------------------------------------


def refused(api, path, body, status, code):
    before = event_count()
    response = api.post(path, body)
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == code
    assert set(problem) >= {"type", "title", "status", "detail", "code"}
    assert problem["status"] == status
    assert event_count() == before
    return problem


def test_insufficient_funds(teller):
    account = open_account(teller)
    deposit(teller, account, "10.00")
    refused(teller, f"/api/accounts/{account}/withdrawals", {"amount": "10.01"}, 422, "insufficient_funds")


def test_account_frozen(teller):
    account = open_account(teller)
    deposit(teller, account, "10.00")
    teller.post(f"/api/accounts/{account}/freeze", {"reason": "x"})
    refused(teller, f"/api/accounts/{account}/withdrawals", {"amount": "1.00"}, 422, "account_frozen")


def test_account_closed(teller):
    account = open_account(teller)
    teller.post(f"/api/accounts/{account}/close")
    refused(teller, f"/api/accounts/{account}/deposits", {"amount": "1.00"}, 422, "account_closed")


def test_balance_not_zero(teller):
    account = open_account(teller)
    deposit(teller, account, "0.01")
    refused(teller, f"/api/accounts/{account}/close", {}, 422, "balance_not_zero")


def test_same_account(teller):
    account = open_account(teller)
    deposit(teller, account, "5.00")
    body = {"from_account": account, "to_account": account, "amount": "1.00"}
    refused(teller, "/api/transfers", body, 422, "same_account")


def test_currency_mismatch(teller):
    euro, dollar = open_account(teller), open_account(teller, currency="USD")
    deposit(teller, euro, "5.00")
    refused(
        teller,
        "/api/transfers",
        {"from_account": euro, "to_account": dollar, "amount": "1.00"},
        422,
        "currency_mismatch",
    )


def test_transfer_to_an_unknown_account(teller):
    account = open_account(teller)
    deposit(teller, account, "5.00")
    body = {"from_account": account, "to_account": str(uuid.uuid4()), "amount": "1.00"}
    refused(teller, "/api/transfers", body, 422, "account_not_found")


@pytest.mark.parametrize("amount", ["0", "0.00", "1.234", "-1.00", "10000000000.01", "1e3", " 1", "NaN"])
def test_invalid_amounts(teller, amount):
    account = open_account(teller)
    problem = refused(teller, f"/api/accounts/{account}/deposits", {"amount": amount}, 422, "invalid_amount")
    assert problem["errors"][0]["field"] == "amount"


@pytest.mark.parametrize(
    "fields, code",
    [
        ({"holder_name": ""}, "invalid_holder"),
        ({"holder_name": "x" * 201}, "invalid_holder"),
        ({"holder_name": "bell\x07"}, "invalid_holder"),
        ({"email": "no-at-sign"}, "invalid_holder"),
        ({"currency": "XYZ"}, "invalid_currency"),
        ({"overdraft_limit": "-5.00"}, "invalid_amount"),
    ],
)
def test_invalid_account_details(teller, fields, code):
    body = {"holder_name": "Alice", "email": "a@example.com", "owner": "alice", **fields}
    refused(teller, "/api/accounts", body, 422, code)


def test_freeze_needs_a_reason(teller):
    account = open_account(teller)
    refused(teller, f"/api/accounts/{account}/freeze", {"reason": ""}, 422, "invalid_text")


def test_a_missing_field_is_a_422_naming_it(teller):
    account = open_account(teller)
    problem = refused(teller, f"/api/accounts/{account}/deposits", {"reference": "x"}, 422, "validation_error")
    assert problem["errors"][0]["field"] == "amount"


# --- malformed input: 400 before anything touches the database ----------------------------------------


@pytest.mark.parametrize(
    "raw, code",
    [
        ('{"amount": "1.00", "amount": "2.00"}', "malformed_json"),
        ('{"amount": NaN}', "malformed_json"),
        ('{"amount": Infinity}', "malformed_json"),
        ('{"amount": 1e400}', "malformed_json"),
        ('{"amount": 123456789012345678901234567890}', "malformed_json"),
        ('{"amount": "1.00", "reference": "nul\\u0000"}', "malformed_json"),
        ('{"amount": "1.00", "reference": "\\ud800"}', "malformed_json"),
        ("[" * 100 + "]" * 100, "malformed_json"),
        ('{"amount": "1.00"', "malformed_json"),
        (b'{"amount": "\xff"}', "malformed_json"),
        ('{"amount": 12.34}', "malformed_request"),
        ('{"amount": "1.00", "colour": "red"}', "malformed_request"),
        ('["amount", "1.00"]', "malformed_request"),
        ("", "empty_body"),
        ("  \n", "empty_body"),
    ],
)
def test_malformed_bodies_are_refused_with_400(teller, raw, code):
    account = open_account(teller)
    before = event_count()

    response = teller.post(f"/api/accounts/{account}/deposits", raw=raw)

    assert response.status_code == 400, response.content
    assert response.json()["code"] == code
    assert event_count() == before


def test_a_body_over_the_limit_is_413(teller):
    account = open_account(teller)
    before = event_count()
    response = teller.post(f"/api/accounts/{account}/deposits", {"amount": "1.00", "reference": "x" * 70_000})
    assert (response.status_code, response.json()["code"]) == (413, "payload_too_large")
    assert event_count() == before


def test_a_body_that_is_not_json_is_415(teller):
    account = open_account(teller)
    response = teller.post(f"/api/accounts/{account}/deposits", raw="amount=1.00", content_type="text/plain")
    assert (response.status_code, response.json()["code"]) == (415, "unsupported_media_type")


def test_a_wrong_method_is_405_and_an_unknown_path_404(teller):
    wrong = teller.get("/api/transfers")
    missing = teller.get("/api/nothing-here")
    assert (wrong.status_code, wrong.json()["code"], wrong["Content-Type"]) == (
        405,
        "method_not_allowed",
        "application/problem+json",
    )
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")


# --- not found, forbidden, conflicts -------------------------------------------------------------------


def test_an_unknown_account_is_404(teller):
    refused(teller, f"/api/accounts/{uuid.uuid4()}/deposits", {"amount": "1.00"}, 404, "account_not_found")


def test_a_malformed_account_id_is_404(teller):
    refused(teller, "/api/accounts/not-a-uuid/deposits", {"amount": "1.00"}, 404, "not_found")


def test_another_customers_account_is_404_not_403(teller, bob):
    account = open_account(teller, owner="alice")
    refused(bob, f"/api/accounts/{account}/deposits", {"amount": "1.00"}, 404, "account_not_found")
    assert bob.get(f"/api/accounts/{account}/state").status_code == 404
    assert bob.get(f"/api/accounts/{account}/events").status_code == 404


def test_a_customer_cannot_transfer_out_of_someone_elses_account(teller, bob):
    alices, bobs = open_account(teller, owner="alice"), open_account(teller, owner="bob")
    deposit(teller, alices, "10.00")
    refused(
        bob,
        "/api/transfers",
        {"from_account": alices, "to_account": bobs, "amount": "1.00"},
        422,
        "account_not_found",
    )


def test_a_customer_may_transfer_to_any_account_they_know(teller, alice):
    alices, bobs = open_account(teller, owner="alice"), open_account(teller, owner="bob")
    deposit(teller, alices, "10.00")
    response = alice.post("/api/transfers", {"from_account": alices, "to_account": bobs, "amount": "1.00"})
    assert response.status_code == 201


def test_a_customer_may_not_freeze_or_open_for_others(teller, alice):
    account = open_account(teller, owner="alice")
    refused(alice, f"/api/accounts/{account}/freeze", {"reason": "x"}, 403, "forbidden")
    refused(
        alice,
        "/api/accounts",
        {"holder_name": "B", "email": "b@example.com", "owner": "bob"},
        403,
        "forbidden",
    )


def test_an_auditor_commands_nothing(teller, auditor):
    account = open_account(teller)
    refused(auditor, f"/api/accounts/{account}/deposits", {"amount": "1.00"}, 403, "forbidden")
    refused(auditor, "/api/accounts", {"holder_name": "A", "email": "a@example.com"}, 403, "forbidden")
    assert auditor.get(f"/api/accounts/{account}/state").status_code == 200


def test_a_stale_if_match_is_409_with_both_versions(teller):
    account = open_account(teller)
    deposit(teller, account, "1.00")
    before = event_count()

    response = teller.post(f"/api/accounts/{account}/deposits", {"amount": "1.00"}, **{"If-Match": '"1"'})

    assert response.status_code == 409
    assert (response.json()["expected_version"], response.json()["actual_version"]) == (1, 2)
    assert response.json()["code"] == "version_conflict"
    assert event_count() == before


def test_a_current_expected_version_in_the_body_succeeds(teller):
    account = open_account(teller)
    response = teller.post(f"/api/accounts/{account}/deposits", {"amount": "1.00", "expected_version": 1})
    assert (response.status_code, response.json()["version"]) == (201, 2)


def test_a_malformed_if_match_is_400(teller):
    account = open_account(teller)
    response = teller.post(f"/api/accounts/{account}/deposits", {"amount": "1.00"}, **{"If-Match": "soon"})
    assert (response.status_code, response.json()["code"]) == (400, "malformed_request")


def test_transfer_expected_versions_are_checked_for_both_sides(teller):
    source, target = open_account(teller), open_account(teller, owner="bob")
    deposit(teller, source, "5.00")
    body = {"from_account": source, "to_account": target, "amount": "1.00", "to_expected_version": 5}
    problem = refused(teller, "/api/transfers", body, 409, "version_conflict")
    assert problem["actual_version"] == 1
