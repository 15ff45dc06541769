"""The idempotency matrix: each case with its documented outcome and event count."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from commands.models import IdempotencyRecord
from tests.api_client import deposit, event_count, login, open_account


def post_deposit(api, account, amount="5.00", key="key-1"):
    return api.post(f"/api/accounts/{account}/deposits", {"amount": amount}, **{"Idempotency-Key": key})


@pytest.mark.django_db
def test_same_key_and_body_replays_the_first_response_and_appends_nothing(teller):
    account = open_account(teller)
    first = post_deposit(teller, account)
    after_first = event_count()

    again = post_deposit(teller, account)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert again["Location"] == first["Location"]
    assert event_count() == after_first


@pytest.mark.django_db
def test_the_same_body_in_another_key_order_is_the_same_request(teller):
    account = open_account(teller)
    first = teller.post(
        f"/api/accounts/{account}/deposits", raw='{"amount": "5.00", "reference": "r"}', **{"Idempotency-Key": "k"}
    )
    again = teller.post(
        f"/api/accounts/{account}/deposits", raw='{"reference": "r",  "amount": "5.00"}', **{"Idempotency-Key": "k"}
    )
    assert again.json() == first.json()


@pytest.mark.django_db
def test_same_key_with_another_body_is_422_and_appends_nothing(teller):
    account = open_account(teller)
    post_deposit(teller, account, "5.00")
    before = event_count()

    response = post_deposit(teller, account, "6.00")

    assert (response.status_code, response.json()["code"]) == (422, "idempotency_key_reused")
    assert event_count() == before


@pytest.mark.django_db
def test_another_user_with_the_same_key_is_a_different_request(teller, users):
    account = open_account(teller, owner="alice")
    alice = login("alice")
    post_deposit(teller, account)
    before = event_count()

    response = post_deposit(alice, account)

    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert event_count() == before + 1


@pytest.mark.django_db
def test_an_expired_key_runs_the_command_again(teller, settings):
    account = open_account(teller)
    post_deposit(teller, account)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE idempotency_records SET created_at = now() - interval '25 hours'")
    before = event_count()

    response = post_deposit(teller, account, "9.00")  # even another body: the old key is forgotten

    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert event_count() == before + 1


@pytest.mark.django_db
def test_a_business_rule_refusal_is_stored_and_replayed(teller):
    account = open_account(teller)
    first = teller.post(f"/api/accounts/{account}/withdrawals", {"amount": "1.00"}, **{"Idempotency-Key": "w"})
    deposit(teller, account, "10.00")  # now it would succeed, but the key's outcome is fixed

    again = teller.post(f"/api/accounts/{account}/withdrawals", {"amount": "1.00"}, **{"Idempotency-Key": "w"})

    assert first.status_code == again.status_code == 422
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"


@pytest.mark.django_db
def test_a_refused_request_stores_no_key(teller):
    account = open_account(teller)
    teller.post(f"/api/accounts/{account}/deposits", {"amount": "1.00"}, **{"Idempotency-Key": "c", "If-Match": '"9"'})
    assert not IdempotencyRecord.objects.filter(key="c").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "x" * 201, "tab\tkey", "ключ"])
def test_a_malformed_key_is_400(teller, key):
    account = open_account(teller)
    before = event_count()
    response = post_deposit(teller, account, key=key)
    assert (response.status_code, event_count()) == (400, before)


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_concurrent_duplicates_append_once_and_get_the_same_response(users):
    teller = login("teller")
    account = open_account(teller)
    before = event_count()
    barrier, responses = threading.Barrier(6), []

    def send() -> None:
        try:
            client = login("teller")
            barrier.wait()
            responses.append(post_deposit(client, account, key="together"))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert [r.status_code for r in responses] == [201] * 6
    assert len({r.content for r in responses}) == 1
    assert sum("Idempotent-Replayed" in r for r in responses) == 5
    assert event_count() == before + 1


@pytest.mark.django_db
def test_purging_removes_only_expired_keys(teller):
    import io

    from django.core.management import call_command

    account = open_account(teller)
    post_deposit(teller, account, key="old")
    post_deposit(teller, account, key="new")
    IdempotencyRecord.objects.filter(key="old").update(
        created_at=IdempotencyRecord.objects.get(key="old").created_at.replace(year=2000)
    )
    out = io.StringIO()

    call_command("purge_idempotency_keys", stdout=out)

    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
    assert "removed 1 idempotency records" in out.getvalue()
