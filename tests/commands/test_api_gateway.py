"""The gateway's guards against real failures: rate limits, Redis down, PostgreSQL down; and the API docs page
(the OpenAPI document itself: tests/test_openapi.py)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test import Client

from gateway import ratelimit
from gateway.csp import POLICY
from gateway.optional_redis import optional_redis
from tests.api_client import PASSWORD, event_count, open_account


@pytest.fixture
def fresh_rate_limits():
    """Other tests count requests too, in the same Redis: start from zero."""
    optional_redis.reset()
    client = optional_redis.client()
    for key in client.scan_iter(f"{ratelimit.KEY_PREFIX}*"):
        client.delete(key)


@pytest.mark.django_db
def test_over_the_rate_limit_is_429_with_retry_after(fresh_rate_limits, teller, settings):
    account = open_account(teller)  # the user's first request of the minute
    settings.LEDGER_RATE_LIMIT_PER_MINUTE = 4
    before = event_count()

    statuses = [teller.post(f"/api/accounts/{account}/deposits", {"amount": "1.00"}) for _ in range(10)]

    refused = [r for r in statuses if r.status_code == 429]
    assert [r.status_code for r in statuses[:3]] == [201, 201, 201]
    assert len(refused) >= 3  # even if a minute boundary fell inside the loop
    assert refused[0].json()["code"] == "rate_limited" and int(refused[0]["Retry-After"]) >= 1
    assert event_count() == before + len(statuses) - len(refused)


@pytest.mark.django_db
def test_with_redis_down_the_rate_limit_lets_requests_through(teller, settings):
    account = open_account(teller)
    settings.LEDGER_RATE_LIMIT_PER_MINUTE = 1
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    optional_redis.reset()
    try:
        responses = [teller.post(f"/api/accounts/{account}/deposits", {"amount": "1.00"}) for _ in range(3)]
    finally:
        optional_redis.reset()

    assert [r.status_code for r in responses] == [201, 201, 201]


@pytest.mark.django_db(transaction=True)
def test_with_postgresql_unreachable_the_api_answers_503(users):
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT="1")
    try:
        response = Client().post(
            "/api/token", {"username": "teller", "password": PASSWORD}, content_type="application/json"
        )
    finally:
        connection.close()
        connection.settings_dict.update(saved)

    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "database_unavailable"
    assert "Traceback" not in response.content.decode()


class _PageAssets(HTMLParser):
    """What a page asks the browser to load or run: asset URLs, inline scripts, inline styles."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0
        self.inline_styles = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.urls += [url for name in ("src", "href") if (url := found.get(name)) is not None]
        # A JSON data block (ninja's swagger settings) is never run, so the CSP does not concern it.
        runs_inline = tag == "script" and "src" not in found and found.get("type") != "application/json"
        self.inline_scripts += runs_inline + sum(name.startswith("on") for name in found)  # onload=...
        self.inline_styles += (tag == "style") + ("style" in found)


@pytest.mark.django_db
def test_the_api_docs_page_is_served_from_local_assets_with_no_inline_script_or_style():
    response = Client().get("/api/docs")

    assert response.status_code == 200
    assert response["Content-Security-Policy"] == POLICY
    page = _PageAssets()
    page.feed(response.content.decode())
    assert page.urls and all(url.startswith("/static/") for url in page.urls), page.urls
    assert page.inline_scripts == 0 and page.inline_styles == 0
    assert b"/api/openapi.json" in response.content
