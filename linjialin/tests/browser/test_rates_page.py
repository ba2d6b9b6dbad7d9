"""The staff rates page on a phone (375×812): the page itself never scrolls sideways (the wide tables
scroll inside their own box), the period form works, and a place row drills down to its children."""

from __future__ import annotations

import pytest
from django.urls import reverse

from .conftest import fits_phone, screenshot
from .test_phone_flows import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_secretary_reads_the_rates_and_drills_down_on_a_phone(phone, tree, community_secretary):
    page = phone
    log_in(page, community_secretary.mobile)
    page.goto(page.url_for(reverse("requests:rates")))
    fits_phone(page)
    assert "社区一" in page.locator("main h1 + .badge, main .badge").first.inner_text()
    page.locator("#id_period").select_option("last_month")
    page.locator("main form.rates-period button[type=submit]").click()
    page.wait_for_url("**period=last_month**")
    fits_phone(page)
    screenshot(page, "rates-community")
    page.locator("#rates-places a", has_text="网格一").click()
    page.wait_for_url(f"**place={tree.grid_1.pk}**")
    fits_phone(page)
    rows = page.locator("#rates-places tbody tr")
    assert rows.count() == 2 and "紫荆雅园1号楼1单元" in rows.first.inner_text()
    # the table scrolls inside its frame with a visible cue, the place column staying in view
    assert page.locator(".rates-scroll-hint").first.is_visible()
    frame = page.locator(".rates-scroll").first
    assert frame.evaluate("el => el.scrollWidth > el.clientWidth")
    frame.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
    place_cell = rows.first.locator("th[scope=row]").bounding_box()
    assert 0 <= place_cell["x"] and place_cell["x"] + place_cell["width"] <= 375
    fits_phone(page)
    for button in page.locator("main a.btn").all():
        assert button.bounding_box()["height"] >= 44
    assert page.console_errors == []
