"""The home page per role in a browser.

At 375×812 the resident submits a request from the home page in two taps: tap 1 is 提交诉求 on the
home page, then the form is filled (typing and choosing are not taps), and tap 2 is the submit button.
At 1366×768 the community worker's home leads to an overdue request (opened at once) and to this
month's rates."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from linjialin.service_requests import services
from linjialin.service_requests.models import Category, ServiceRequest

from .conftest import fits_phone, screenshot
from .test_phone_flows import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

DESK = {"width": 1366, "height": 768}


def test_resident_submits_from_the_home_page_in_two_taps(phone, tree, resident_a, entrance_leader_a):
    page = phone
    log_in(page, resident_a.mobile)
    fits_phone(page)
    submit = page.locator("main [data-testid=home-submit]")
    assert submit.inner_text().strip() == "提交诉求"
    box = submit.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 300  # a big button, the first thing of the page
    assert "我的诉求" in page.locator("#home-resident").inner_text()
    screenshot(page, "home-resident-work")

    submit.click()  # tap 1
    page.wait_for_url(page.url_for(reverse("requests:submit")))
    page.locator("#id_request_type").select_option("help")
    page.locator("#id_description").fill("1单元楼道的灯坏了，晚上老人上下楼看不见台阶")
    page.locator("main form button[type=submit]").click()  # tap 2
    page.wait_for_url("**/requests/*/")
    req = ServiceRequest.objects.get(requester=resident_a)
    assert page.url == page.url_for(reverse("requests:detail", args=[req.pk]))
    assert req.place == tree.household_a1

    page.goto(page.url_for(reverse("home")))
    assert "1 件办理中" in page.locator("#home-resident").inner_text()
    fits_phone(page)


def _escalated_to_the_community(tree, resident, leader, grid_worker) -> ServiceRequest:
    req = services.submit_request(
        resident,
        place=tree.household_a1,
        request_type="help",
        description="小区东门路灯不亮",
        category=Category.objects.get(code="corridor"),
    )
    req = services.escalate_request(leader, req, reason="需要物业配合")
    return services.escalate_request(grid_worker, req, reason="需要社区协调")


def test_community_worker_home_leads_to_an_overdue_item_and_to_this_months_rates(
    browser, live_server, tree, resident_a, entrance_leader_a, grid_worker, community_worker
):
    late = _escalated_to_the_community(tree, resident_a, entrance_leader_a, grid_worker)
    context = browser.new_context(viewport=DESK, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.url_for = lambda path: live_server.url + path
    # the server's clock runs on from two hours after the community's acceptance deadline
    with time_machine.travel(late.accept_by + timedelta(hours=2), tick=True):
        try:
            log_in_at_desk(page, community_worker.mobile)
            queue = page.locator("#home-queue")
            assert "已超期" in queue.inner_text()
            assert page.locator("#home-community .home-rates").is_visible()
            screenshot(page, "home-community-worker")

            queue.locator("a", has_text=late.number).click()
            page.wait_for_url(page.url_for(reverse("requests:detail", args=[late.pk])))
            assert late.number in page.locator("main").inner_text()

            page.goto(page.url_for(reverse("home")))
            page.locator("#home-community .home-rates").click()
            page.wait_for_url(f"**/requests/rates/?place={tree.community_1.pk}&period=this_month")
            assert "社区一" in page.locator("main").inner_text()
            screenshot(page, "home-community-worker-rates")
        finally:
            context.close()


def log_in_at_desk(page, mobile: str) -> None:
    """log_in checks the login page fits a phone; at a desk the width is the desk's."""
    import re

    from linjialin.testing.plugin import PASSWORD

    page.goto(page.url_for(reverse("accounts:login")))
    page.get_by_label(re.compile("Mobile|手机")).fill(mobile)
    page.get_by_label(re.compile("Password|密码")).fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(page.url_for(reverse("home")))
