"""The hotspot board on a phone (375×812): a community secretary sees the ranked hotspots with their
trend lines (ECharts drawn from the page's JSON by a static script, no CSP errors), takes one on (立项)
with an owner and a deadline, and starts the task."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from linjialin.hotspots.models import ProactiveTask, TaskState
from linjialin.hotspots.services import run_detection
from linjialin.hotspots.tests.conftest import CLUTTER, LAMP, make_request

from .conftest import fits_phone, screenshot
from .test_phone_flows import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_secretary_takes_on_a_hotspot_on_a_phone(phone, tree, community_secretary, grid_worker):
    now = timezone.now()
    for i, text in enumerate(LAMP):
        make_request(
            tree.household_a1,
            f"{text}，联系人张三13812345678",
            at=now - timedelta(days=i + 1),
            contact_name="张三",
        )
    make_request(tree.entrance_a, LAMP[0], at=now - timedelta(days=40))
    for i, text in enumerate(CLUTTER):
        make_request(tree.entrance_b, text, at=now - timedelta(days=i + 1), category="corridor-clutter")
    run_detection(now=now)

    page = phone
    log_in(page, community_secretary.mobile)
    page.goto(page.url_for(reverse("hotspots:index")))
    page.wait_for_url(page.url_for(reverse("hotspots:board", args=[tree.community_1.pk])))
    first = page.locator("li.hotspot").first
    first.wait_for()
    assert "楼道" in first.locator("h2").inner_text()
    page.locator("[data-chart] svg").first.wait_for()  # the trend line is drawn
    assert page.locator("[data-chart] svg").count() == page.locator("li.hotspot").count()
    body = page.locator("main").inner_text()
    assert "13812345678" not in body and "张三" not in body
    fits_phone(page)
    screenshot(page, "hotspot-board")
    assert page.console_errors == []

    take = page.locator("li.hotspot", has_text="灯").first.get_by_role("link", name="立项")
    assert take.bounding_box()["height"] >= 44
    take.click()
    page.get_by_label("标题").fill("楼道灯统一更换")
    owner = page.get_by_label("负责人")
    if grid_worker.display_name in owner.locator("option").all_inner_texts():
        owner.select_option(label=grid_worker.display_name)
    page.get_by_label("期限").fill((timezone.localdate() + timedelta(days=14)).isoformat())
    fits_phone(page)
    page.locator("main form button[type=submit]").click()
    task = ProactiveTask.objects.get()
    page.wait_for_url(page.url_for(reverse("hotspots:task", args=[task.pk])))
    assert task.requests.count() >= 5
    start = page.get_by_role("button", name="开始")
    assert start.bounding_box()["height"] >= 44
    start.click()
    page.locator(".task-state", has_text="办理中").wait_for()
    fits_phone(page)
    screenshot(page, "hotspot-task")
    task.refresh_from_db()
    assert task.state == TaskState.IN_PROGRESS
