"""While typing at 375×812 (docs/duplicates.md, docs/routing.md): a resident typing "楼道灯坏了" on the
submit page sees the lighting category suggested (and chooses it with a tap), is offered the open
request from the same building and joins it (我也遇到) instead of opening a new work order."""

from __future__ import annotations

import pytest
from django.urls import reverse

from linjialin.service_requests import services
from linjialin.service_requests.models import Category, CoRequester, ServiceRequest

from .conftest import fits_phone, screenshot
from .test_phone_flows import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_neighbour_joins_the_open_request_of_the_building(phone, tree, resident_a, resident_b):
    # 张三 (1号楼 1单元) reported the corridor light at his entrance; 王五 lives in 1号楼 2单元
    existing = services.submit_request(
        resident_a, place=tree.entrance_a, request_type="help", description="楼道灯坏了，晚上看不见台阶"
    )
    page = phone
    log_in(page, resident_b.mobile)
    page.goto(page.url_for(reverse("requests:submit")))
    page.locator("#id_description").fill("楼道灯坏了")
    # the lighting problem is suggested as the category; a tap chooses it in the form
    light = page.locator("#routing-box button[data-category-code='corridor-light']")
    light.wait_for()
    assert light.bounding_box()["height"] >= 44
    light.click()
    chosen = page.locator("#id_category").input_value()
    assert chosen == str(Category.objects.get(code="corridor-light").pk)
    item = page.locator(f"#similar-requests .similar-item[data-request='{existing.number}']")
    item.wait_for()
    text = item.inner_text()
    assert "晚上看不见台阶" in text and "本楼" in text and "相似度" in text
    assert "张三" not in text and resident_a.mobile not in text  # never who reported it
    button = item.locator("button.join-button")
    assert button.bounding_box()["height"] >= 44
    fits_phone(page)
    screenshot(page, "duplicates-similar")
    button.click()
    page.wait_for_url(page.url_for(reverse("requests:co_rate", args=[existing.pk])))
    fits_phone(page)
    assert existing.number in page.locator("main h1").inner_text()
    assert CoRequester.objects.filter(request=existing, user=resident_b).count() == 1
    assert ServiceRequest.objects.count() == 1  # no new work order
    assert page.console_errors == []
