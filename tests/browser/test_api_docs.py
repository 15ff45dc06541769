"""The interactive API docs (/api/docs) in a real headless Chromium: offline, under the site's CSP."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from playwright.sync_api import ConsoleMessage, Locator, Page, Request, Response, Route, expect

from gateway.csp import POLICY

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Installed before the page's own scripts run. A blocked eval, inline script or inline style fires this event
# even when the page's code catches the error, so a violation counts whether or not the console shows it.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
    window.__cspViolations.push(`${e.effectiveDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}`);
});
"""


class BrowserLog:
    """What a page did wrong: console errors and warnings, failed requests, error responses, and every
    request that tried to leave the machine (each one is aborted, so the page has to work offline)."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.console: list[str] = []
        self.failed: list[str] = []
        self.errors: list[str] = []
        self.outside: list[str] = []

    def attach(self, page: Page) -> None:
        page.route("**/*", self._only_local)
        page.add_init_script(RECORD_CSP_VIOLATIONS)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.console.append(f"pageerror: {error}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)

    def _only_local(self, route: Route) -> None:
        url = route.request.url
        if url.startswith(("data:", "blob:")) or _origin(url) == self.origin:
            route.continue_()
        else:
            self.outside.append(url)
            route.abort("internetdisconnected")

    def _console(self, message: ConsoleMessage) -> None:
        if message.type in {"error", "warning"}:
            self.console.append(f"{message.type}: {message.text}")

    def _failed(self, request: Request) -> None:
        self.failed.append(f"{request.method} {request.url}: {request.failure}")

    def _response(self, response: Response) -> None:
        if response.status >= 400:
            self.errors.append(f"{response.status} {response.url}")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def operations(page: Page) -> set[str]:
    """Every operation as Swagger UI shows it, "METHOD /path" (without the zero-width spaces it wraps on)."""
    summaries = page.locator(".opblock-summary")
    return {
        " ".join(
            [
                summary.locator(".opblock-summary-method").inner_text().strip(),
                summary.locator(".opblock-summary-path").inner_text().replace("\u200b", "").strip(),
            ]
        )
        for summary in summaries.all()
    }


def operation(page: Page, method: str, path: str) -> Locator:
    """One operation's block, e.g. operation(page, "post", "/api/accounts")."""
    return page.locator(f".opblock-{method}").filter(has=page.locator(f".opblock-summary-path[data-path='{path}']"))


def session_of(username: str) -> str:
    """A logged-in session's cookie value, made on the server: the test then opens no page but the docs."""
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def assert_clean(page: Page, log: BrowserLog) -> None:
    assert page.evaluate("window.__cspViolations") == []
    assert log.console == []
    assert log.failed == []
    assert log.errors == []
    assert log.outside == []


@pytest.fixture
def docs_page(chromium, live_server):
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    log = BrowserLog(_origin(live_server.url))
    log.attach(page)
    yield page, log
    context.close()


def test_the_api_docs_list_every_operation_offline_with_no_csp_violation(docs_page, live_server, shoot):
    page, log = docs_page

    response = page.goto(f"{live_server.url}/api/docs")

    # The site's policy, not a relaxed one: nothing here needs an inline script, an inline style or eval.
    assert response is not None and response.headers["content-security-policy"] == POLICY
    expect(page.locator(".opblock-summary").first).to_be_visible(timeout=15_000)
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Ledger API")
    listed = operations(page)
    assert {
        "POST /api/token",
        "POST /api/accounts/{account_id}/deposits",
        "GET /api/accounts/{account_id}",
        "POST /api/transfers",
    } <= listed, sorted(listed)
    page.wait_for_load_state("networkidle")
    shoot(page, "api-docs")
    assert_clean(page, log)


def test_try_it_out_sends_a_command_with_the_session_and_its_csrf_token(docs_page, live_server, users, shoot):
    """A teller with a site session runs POST /api/accounts from the docs: the session cookie
    authenticates it, and the page adds the X-CSRFToken header the session's CSRF check wants (without
    it the API answers 403 csrf_failed)."""
    page, log = docs_page
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session_of("teller"), "url": live_server.url}]
    )
    page.goto(f"{live_server.url}/api/docs")
    block = operation(page, "post", "/api/accounts")

    block.locator(".opblock-summary").click()
    block.get_by_role("button", name="Try it out").click()
    body = {"holder_name": "Glinda", "email": "glinda@example.com", "owner": "alice"}
    block.locator("textarea.body-param__text").fill(json.dumps(body))
    with page.expect_response(lambda r: r.url.endswith("/api/accounts") and r.request.method == "POST") as sent:
        block.get_by_role("button", name="Execute").click()

    assert sent.value.status == 201, sent.value.text()
    assert sent.value.request.headers.get("x-csrftoken")
    expect(block.locator(".live-responses-table tr.response .response-col_status").first).to_contain_text("201")
    expect(block.locator(".live-responses-table")).to_contain_text(sent.value.json()["account_id"])
    shoot(page, "api-docs-try-it-out")
    assert_clean(page, log)
