"""Mutual aid on phones (375×812), issue 6's acceptance: resident A posts a need; resident B of the same
building (A's entrance: a post starts there), opted in, sees it on the open page within 2 s without a
reload and offers help; A picks B; both then see the chosen contact; a resident of another community,
with the open page open all along, never sees the post (and its page is 404 for them)."""

from __future__ import annotations

import re
import time

import pytest
from django.urls import reverse

from linjialin.mutual_aid.models import Post, Reach
from linjialin.mutual_aid.services import posts as aid
from linjialin.mutual_aid.stream import hub
from linjialin.testing.plugin import make_user

from .conftest import PHONE, fits_phone, screenshot
from .test_phone_flows import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _context(browser, live_server):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.url_for = lambda path: live_server.url + path
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.console_errors = errors
    return context, page


def _open_live(page) -> None:
    page.goto(page.url_for(reverse("mutual_aid:open")))
    page.locator("#aid-feed[data-live=on]").wait_for(state="attached")  # the EventSource is open
    fits_phone(page)


def test_need_reaches_the_neighbour_live_and_the_pick_shows_contacts(
    browser, live_server, phone, tree, resident_a
):
    neighbour = make_user("13700004201", "李四", "resident", tree.household_a2)  # same entrance and building
    tree.resident_a2.user = neighbour
    tree.resident_a2.save(update_fields=["user"])
    aid.subscribe(neighbour, active=True, reach=Reach.BUILDING, categories=[])
    stranger = make_user("13700004202", "赵六", "resident", tree.household_x1)  # another community
    aid.subscribe(stranger, active=True, reach=Reach.COMMUNITY, categories=[])

    a = phone
    b_context, b = _context(browser, live_server)
    x_context, x = _context(browser, live_server)
    try:
        log_in(b, neighbour.mobile)
        _open_live(b)
        log_in(x, stranger.mobile)
        _open_live(x)

        # A posts a need
        log_in(a, resident_a.mobile)
        a.goto(a.url_for(reverse("mutual_aid:new")) + "?kind=need")
        fits_phone(a)
        a.locator("input[name=kind][value=need]").check()
        a.locator("input[name=category][value=errands]").check()
        a.locator("textarea[name=text]").fill("腿脚不便，谁能帮忙带一袋米上楼？")
        a.locator("form.aid-post-form button[type=submit]").click()
        a.wait_for_url(re.compile(r"/mutual-aid/posts/\d+/$"))
        posted = time.monotonic()
        post = Post.objects.latest("id")

        # B sees it within 2 s, without reloading
        card = b.locator(f"#aid-feed #post-{post.pk}")
        card.wait_for(timeout=5000)
        seen = time.monotonic() - posted
        assert seen < 2.0, f"the need reached the neighbour's open page after {seen:.2f} s"
        assert "aid-live-new" in (card.get_attribute("class") or "")
        assert b.locator("#aid-feed article").first.get_attribute("id") == f"post-{post.pk}"  # on top
        fits_phone(b)
        screenshot(b, "mutual-aid-live-card")

        # B offers help from the card
        card.locator("a").first.click()
        b.wait_for_url(b.url_for(reverse("mutual_aid:post", args=[post.pk])))
        b.get_by_role("button", name=re.compile("^(I can help|我能帮)")).click()
        b.locator("#my-response").wait_for()

        # A picks B
        a.reload()
        a.locator("summary", has_text=re.compile("Choose this helper|选这位邻居")).first.click()
        a.get_by_role("button", name=re.compile(neighbour.display_name)).click()
        a.locator("#contact").wait_for()
        assert a.locator("#contact").is_visible()
        fits_phone(a)
        screenshot(a, "mutual-aid-picked-author")

        # both now see the chosen contact
        b.reload()
        b.locator("#contact").wait_for()
        screenshot(b, "mutual-aid-picked-helper")

        # the other community never saw it, and cannot open it
        assert x.locator(f"#post-{post.pk}").count() == 0
        response = x.goto(x.url_for(reverse("mutual_aid:post", args=[post.pk])))
        assert response.status == 404
        for page in (a, b, x):
            assert not [e for e in page.console_errors if "Content Security Policy" in e]
    finally:
        a.goto("about:blank")  # no page left whose live feed would reconnect
        b_context.close()
        x_context.close()
        # the server side of the live feeds: its polling thread must not outlive the test database
        hub.stop()
