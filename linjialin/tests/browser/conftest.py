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


# The data migrations whose rows the browser flows read (categories, diversion and keyword rules).
SEEDS = (
    ("linjialin.service_requests.migrations.0002_seed_defaults", "service_requests", "Category"),
    ("linjialin.service_requests.migrations.0008_intake_rules", "service_requests", "DiversionRule"),
    ("linjialin.service_requests.migrations.0010_seed_taxonomy", "service_requests", None),
    ("linjialin.routing.migrations.0002_seed_keywords", "routing", "KeywordRule"),
)


@pytest.fixture(autouse=True)
def _seeded_rows(transactional_db):
    """The rows the data migrations seed are there for every browser test. Each transactional test
    restores them (serialized_rollback), yet on a worker where the session's live server started after
    another transactional test had emptied the database, the concrete problems of the taxonomy were
    seen missing. So the seeds run again here when their rows are missing (each only into an empty
    table)."""
    from importlib import import_module

    from django.apps import apps

    from linjialin.service_requests.models import Category

    if Category.objects.filter(parent__isnull=False).exists():
        return
    for module, app, model in SEEDS:
        if model is None or not apps.get_model(app, model).objects.exists():
            import_module(module).seed(apps, None)


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
