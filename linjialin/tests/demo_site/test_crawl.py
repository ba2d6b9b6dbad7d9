"""Every demo persona walks the demo site by its links (crawl.py): no link leads to an error page, no
internal code shows, and the pages of residents and building leaders fit a 375 px phone.

Each persona is crawled once (zh-Hans, and English for a few) and the result kept for the three
checks; each crawl prints its size and time.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders

from linjialin.accounts.models import User
from linjialin.accounts.roles import Role
from linjialin.accounts.scope import current_grants
from linjialin.places.demo import DEMO_LOGINS

from .crawl import CrawlResult, crawl

pytestmark = [pytest.mark.xdist_group("demo-site"), pytest.mark.usefixtures("demo_site", "db")]

# English for a resident, a 楼门长, a community worker and the dispatcher (the admin's crawl is the longest)
ENGLISH = {"13800000001", "13800000004", "13800000007", "13800000010"}
RUNS = [(login.mobile, "zh-hans") for login in DEMO_LOGINS] + [
    (login.mobile, "en") for login in DEMO_LOGINS if login.mobile in ENGLISH
]
PHONE_ROLES = {Role.RESIDENT, Role.FLOOR_LEADER, Role.ENTRANCE_LEADER, Role.BUILDING_LEADER}
PHONE_WIDTH = 375
MAX_PHONE_PAGES = 40  # per persona, in crawl order

_results: dict[tuple[str, str], CrawlResult] = {}


def crawled(mobile: str, language: str) -> CrawlResult:
    """The persona's crawl, made on first use (inside that test's transaction, rolled back after it)."""
    if (mobile, language) not in _results:
        user = User.objects.get(mobile=mobile)
        label = next(str(login.label) for login in DEMO_LOGINS if login.mobile == mobile)
        result = crawl(user, f"{label} [{mobile}, {language}]", "/" if language == "zh-hans" else "/en/")
        print(
            f"\ncrawl {result.persona}: {result.fetched} fetched, {len(result.pages)} pages, "
            f"{result.skipped} links beyond the per-pattern bound, {result.seconds:.1f} s; slowest: "
            + ", ".join(f"{url} {seconds:.1f} s" for seconds, url in sorted(result.timings, reverse=True)[:4])
        )
        _results[(mobile, language)] = result
    return _results[(mobile, language)]


def _report(problems) -> str:
    return "\n".join(str(p) for p in problems)


@pytest.mark.parametrize(("mobile", "language"), RUNS, ids=[f"{m}-{lang}" for m, lang in RUNS])
def test_every_link_a_persona_is_shown_opens(mobile, language):
    result = crawled(mobile, language)
    assert result.fetched > 1, f"{result.persona}: the home page leads nowhere"
    if result.broken:
        pytest.fail("links that answer an error:\n" + _report(result.broken), pytrace=False)


@pytest.mark.parametrize(("mobile", "language"), RUNS, ids=[f"{m}-{lang}" for m, lang in RUNS])
def test_no_page_shows_an_internal_code(mobile, language):
    result = crawled(mobile, language)
    assert result.pages
    if result.codes:
        pytest.fail("internal codes in visible text:\n" + _report(result.codes), pytrace=False)


def _phone_mobiles() -> list[str]:
    mobiles = []
    for login in DEMO_LOGINS:
        user = User.objects.get(mobile=login.mobile)
        if any(Role(g.role) in PHONE_ROLES for g in current_grants(user)):
            mobiles.append(login.mobile)
    return mobiles


STATIC_PREFIX = "/" + settings.STATIC_URL.strip("/") + "/"  # STATIC_URL may or may not start with "/"


def _static(path: str) -> tuple[bytes, str] | None:
    found = finders.find(path.removeprefix(STATIC_PREFIX))
    if not found:
        return None
    return Path(found).read_bytes(), mimetypes.guess_type(found)[0] or "application/octet-stream"


@pytest.mark.browser
def test_resident_and_building_leader_pages_fit_a_phone():
    """Each page of the resident, 层长, 楼门长 and 楼长 personas, as the crawl got it, loaded in Chromium at
    375 px with the site's CSS and scripts: no page is wider than the screen."""
    from playwright.sync_api import sync_playwright

    from linjialin.tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    mobiles = _phone_mobiles()
    assert len(mobiles) >= 4  # two residents, a 层长, a 楼门长, a 楼长
    pages = [
        (crawled(m, "zh-hans"), url)
        for m in mobiles
        for url in list(crawled(m, "zh-hans").pages)[:MAX_PHONE_PAGES]
    ]
    pages += [
        (crawled(m, "en"), url) for m in mobiles if m in ENGLISH for url in list(crawled(m, "en").pages)[:10]
    ]
    too_wide = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": PHONE_WIDTH, "height": 812})
        page = context.new_page()
        current: dict[str, str] = {}
        served: set[str] = set()  # the static files the pages loaded: the site's CSS must be among them

        def serve(route):
            path = "/" + route.request.url.split("://", 1)[1].split("/", 1)[1]
            if route.request.url == current["url"]:
                return route.fulfill(
                    status=200, content_type="text/html; charset=utf-8", body=current["html"]
                )
            static = _static(path.split("?")[0]) if path.startswith(STATIC_PREFIX) else None
            if static:
                served.add(path.split("?")[0])
                return route.fulfill(status=200, body=static[0], content_type=static[1])
            return route.abort()  # photos and htmx fragments: not needed for the layout

        page.route("**/*", serve)
        for result, url in pages:
            current.update(url="http://testserver" + url, html=result.pages[url])
            page.goto(current["url"], wait_until="load")
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > PHONE_WIDTH:
                culprits = page.evaluate(
                    """(w) => [...document.querySelectorAll('body *')]
                        .filter(e => e.getBoundingClientRect().right > w + 1)
                        .slice(-3)
                        .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''))""",
                    PHONE_WIDTH,
                )
                too_wide.append(f"{result.persona} · {url}: {width} px wide ({', '.join(culprits)})")
        browser.close()
    assert STATIC_PREFIX + "linjialin/site.css" in served, "the pages were measured without the site's CSS"
    if too_wide:
        pytest.fail("pages wider than 375 px:\n" + "\n".join(too_wide), pytrace=False)
