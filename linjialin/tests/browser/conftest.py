"""Browser tests: Playwright driving the Debian `chromium` package at a phone-sized viewport.

`playwright install` cannot download browsers here, so Chromium comes from apt (`/usr/bin/chromium`,
installed by the Makefile). Missing Chromium is a failure with a clear message, never a skip.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# The sync Playwright API runs an event loop in this thread; the test's own ORM calls are still sync.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("LINJIALIN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 375, "height": 812}
SCREENSHOTS = Path(
    os.environ.get("LINJIALIN_SCREENSHOTS", Path(tempfile.gettempdir()) / "linjialin-screenshots")
)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}. Install it with "
            "`apt-get install chromium fonts-wqy-microhei` (the Makefile does) "
            "or point LINJIALIN_CHROMIUM at a Chromium binary.",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def phone(browser, live_server):
    """A fresh browser context at 375×812; `phone.url(path)` is an absolute URL on the live server."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.url_for = lambda path: live_server.url + path
    errors: list[str] = []
    page.on(
        "console", lambda msg: errors.append(f"{msg.text} @ {msg.location}") if msg.type == "error" else None
    )
    page.console_errors = errors
    yield page
    context.close()


def fits_phone(page) -> None:
    """The page does not scroll sideways at 375 px."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} scrolls horizontally: {width}px wide"


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
