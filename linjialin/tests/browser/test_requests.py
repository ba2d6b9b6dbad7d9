"""A request from a resident's phone to a rated, closed result, at 375×812 with no sideways scrolling:
the resident submits with a photo and finds it under "my requests"; the 楼门长 accepts, records the
contact and resolves it with an "after" photo; the resident rates it."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from PIL import Image

from linjialin.service_requests.models import ServiceRequest, State

from .axe import assert_axe_clean
from .conftest import fits_phone, screenshot
from .test_phone_flows import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "media"},
        },
    }


def photo() -> dict:
    out = io.BytesIO()
    Image.new("RGB", (1200, 900), (230, 180, 40)).save(out, "JPEG")
    return {"name": "light.jpg", "mimeType": "image/jpeg", "buffer": out.getvalue()}


def switch_user(page, user) -> None:
    page.context.clear_cookies()
    log_in(page, user.mobile)


def test_resident_request_to_rated_and_closed(phone, tree, resident_a, entrance_leader_a):
    page = phone
    log_in(page, resident_a.mobile)
    # the home page passes its own `perms` to the template, which hides the nav items there (reported);
    # the menu is opened on the household page
    page.goto(page.url_for(reverse("places:detail", args=[tree.household_a1.pk])))
    page.locator("button.navbar-toggler").click()
    page.locator("#nav a", has_text="诉求").click()
    page.wait_for_url(page.url_for(reverse("requests:mine")))
    fits_phone(page)
    page.locator("main a.btn", has_text="新诉求").click()
    page.wait_for_url(page.url_for(reverse("requests:submit")))
    fits_phone(page)
    assert "110" in page.locator("main .alert-warning").inner_text()

    page.locator("#id_request_type").select_option("help")
    page.locator("#id_description").fill("1单元楼道的灯坏了，晚上老人上下楼看不见台阶")
    assert page.locator("#description-count").inner_text() == "22"
    page.locator("#id_place_1").check()  # my entrance
    page.locator("#id_photos").set_input_files(photo())
    screenshot(page, "request-submit")
    assert_axe_clean(page)
    page.locator("main form button[type=submit]").click()
    req = None
    page.wait_for_url("**/requests/*/")
    req = ServiceRequest.objects.get(requester=resident_a)
    assert page.url == page.url_for(reverse("requests:detail", args=[req.pk]))
    assert (req.place, req.photos.count()) == (tree.entrance_a, 1)
    loaded_width = (  # wait for the photo to load: it is fetched after the page itself
        "img => img.complete ? img.naturalWidth"
        " : new Promise(done => img.addEventListener('load', () => done(img.naturalWidth)))"
    )
    assert page.locator("main .request-photos img").evaluate(loaded_width) > 0
    fits_phone(page)
    screenshot(page, "request-detail-resident")
    assert_axe_clean(page)

    page.goto(page.url_for(reverse("requests:mine")))
    page.locator("main .request-list a", has_text=req.number).wait_for()
    fits_phone(page)

    switch_user(page, entrance_leader_a)
    page.goto(page.url_for(reverse("requests:queue")))
    fits_phone(page)
    assert page.locator(".queue-tabs").inner_text().split() == [
        "新诉求",
        "1",
        "我的",
        "0",
        "即将到期",
        "0",  # minutes old: due soon only in the last quarter of its window
        "已超期",
        "0",
    ]
    screenshot(page, "request-queue")
    assert_axe_clean(page)
    page.locator("main .request-list a", has_text=req.number).click()
    page.wait_for_url(page.url_for(reverse("requests:detail", args=[req.pk])))
    fits_phone(page)
    assert "139****0001" in page.locator("#request-contact").inner_text()  # not the handler yet
    page.locator("button[value=accept]").click()
    page.locator("#text-contact").wait_for()
    assert "13900000001" in page.locator("#request-contact").inner_text()
    fits_phone(page)
    page.locator("#text-contact").fill("电话联系了张三，约好明天上午上门")
    page.locator("button[value=contact]").click()
    page.locator("#text-resolve").fill("已更换楼道灯泡，并检查了开关")
    page.locator("#resolve-photos").set_input_files(photo())  # what it looks like now
    fits_phone(page)
    screenshot(page, "request-detail-handler")
    assert_axe_clean(page)
    page.locator("button[value=resolve]").click()
    page.locator("#request-state", has_text="已办结").wait_for()
    after = page.locator(".request-after-photos img")
    after.first.wait_for()
    assert after.count() == 1 and after.first.evaluate(loaded_width) > 0
    assert req.photos.filter(after=True).count() == 1
    fits_phone(page)

    switch_user(page, resident_a)
    page.goto(page.url_for(reverse("requests:detail", args=[req.pk])))
    page.locator("#id_solved_0").check()
    page.locator("#id_satisfaction_0").check()
    page.locator("#id_comment").fill("很快就修好了，谢谢")
    fits_phone(page)
    screenshot(page, "request-rate")
    assert_axe_clean(page)
    page.locator("form[action$='/rate/'] button[type=submit]").click()
    page.locator("#request-state", has_text="已关闭").wait_for()
    fits_phone(page)
    screenshot(page, "request-closed")
    assert_axe_clean(page)
    req.refresh_from_db()
    assert (req.state, req.satisfaction, req.handler) == (State.CLOSED, "satisfied", entrance_leader_a)
    assert page.console_errors == []
