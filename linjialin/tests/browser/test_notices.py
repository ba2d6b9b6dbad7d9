"""Told at every step, on a phone (375×812): a resident submits; the 楼门长 finds the notice in his inbox,
opens the request from it (the notice is then read), accepts and resolves it; the resident finds the
"resolved" notice, opens it and rates."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from linjialin.notifications.models import Notification
from linjialin.notifications.services import subject_of
from linjialin.service_requests.models import ServiceRequest, State

from .conftest import fits_phone, screenshot
from .test_phone_flows import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

OPEN = re.compile("^(Open|查看)$")


def open_from_inbox(page, number: str, name: str) -> None:
    page.goto(page.url_for(reverse("notifications:inbox")))
    fits_phone(page)
    assert page.locator("h1 .badge").inner_text().strip()  # unread messages are counted
    row = page.locator("main li", has_text=number)
    row.locator(".badge", has_text=re.compile("new|新")).wait_for()
    screenshot(page, name)
    button = row.get_by_role("button", name=OPEN)
    assert button.bounding_box()["height"] >= 44
    button.click()


def test_the_entrance_leader_is_told_opens_resolves_and_the_resident_rates(
    phone, tree, resident_a, entrance_leader_a
):
    page = phone
    log_in(page, resident_a.mobile)
    page.goto(page.url_for(reverse("requests:submit")))
    page.locator("#id_request_type").select_option("help")
    page.locator("#id_description").fill("1单元楼道的灯坏了，晚上老人上下楼看不见台阶")
    page.locator("#id_place_1").check()  # my entrance
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/requests/*/")
    req = ServiceRequest.objects.get(requester=resident_a)
    detail = page.url_for(reverse("requests:detail", args=[req.pk]))

    page.context.clear_cookies()
    log_in(page, entrance_leader_a.mobile)
    open_from_inbox(page, req.number, "notice-inbox-entrance-leader")
    page.wait_for_url(detail)
    fits_phone(page)
    assert not Notification.objects.filter(user=entrance_leader_a, read_at__isnull=True).exists()
    page.locator("button[value=accept]").click()
    page.locator("#text-contact").fill("电话联系了张三，约好明天上午上门")
    page.locator("button[value=contact]").click()
    page.locator("#text-resolve").fill("已更换楼道灯泡，并检查了开关")
    page.locator("button[value=resolve]").click()
    page.locator("#request-state", has_text=re.compile("已办结|resolved")).wait_for()

    page.context.clear_cookies()
    log_in(page, resident_a.mobile)
    unread = Notification.objects.filter(user=resident_a, subject=subject_of(req), read_at__isnull=True)
    assert set(unread.values_list("kind", flat=True)) == {
        "request.accepted",
        "request.contacted",
        "request.resolved",
    }
    page.goto(page.url_for(reverse("notifications:inbox")))
    assert page.locator("main li", has_text=req.number).count() == 1  # one row for the request
    assert "请评价" in page.locator("main li", has_text=req.number).inner_text()
    open_from_inbox(page, req.number, "notice-inbox-resident")
    page.wait_for_url(detail)
    assert not unread.exists()
    page.locator("#id_solved_0").check()
    page.locator("#id_satisfaction_0").check()
    fits_phone(page)
    page.locator("form[action$='/rate/'] button[type=submit]").click()
    page.locator("#request-state", has_text=re.compile("已关闭|closed")).wait_for()
    req.refresh_from_db()
    assert req.state == State.CLOSED
    assert page.console_errors == []
