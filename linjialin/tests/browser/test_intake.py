"""Intake at 375×812 with no sideways scrolling (docs/intake.md): an emergency shows the four numbers as
large tap-to-call buttons; a court matter shows its channel, and "not about that" submits it normally;
a repeat asks whether there is anything new and, with nothing new, shows the open request."""

from __future__ import annotations

import pytest
from django.urls import reverse

from linjialin.service_requests import services
from linjialin.service_requests.models import Category, Diversion, ServiceRequest, State

from .conftest import fits_phone, screenshot
from .test_phone_flows import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def submit(page, text: str) -> None:
    page.goto(page.url_for(reverse("requests:submit")))
    page.locator("#id_description").fill(text)
    page.locator("main form > .d-grid button[type=submit]").click()  # not the picker's search


def test_intake_on_the_phone(phone, tree, resident_a):
    page = phone
    log_in(page, resident_a.mobile)

    # an emergency: the numbers, large, and the request is recorded but not queued
    submit(page, "楼道里着火了，有很多烟")
    page.wait_for_url("**/outcome/")
    fits_phone(page)
    buttons = page.locator(".emergency-notice a.btn")
    assert buttons.count() == 4 and buttons.nth(1).get_attribute("href") == "tel:119"
    assert min(buttons.nth(i).bounding_box()["height"] for i in range(4)) >= 44
    screenshot(page, "intake-emergency")
    assert ServiceRequest.objects.get(diversion=Diversion.EMERGENCY).state == State.NOT_ACCEPTED

    # a court matter: the channel; "not about that" → the form again, the box ticked → queued
    submit(page, "法院门口的路灯坏了")
    page.wait_for_url("**/outcome/")
    fits_phone(page)
    assert "12368" in page.locator("#diversion").inner_text()
    page.locator("main a.btn", has_text="按普通诉求提交").click()
    page.wait_for_url("**/requests/new/?again=*")
    fits_phone(page)
    page.locator("#id_not_diverted").check()
    page.locator("main form > .d-grid button[type=submit]").click()  # not the picker's search
    page.wait_for_url("**/requests/*/")
    assert ServiceRequest.objects.filter(state=State.SUBMITTED, description="法院门口的路灯坏了").exists()

    # a repeat: asked first, then linked to the open request, whose page is shown
    corridor = Category.objects.get(code="corridor")
    open_req = services.submit_request(
        resident_a, place=tree.household_a1, request_type="help", description="楼道灯坏了", category=corridor
    )
    page.goto(page.url_for(reverse("requests:submit")))
    page.locator("#id_description").fill("楼道的灯还是坏的")
    page.locator("#id_category").select_option(str(corridor.pk))
    page.locator("main form > .d-grid button[type=submit]").click()  # not the picker's search
    page.locator("#repeat-question").wait_for()
    fits_phone(page)
    screenshot(page, "intake-repeat")
    page.locator("#id_repeat_answer_0").check()
    page.locator("main form > .d-grid button[type=submit]").click()  # not the picker's search
    page.wait_for_url(page.url_for(reverse("requests:detail", args=[open_req.pk])))
    assert ServiceRequest.objects.get(repeat_of=open_req).state == State.MERGED


def test_staff_entry_on_the_phone(phone, tree, grid_worker):
    """A 网格员 at 375 px: a patrol finding at a building from the queue's link, then a phone call whose
    mobile is mistyped (told at the field, nothing written) and then corrected."""
    page = phone
    log_in(page, grid_worker.mobile)
    page.goto(page.url_for(reverse("requests:queue")))
    page.locator(f"main a[href='{reverse('requests:behalf')}?channel=patrol']").click()
    page.wait_for_url("**/behalf/?channel=patrol")
    fits_phone(page)
    assert page.locator("#id_channel_2").is_checked()
    page.locator("#id_where").select_option(f"b:{tree.building_1.pk}")
    page.locator("#id_description").fill("楼前堆放纸箱")
    for control in ("#id_channel_2", "#id_where", "#id_description"):
        box = page.locator(control).bounding_box()
        assert box["height"] >= 16 and box["x"] >= 0 and box["x"] + box["width"] <= 375
    screenshot(page, "intake-staff-patrol")
    page.locator("main form > .d-grid button[type=submit]").click()  # not the picker's search
    page.wait_for_url("**/requests/*/")
    finding = ServiceRequest.objects.get(submitted_by=grid_worker)
    assert (finding.channel, finding.place, finding.requester) == ("patrol", tree.grid_1, None)
    assert page.locator("#request-contact").count() == 0

    page.goto(page.url_for(reverse("requests:behalf") + "?channel=phone"))
    page.locator("#id_household_q").fill("1单元 201")  # the household picker: results as you type
    page.locator(f"[data-picker-pick][value='{tree.household_a2.pk}']").click()
    page.locator("[data-picker-chosen]", has_text=tree.household_a2.name).wait_for()
    assert page.locator("#id_household").input_value() == str(tree.household_a2.pk)
    page.locator("#id_contact_name").fill("李奶奶")
    page.locator("#id_contact_mobile").fill("1380000123")
    page.locator("#id_description").fill("家里水管漏水")
    page.locator("main form > .d-grid button[type=submit]").click()  # not the picker's search
    page.locator("#id_contact_mobile-error").wait_for()
    fits_phone(page)
    screenshot(page, "intake-staff-phone-error")
    assert ServiceRequest.objects.filter(channel="phone").count() == 0
    assert page.locator("#id_household").input_value() == str(tree.household_a2.pk)  # kept after the error
    page.locator("#id_contact_mobile").fill("13800001234")
    page.locator("main form > .d-grid button[type=submit]").click()  # not the picker's search
    page.wait_for_url("**/requests/*/")
    call = ServiceRequest.objects.get(channel="phone")
    assert (call.place, call.contact_mobile) == (tree.household_a2, "13800001234")
    assert "13800001234" in page.locator("#request-contact").inner_text()  # the submitter sees it in full
