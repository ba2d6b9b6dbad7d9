"""The entrance board on a phone (375×812): a resident goes from "my requests" to the board, which
fits the width, reads in large type with big tap targets, and shows the item anonymised."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from linjialin.service_requests.models import Category, Satisfaction, ServiceRequest, State

from .conftest import fits_phone, screenshot
from .test_phone_flows import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def solved(place, n, result, **fields):
    at = timezone.now() - timedelta(days=5 + n)
    return ServiceRequest.objects.create(
        number=f"B{n:06d}",
        request_type="help",
        description="楼道灯坏了",
        place=place,
        path=place.path,
        submitted_at=at,
        accept_by=at + timedelta(hours=24),
        accepted_at=at + timedelta(hours=2),
        resolved_at=at + timedelta(days=1, hours=3),
        state=State.CLOSED,
        board_consent=True,
        result=result,
        **fields,
    )


def test_resident_reads_the_entrance_board_on_a_phone(phone, tree, resident_a):
    light = Category.objects.create(code="light-b", name_zh="楼道照明", name_en="stairwell lights")
    solved(
        tree.entrance_a,
        1,
        "已联系张三（13800000001），1单元502门口的楼道灯已更换为声控灯，王师傅处理，居民确认亮了",
        requester=resident_a,
        contact_name="张三",
        satisfaction=Satisfaction.SATISFIED,
        category=light,
    )
    solved(tree.household_a1, 2, "水管阀门已更换，2单元301室确认不再漏水")
    solved(tree.entrance_b, 3, "OTHER ENTRANCE")

    page = phone
    log_in(page, resident_a.mobile)
    page.goto(page.url_for(reverse("requests:mine")))
    page.locator("main a.btn", has_text="楼门公告").click()
    page.wait_for_url(page.url_for(reverse("requests:board_entrance", args=[tree.entrance_a.pk])))
    fits_phone(page)
    screenshot(page, "entrance-board")

    cards = page.locator("main .board-item")
    assert cards.count() == 2
    text = page.locator("main").inner_text()
    assert "楼道照明" in text and "满意" in text and "1天3小时" in text and "本楼门" in text
    for secret in ("张三", "13800000001", "502", "301", "王师傅", "OTHER ENTRANCE"):
        assert secret not in text, secret

    # large type: the body ≥ 16 px, the result ≥ 20 px (Bootstrap fs-5), headings larger still
    def font_px(selector: str) -> float:
        return page.locator(selector).first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")

    assert font_px("body") >= 16
    assert font_px("main .board-result") >= 19.5
    assert font_px("main .board-item h2") >= 22
    # nothing inside a card is wider than the screen
    widest = page.evaluate(
        "Math.max(...[...document.querySelectorAll('main .board-item *')]"
        ".map(e => e.getBoundingClientRect().right))"
    )
    assert widest <= 375
    back = page.locator("main a.btn", has_text="我的诉求")
    assert back.bounding_box()["height"] >= 44
    assert page.console_errors == []
