"""Playwright driving Debian's Chromium (the project installs it with apt; Playwright's own download cannot
work here). Without /usr/bin/chromium the browser tests are skipped on a developer machine, and fail in CI."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[1] / "screenshots"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run installs it with apt")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread; the test's own (synchronous) database
    # calls are not async code, so Django's guard against that does not apply here.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def shoot():
    """Save a screenshot of the page under tests/screenshots/ (git-ignored)."""
    SCREENSHOTS.mkdir(exist_ok=True)

    def save(page: object, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
        return path

    return save


@pytest.fixture
def teller_page(chromium, live_server, users):
    """A page logged in as the teller, and its browser context (for a second tab of the same session)."""
    from tests.browser.test_flows import login

    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    yield login(context, live_server.url, "teller"), context
    context.close()


CATCHING_UP = threading.Event()  # cleared by `held_read_models`
CATCHING_UP.set()


class ReadModels:
    """Holds the read models behind while a test wants them to lag: no periodic pass, and every doorbell
    already rung, so a command enqueues no catch-up (the synchronous queue would apply it at once)."""

    def __init__(self) -> None:
        from projections.jobs import PENDING_PREFIX
        from projections.registry import PROJECTORS

        self.flags = [PENDING_PREFIX + name for name in PROJECTORS]

    def hold(self) -> None:
        from gateway.optional_redis import optional_redis

        CATCHING_UP.clear()
        for flag in self.flags:
            optional_redis.client().set(flag, "1")

    def release(self) -> None:
        from gateway.optional_redis import optional_redis

        optional_redis.client().delete(*self.flags)
        CATCHING_UP.set()


@pytest.fixture
def read_models():
    controller = ReadModels()
    yield controller
    controller.release()


@pytest.fixture(autouse=True)
def periodic_catch_up(live_server):
    """What a worker does every LEDGER_CATCHUP_SECONDS, here every 0.2 s: the synchronous queue of the tests
    applies a command's events right after its commit, but a transaction still running elsewhere in the
    cluster can hold the horizon below them for a moment, and then only a later pass applies them."""
    from django.db import connection

    from projections.jobs import catch_up_everything

    stop = threading.Event()

    def run() -> None:
        try:
            while not stop.wait(0.2):
                if CATCHING_UP.is_set():
                    catch_up_everything()
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(10)
