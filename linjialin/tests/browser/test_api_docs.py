"""The API docs page (/api/v1/docs) renders in a real browser, offline, under the site's strict CSP.

Swagger UI is served from django-ninja's bundled static files; nothing may come from another origin
and the browser must report no CSP violation or script error.
"""

from __future__ import annotations

import pytest

from linjialin.api import api

# Same database mode as the other browser tests (a live server in another thread needs committed data).
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_swagger_ui_renders_every_endpoint_offline_under_the_csp(browser, live_server):
    problems: list[str] = []
    foreign: list[str] = []
    page = browser.new_page()
    try:
        page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("request", lambda r: None if r.url.startswith(live_server.url) else foreign.append(r.url))
        page.goto(live_server.url + "/api/v1/docs")
        page.wait_for_selector(".opblock", timeout=20_000)
        paths = page.locator(".opblock-summary-path").all_inner_texts()
    finally:
        page.close()
    assert {"/api/v1/me", "/api/v1/places/{place_id}/residents", "/api/v1/audit/events"} <= {
        p.replace("\u200b", "") for p in paths
    }
    schema = api.get_openapi_schema()
    operations = sum(len(methods) for methods in schema["paths"].values())
    assert len(paths) == operations  # every operation of the OpenAPI document is rendered
    assert foreign == []
    assert [p for p in problems if "Content Security Policy" in p or "Refused" in p] == []
    assert [p for p in problems if "error" in p.lower()] == []
