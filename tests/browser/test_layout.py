"""Every page on a phone, the CSP in the console, refused htmx requests, error pages and confirmations, in a real
headless Chromium (issue: the browser walk-through of every page as each role)."""

from __future__ import annotations

import re
import uuid
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from projections.jobs import catch_up_everything
from tests.api_client import deposit, open_account
from tests.api_client import login as api_login
from tests.browser.test_flows import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# Every page each role can reach ({A}: an account of alice's with some money on it); `/admin/` is Django's own
# layout, so it is checked for sideways scrolling and the CSP but has no Ledger menu.
PAGES = {
    "teller": (
        "/",
        "/accounts/",
        "/accounts/{A}/",
        "/accounts/{A}/history/",
        "/accounts/new/",
        "/transfers/new/",
        "/events/",
        "/dashboard/",
    ),
    "auditor": ("/", "/accounts/", "/accounts/{A}/", "/accounts/{A}/history/", "/events/", "/dashboard/", "/admin/"),
    "operator": ("/", "/ops/", "/admin/"),
    "alice": ("/", "/accounts/", "/accounts/{A}/", "/accounts/{A}/history/", "/accounts/new/", "/transfers/new/"),
}
# Controls a thumb must hit: inputs (but check boxes, radios and sliders), selects and the page's buttons.
CONTROLS = "input:not([type=hidden], [type=checkbox], [type=radio], [type=range]), select, textarea, main button"


def log_in(context, base: str, username: str) -> Page:
    return login(context, base, username, lands_on=r"^(?!.*/login/)")  # operators and auditors land elsewhere


def watch_csp(page: Page) -> list[str]:
    """Chromium reports each blocked inline style or script in the console: collect those reports."""
    violations: list[str] = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    return violations


def scrolls_sideways(page: Page) -> list[str]:
    """The elements that stick out to the right, when the page scrolls sideways (for the failure message)."""
    return page.evaluate(
        """() => document.documentElement.scrollWidth <= window.innerWidth ? [] :
            [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth)
              .map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))
              .slice(0, 8).concat(['scrollWidth ' + document.documentElement.scrollWidth])"""
    )


def header_height(page: Page) -> float:
    box = page.locator("header").bounding_box()
    assert box is not None
    return box["height"]


def too_small_controls(page: Page) -> list[str]:
    """Visible controls under 40 px tall, or typing into text under 16 px (hard to read; a phone zooms in)."""
    return page.eval_on_selector_all(
        CONTROLS,
        """controls => controls.filter(c => c.offsetParent !== null).flatMap(c => {
            const height = c.getBoundingClientRect().height, size = parseFloat(getComputedStyle(c).fontSize);
            const small = height < 40 || (c.tagName !== 'BUTTON' && size < 16);
            return small ? [`${c.outerHTML.slice(0, 80)}: ${height} px tall, ${size} px text`] : [];
        })""",
    )


@pytest.fixture
def account(users) -> str:
    teller = api_login("teller")
    account_id = open_account(teller, owner="alice", holder_name="Alice Pleasance Liddell-Hargreaves")
    for amount in ("125.00", "17.50"):
        deposit(teller, account_id, amount)
    catch_up_everything()
    return account_id


@pytest.fixture
def phone(chromium):
    contexts = []

    def new_context(**options):
        contexts.append(chromium.new_context(viewport=PHONE, **options))
        return contexts[-1]

    yield new_context
    for context in contexts:
        context.close()


# --- (a) and (b): every page at 390 px, for every role, with nothing refused by the CSP ---------------------


@pytest.mark.parametrize("role", list(PAGES))
def test_every_page_fits_a_phone_with_a_menu_that_opens_and_no_csp_violation(phone, live_server, account, role, shoot):
    page = log_in(phone(), live_server.url, role)
    violations = watch_csp(page)

    for path in PAGES[role]:
        response = page.goto(live_server.url + path.replace("{A}", account))
        assert response is not None and response.status == 200, path
        page.wait_for_load_state("networkidle")
        assert scrolls_sideways(page) == [], path
        assert too_small_controls(page) == [], path
        if path != "/admin/":
            menu, button = page.get_by_test_id("menu"), page.get_by_test_id("menu-button")
            expect(menu).to_be_hidden()
            assert header_height(page) <= 72, f"{path}: the closed header is too tall"
            button.click()
            expect(menu).to_be_visible()
            expect(menu.get_by_role("button", name="Log out")).to_be_visible()
            assert scrolls_sideways(page) == [], f"{path}, the menu open"
            if path == "/":
                shoot(page, f"phone-{role}-menu")
            button.click()
            expect(menu).to_be_hidden()
        shoot(page, f"phone-{role}{path.replace('{A}', 'account').replace('/', '-').rstrip('-')}")

    assert violations == []


def test_the_menu_is_a_plain_bar_on_a_wide_screen(chromium, live_server, users):
    context = chromium.new_context(viewport=DESKTOP)
    page = log_in(context, live_server.url, "teller")

    expect(page.get_by_test_id("menu-button")).to_be_hidden()
    expect(page.get_by_test_id("menu").get_by_role("link", name="Event log")).to_be_visible()
    assert header_height(page) <= 64
    context.close()


def test_a_deposit_and_a_refused_withdrawal_through_htmx_violate_no_csp(phone, live_server, account, shoot):
    page = log_in(phone(), live_server.url, "teller")
    violations = watch_csp(page)
    page.goto(f"{live_server.url}/accounts/{account}/")

    submit(page, "deposit", "10.00")
    expect(page.get_by_test_id("balance")).to_contain_text("152.50")
    expect(page.get_by_test_id("pending")).to_contain_text("up to date")
    submit(page, "withdraw", "9999.00")
    expect(page.get_by_test_id("error")).to_contain_text("insufficient funds")  # the 422 fragment, swapped in

    page.wait_for_timeout(500)  # settling (htmx's swap and settle delays) happens after the swap
    assert scrolls_sideways(page) == []
    assert violations == []
    shoot(page, "phone-withdraw-refused")


def submit(page: Page, action: str, amount: str) -> None:
    form = page.get_by_test_id(f"form-{action}")
    form.locator("input[name=amount]").fill(amount)
    form.locator("button").click()


# --- (c): a refused htmx request says why, where it was made ------------------------------------------------


@pytest.fixture
def saved_once(chromium, live_server, account):
    """The teller on the account page after a deposit, the page saying "up to date"; and its context."""
    context = chromium.new_context(viewport=DESKTOP)
    page = log_in(context, live_server.url, "teller")
    page.goto(f"{live_server.url}/accounts/{account}/")
    submit(page, "deposit", "1.00")
    expect(page.get_by_test_id("pending")).to_contain_text("up to date")
    yield page, context
    context.close()


def test_an_expired_session_says_log_in_again_beside_the_form(saved_once, account, shoot):
    page, context = saved_once
    context.clear_cookies()  # session and CSRF cookie gone: the server answers 403 (CSRF) to the post

    submit(page, "deposit", "2.00")

    notice = page.get_by_test_id("form-deposit").get_by_test_id("request-error")
    expect(notice).to_contain_text("Your session has expired — log in again")
    expect(notice.get_by_role("link", name="log in again")).to_have_attribute(
        "href", f"/login/?next={quote(f'/accounts/{account}/', safe='')}"
    )
    expect(page.locator("body")).not_to_contain_text("up to date")
    expect(page.locator("[data-save-status]")).to_have_text("not saved")
    shoot(page, "session-expired")


def test_a_session_that_ended_on_the_server_is_caught_in_the_login_redirect(saved_once, account):
    page, context = saved_once
    context.clear_cookies(name="sessionid")  # the CSRF cookie stays: the post passes, then login_required redirects

    submit(page, "deposit", "2.00")

    notice = page.get_by_test_id("form-deposit").get_by_test_id("request-error")
    expect(notice).to_contain_text("Your session has expired — log in again")
    expect(page.locator("input[name=password]")).to_have_count(0)  # the login page was not swapped in
    expect(page.locator("body")).not_to_contain_text("up to date")


def test_a_plain_form_sent_after_the_session_ended_gets_a_page_that_says_so(chromium, live_server, users, shoot):
    context = chromium.new_context(viewport=PHONE, java_script_enabled=False)
    page = log_in(context, live_server.url, "teller")
    page.goto(f"{live_server.url}/accounts/new/")
    context.clear_cookies()

    page.fill("input[name=holder_name]", "Too Late")
    page.fill("input[name=email]", "late@example.com")
    page.click("button:has-text('Open account')")

    expect(page.locator("h1")).to_have_text("Your session has expired")  # templates/403_csrf.html, not Django's
    page.get_by_role("link", name="Log in again").click()
    expect(page).to_have_url(re.compile(r"/login/$"))
    shoot(page, "session-expired-plain-form")
    context.close()


def test_a_refused_command_shows_the_server_s_reason(saved_once, account):
    from django.contrib.auth.models import Group, User

    page, _ = saved_once
    User.objects.get(username="teller").groups.remove(Group.objects.get(name="teller"))

    submit(page, "deposit", "2.00")

    notice = page.get_by_test_id("form-deposit").get_by_test_id("request-error")
    expect(notice).to_contain_text("Not allowed: your role may not")  # 403.html's reason, from the server
    expect(notice).to_contain_text("Nothing was saved.")
    expect(page.locator("body")).not_to_contain_text("up to date")


def test_a_command_that_cannot_reach_the_server_says_so(saved_once):
    page, context = saved_once
    context.set_offline(True)

    submit(page, "deposit", "2.00")

    expect(page.get_by_test_id("request-error")).to_contain_text("could not be reached")
    expect(page.locator("body")).not_to_contain_text("up to date")
    context.set_offline(False)


# --- (d): error pages are Ledger's own --------------------------------------------------------------------


def test_403_and_404_pages_are_branded_and_give_the_server_s_reason(phone, live_server, account, shoot):
    operator = log_in(phone(), live_server.url, "operator")
    violations = watch_csp(operator)

    refused = operator.goto(f"{live_server.url}/accounts/")
    assert refused is not None and refused.status == 403
    expect(operator.locator("h1")).to_have_text("Not allowed")
    expect(operator.locator("[data-error-message]")).to_have_text("your role reads no accounts")  # capitalised by CSS
    expect(operator.locator("link[rel=icon]")).to_have_attribute("href", re.compile(r"favicon\.svg$"))
    shoot(operator, "phone-403")
    operator.get_by_test_id("menu-button").click()
    operator.get_by_test_id("menu").get_by_role("link", name="Operations").click()  # the nav works
    expect(operator).to_have_url(re.compile(r"/ops/$"))

    teller = log_in(phone(), live_server.url, "teller")
    missing = teller.goto(f"{live_server.url}/accounts/{uuid.uuid4()}/")
    assert missing is not None and missing.status == 404
    expect(teller.locator("[data-error-message]")).to_have_text("no such account")
    unknown = teller.goto(f"{live_server.url}/no-such-page/")
    assert unknown is not None and unknown.status == 404
    expect(teller.locator("[data-error-message]")).to_have_text("there is nothing here, or nothing you may see")
    expect(teller.get_by_test_id("error-page")).not_to_contain_text("Resolver404")
    teller.get_by_role("link", name="Back to the accounts").click()
    expect(teller).to_have_url(re.compile(r"/accounts/$"))

    icon = teller.request.get(f"{live_server.url}/favicon.ico")
    assert icon.ok and icon.headers["content-type"].startswith("image/svg+xml")
    assert violations == []


# --- (e): irreversible operator actions ask first ---------------------------------------------------------


@pytest.fixture
def failed_projector(account) -> tuple[str, int]:
    """daily_totals, failed at the head of the log (skipping it there loses nothing)."""
    from eventstore import store
    from projections.models import ProjectionCheckpoint

    head = store.head_position()
    ProjectionCheckpoint.objects.update_or_create(
        name="daily_totals", defaults={"position": head, "failed_position": head, "last_error": "boom"}
    )
    return "daily_totals", head


def test_skip_rebuild_and_forget_ask_first_and_a_dismissed_question_sends_nothing(
    chromium, live_server, failed_projector, shoot
):
    name, position = failed_projector
    context = chromium.new_context(viewport=DESKTOP)
    page = log_in(context, live_server.url, "operator")
    page.goto(f"{live_server.url}/ops/")
    questions, posts = [], []

    def say_no(dialog) -> None:
        questions.append(dialog.message)
        dialog.dismiss()

    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    page.on("dialog", say_no)

    page.get_by_test_id("skip").click()
    page.locator(f"tr:has-text('{name}')").get_by_test_id("rebuild").click()
    page.fill("input[name=customer]", "alice")
    page.fill("input[name=confirm]", "alice")
    page.get_by_test_id("forget").click()
    page.wait_for_timeout(300)

    assert [q.split("?")[0] for q in questions] == [
        f"Skip event {position} for {name}",
        f"Rebuild {name} from the whole event log",
        "Forget this customer",
    ]
    assert posts == []
    context.close()


def test_an_accepted_question_sends_the_form(chromium, live_server, failed_projector):
    name, position = failed_projector
    context = chromium.new_context(viewport=DESKTOP)
    page = log_in(context, live_server.url, "operator")
    page.goto(f"{live_server.url}/ops/")
    page.once("dialog", lambda dialog: dialog.accept())

    page.get_by_test_id("skip").click()

    expect(page.locator(".messages")).to_contain_text(f"{name}: skip started.")
    context.close()


# --- the admin: Ledger's audit trail, with lists that fit ---------------------------------------------------


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_audit_trail_is_titled_for_ledger_and_its_event_list_fits(chromium, live_server, account, viewport, shoot):
    context = chromium.new_context(viewport=viewport)
    page = log_in(context, live_server.url, "auditor")
    violations = watch_csp(page)

    page.goto(f"{live_server.url}/admin/")
    expect(page.locator("#site-name")).to_have_text("Ledger audit trail")
    expect(page).to_have_title(re.compile(r"\| Ledger audit trail$"))
    for plural in ("Account summaries", "Ledger entries", "Account search", "Events"):
        expect(page.locator("#content-main")).to_contain_text(plural)
    expect(page.locator("#content-main")).not_to_contain_text(re.compile(r"summarys|entrys|searchs"))

    page.goto(f"{live_server.url}/admin/eventstore/event/")
    expect(page.locator("#result_list")).to_contain_text("FundsDeposited")
    expect(page.locator("#result_list")).to_contain_text(f"account-{account[:8]}…")  # the stream id, shortened
    assert scrolls_sideways(page) == []
    if viewport == DESKTOP:  # on a phone the results scroll inside their box, as everywhere in Django's admin
        assert page.evaluate("(r => r.scrollWidth <= r.clientWidth)(document.querySelector('.results'))")
    assert violations == []
    shoot(page, f"admin-events-{viewport['width']}")
    context.close()
