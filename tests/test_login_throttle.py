"""Login throttling on /login/, /admin/login/ and POST /api/token: refused before the 10th failure for one
username in the window, by its own counter in PostgreSQL (so it holds while Redis is down), never locking out
another user from the same address, and logged without the password."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

from gateway.optional_redis import optional_redis
from tests.api_client import PASSWORD

pytestmark = pytest.mark.django_db
WRONG = "not-the-password"


def token(username: str, password: str, address: str = "10.0.0.1"):
    return Client(REMOTE_ADDR=address).post(
        "/api/token", {"username": username, "password": password}, content_type="application/json"
    )


def page_login(path: str, username: str, password: str, address: str = "10.0.0.1"):
    client = Client(REMOTE_ADDR=address)
    return client.post(path, {"username": username, "password": password})


def test_the_api_refuses_before_the_tenth_failure_with_retry_after_and_logs_no_password(users, caplog):
    with caplog.at_level(logging.WARNING, logger="ledger.security"):
        statuses = [token("teller", WRONG).status_code for _ in range(9)]
        refused = token("teller", WRONG)
        even_right = token("teller", PASSWORD)

    assert statuses == [401] * 9
    assert refused.status_code == 429 and refused.json()["code"] == "login_throttled"
    assert 1 <= int(refused["Retry-After"]) <= 300
    assert even_right.status_code == 429  # the password is not even looked at meanwhile
    assert caplog.text.count("login failed") == 9 and "login refused" in caplog.text
    assert WRONG not in caplog.text and PASSWORD not in caplog.text


@pytest.mark.parametrize("path", ["/login/", "/admin/login/"])
def test_the_login_pages_say_when_to_try_again(users, path):
    for _ in range(9):
        assert page_login(path, "auditor", WRONG).status_code == 200  # the form again, with its error

    refused = page_login(path, "auditor", PASSWORD)

    assert refused.status_code == 200 and "Too many failed attempts: try again in 5 minutes" in refused.content.decode()
    assert "_auth_user_id" not in refused.wsgi_request.session


def test_failures_against_one_username_never_lock_out_another_user_at_the_same_address(users):
    for _ in range(12):
        token("teller", WRONG, address="192.0.2.7")

    assert token("teller", PASSWORD, address="192.0.2.7").status_code == 429
    assert token("alice", PASSWORD, address="192.0.2.7").status_code == 200
    assert page_login("/login/", "bob", PASSWORD, address="192.0.2.7").status_code == 302


def test_a_spray_across_many_usernames_from_one_address_is_refused_too(users, settings):
    settings.LEDGER_LOGIN_MAX_FAILURES_PER_ADDRESS = 20
    for n in range(20):
        token(f"nobody-{n}", WRONG, address="198.51.100.9")

    assert token("alice", PASSWORD, address="198.51.100.9").status_code == 429
    assert token("alice", PASSWORD, address="198.51.100.10").status_code == 200


def test_the_throttle_holds_while_redis_is_down(users, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    optional_redis.reset()
    try:
        for _ in range(9):
            token("bob", WRONG)
        refused = token("bob", PASSWORD)
    finally:
        optional_redis.reset()

    assert refused.status_code == 429


def test_a_successful_login_clears_the_username_s_failures(users):
    for _ in range(8):
        token("alice", WRONG)
    assert token("alice", PASSWORD).status_code == 200

    assert [token("alice", WRONG).status_code for _ in range(9)] == [401] * 9
