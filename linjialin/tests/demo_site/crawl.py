"""A breadth-first crawl of the demo site as one persona: what test_crawl.py checks.

From the home page, every same-site `<a href>` is fetched with the Django test client (GET only), within
bounds: at most MAX_PAGES pages per persona and PER_PATTERN URLs per URL pattern (view name and query
keys), so a list of 54 households costs two fetches, not 54. Downloads are fetched (their status counts)
but not parsed. The crawl records every link that answers an error, every visible text that is an
internal identifier, and the HTML of each page (for the width check in Chromium).
"""

from __future__ import annotations

import re
import time
from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from django.db import connection, transaction
from django.test import Client
from django.urls import Resolver404, resolve

MAX_PAGES = 70
PER_PATTERN = 2
# Downloads (a whole subdistrict's roster as xlsx takes a minute) are fetched once per URL pattern in the
# whole run, by the first persona that is shown one; their permissions are tested where they are made.
_downloads_fetched: set[str] = set()
DOWNLOADS = (".pdf", ".xlsx", ".docx", ".csv", ".xls", ".zip")
# Not followed: signing out and switching language change the session; the Django admin is Django's own.
SKIP_PREFIXES = (
    "/accounts/logout",
    "/accounts/language",
    "/i18n/",
    "/admin/",
    "/en/admin/",
    "/static/",
    "/jsi18n/",
)

# A snake_case word (co_requester_joined) or a dotted code (request.accept) standing alone in visible
# text. ASCII look-arounds, not \b: a Chinese character next to the code is a word character to \b.
SNAKE = re.compile(r"(?<![A-Za-z0-9_./@-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![A-Za-z0-9_@])")
DOTTED = re.compile(r"(?<![A-Za-z0-9_./@-])[a-z][a-z0-9_]+(?:\.[a-z][a-z0-9_]+)+(?![A-Za-z0-9_(/@-])")
# template syntax that reached the page (a {# comment #} over two lines is printed, not dropped)
TEMPLATE = re.compile(r"\{[{%#]|[}%#]\}")
# file names and addresses are not codes (nor "e.g.": a segment has two characters at least)
NOT_CODES = (
    "com",
    "cn",
    "org",
    "net",
    "gov",
    "xlsx",
    "xls",
    "csv",
    "pdf",
    "docx",
    "png",
    "jpg",
    "svg",
    "js",
    "css",
)


@dataclass
class Problem:
    persona: str
    page: str  # where the link or the text is
    detail: str

    def __str__(self) -> str:
        return f"{self.persona} · {self.page}: {self.detail}"


@dataclass
class CrawlResult:
    persona: str
    start: str
    pages: dict[str, str] = field(default_factory=dict)  # url → HTML of each page that answered 200
    broken: list[Problem] = field(default_factory=list)
    codes: list[Problem] = field(default_factory=list)
    fetched: int = 0
    timings: list[tuple[float, str]] = field(default_factory=list)  # seconds, url
    skipped: int = 0  # links not followed because their pattern had PER_PATTERN already
    seconds: float = 0.0


class _Page(HTMLParser):
    """The links and the visible text of one page."""

    # not read: what is not shown, and literal text a user types (an import's accepted column headers)
    HIDDEN = {"script", "style", "template", "noscript", "head", "title", "code", "kbd", "samp"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.text: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self._hidden += 1
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)

    def handle_endtag(self, tag):
        if tag in self.HIDDEN and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.text.append(data.strip())


def internal_codes(text: str) -> list[str]:
    found = SNAKE.findall(text)
    found += [m for m in DOTTED.findall(text) if m.rsplit(".", 1)[1] not in NOT_CODES]
    found += TEMPLATE.findall(text)
    return found


def is_download(url: str) -> bool:
    parts = urlsplit(url)
    formats = {f"{key}={ext.lstrip('.')}" for ext in DOWNLOADS for key in ("fmt", "format")}
    return parts.path.endswith(DOWNLOADS) or bool(formats & set(parts.query.split("&")))


def _pattern(url: str) -> str:
    parts = urlsplit(url)
    try:
        name = resolve(parts.path).view_name
    except Resolver404:
        return parts.path
    keys = sorted({kv.split("=", 1)[0] for kv in parts.query.split("&") if kv})
    return f"{name}?{'&'.join(keys)}"


def _same_site(href: str, base: str) -> str | None:
    if href.startswith(("#", "mailto:", "tel:", "javascript:", "sms:")):
        return None
    parts = urlsplit(urljoin("http://testserver" + base, href))
    if parts.netloc != "testserver" or parts.path.startswith(SKIP_PREFIXES):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def crawl(user, persona: str, start: str = "/") -> CrawlResult:
    """Crawl as `user` from `start`; every request in a savepoint rolled back afterwards (a GET may
    mark a notice read or write an audit event; the next persona sees the demo as it was)."""
    client = Client()
    client.raise_request_exception = False
    client.force_login(user)
    result = CrawlResult(persona, start)
    began = time.monotonic()
    queue: deque[tuple[str, str]] = deque([(start, "(home)")])
    seen = {start}
    per_pattern: dict[str, int] = {}
    while queue and result.fetched < MAX_PAGES:
        url, source = queue.popleft()
        response = _get(client, url, result.timings)
        result.fetched += 1
        hops = 0
        while response.status_code in (301, 302, 303, 307, 308) and hops < 5:
            target = response["Location"]
            if urlsplit(target).path.startswith("/accounts/login") or "/accounts/login/" in target:
                result.broken.append(Problem(persona, source, f"{url} → sent to the sign-in page"))
                break
            url, hops = _same_site(target, url) or target, hops + 1
            response = _get(client, url, result.timings)
        if response.status_code >= 400:
            reason = ""
            if getattr(response, "exc_info", None):
                reason = f" ({response.exc_info[0].__name__}: {response.exc_info[1]})"
            result.broken.append(Problem(persona, source, f"{url} answers {response.status_code}{reason}"))
            continue
        if response.status_code != 200 or is_download(url):
            continue
        if not response.get("Content-Type", "").startswith("text/html"):
            continue
        html = response.content.decode()
        result.pages[url] = html
        parsed = _Page()
        parsed.feed(html)
        for code in dict.fromkeys(c for chunk in parsed.text for c in internal_codes(chunk)):
            result.codes.append(Problem(persona, url, f"untranslated identifier “{code}”"))
        for href in parsed.links:
            target = _same_site(href, url)
            if target is None or target in seen:
                continue
            seen.add(target)
            key = _pattern(target)
            if is_download(target):
                if key in _downloads_fetched:
                    result.skipped += 1
                    continue
                _downloads_fetched.add(key)
            if per_pattern.get(key, 0) >= PER_PATTERN:
                result.skipped += 1
                continue
            per_pattern[key] = per_pattern.get(key, 0) + 1
            queue.append((target, url))
    result.seconds = time.monotonic() - began
    return result


def _get(client: Client, url: str, timings: list):
    sid = transaction.savepoint_create()
    began = time.monotonic()
    try:
        return client.get(url)
    finally:
        timings.append((time.monotonic() - began, url))
        if connection.needs_rollback:  # a view's failed statement must not poison the next request
            connection.needs_rollback = False
        transaction.savepoint_rollback(sid)
