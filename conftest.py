"""Fixtures shared by every test (``tests/`` and ``tandem/*/tests/``).

Browser tests: take the ``page`` fixture, serve the app with pytest-django's ``live_server``
and mark the test ``@pytest.mark.browser``::

    @pytest.mark.browser
    def test_it_shows_the_login_form(live_server, page):
        page.goto(live_server.url + "/accounts/login/")

A full-page screenshot of every browser test lands in ``test-results/`` (pass or fail).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

# The test identity provider (a real OpenID Connect server): the ``identity_provider`` fixture.
pytest_plugins = ["tests.oidc"]

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

# Playwright's sync API keeps an asyncio event loop running in the main thread while the
# session browser is open, and Django then refuses ORM calls from that thread with
# SynchronousOnlyOperation. The tests are really synchronous, so allow them. This must be
# set before Django runs any query, hence at import time of the root conftest.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

REPO_ROOT = Path(__file__).resolve().parent
SCREENSHOT_DIR = REPO_ROOT / "test-results"

# Debian's Chromium: `playwright install` downloads its own browser, which cannot work here.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # tests run as root in CI, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # No calls home: the test machine has no internet, and they would only add noise/time.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 900}

BROWSER_FIXTURES = {"browser", "page"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A test that takes a browser fixture is a browser test even if its author forgot the
    # marker, so that `-m "not browser"` really leaves Chromium out.
    for item in items:
        if BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the whole session (launching takes over a second)."""
    from playwright.sync_api import sync_playwright

    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} not found: run scripts/test, or apt-get install chromium")
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    finally:
        playwright.stop()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page in a fresh browser context (no cookies shared between tests)."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    try:
        yield page
        _screenshot(page, request.node)
    finally:
        context.close()


def _screenshot(page: Page, node: pytest.Item) -> None:
    # Named after the test id, e.g. tests/test_browser_smoke.py::test_x[param] becomes
    # tests.test_browser_smoke.test_x-param.png: test names repeat across apps (test_it_...).
    test_id = node.nodeid.replace(".py::", ".").replace("::", ".").replace("/", ".")
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", test_id).strip("-")
    SCREENSHOT_DIR.mkdir(exist_ok=True)
    try:
        page.screenshot(path=str(SCREENSHOT_DIR / f"{name}.png"), full_page=True)
    except Exception as error:  # a crashed page must not hide the test's own result
        print(f"screenshot of {node.nodeid} failed: {error}")


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    """Each test starts with an empty cache: ids restart with each test's database, so a key
    kept from another test could name different data."""
    from django.core.cache import cache

    cache.clear()
    yield

