"""Main resident / 楼门长 flows at a 375×812 viewport, with no horizontal scrolling on any page."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import translation

from linjialin.core.models import AuditEvent
from linjialin.testing.plugin import PASSWORD

from .axe import assert_axe_clean
from .conftest import fits_phone, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def log_in(page, mobile: str) -> None:
    page.goto(page.url_for(reverse("accounts:login")))
    fits_phone(page)
    page.get_by_label(re.compile("Mobile|手机")).fill(mobile)
    page.get_by_label(re.compile("Password|密码")).fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(page.url_for(reverse("home")))


def test_entrance_leader_opens_entrance_household_and_shows_a_full_number(phone, tree, entrance_leader_a):
    page = phone
    log_in(page, entrance_leader_a.mobile)
    fits_phone(page)
    assert "紫荆雅园1号楼1单元" in page.locator("main").inner_text()
    screenshot(page, "home-entrance-leader")
    assert_axe_clean(page)

    page.locator("main a.btn", has_text=re.compile("entrance and its households|楼门")).first.click()
    page.wait_for_url(page.url_for(reverse("places:detail", args=[tree.entrance_a.pk])))
    fits_phone(page)
    assert page.locator("#profile-title").is_visible()
    screenshot(page, "entrance-profile")
    assert_axe_clean(page)

    page.locator("main .list-group a", has_text="紫荆雅园1号楼1单元101").click()
    page.wait_for_url(page.url_for(reverse("places:detail", args=[tree.household_a1.pk])))
    fits_phone(page)
    numbers = page.locator(f"#numbers-{tree.resident_a1.pk}")
    assert "138****0001" in numbers.inner_text()
    numbers.locator("summary").click()
    numbers.locator("input[name=reason]").fill("上门核实独居情况")
    numbers.locator("button[type=submit]").click()
    numbers.get_by_text("13800000001").wait_for()
    assert "11010519491231002X" in numbers.inner_text()
    fits_phone(page)
    screenshot(page, "household-unmasked")
    assert_axe_clean(page)
    event = AuditEvent.objects.get(action="resident.unmasked")
    assert (event.actor_id, event.object_id, event.reason) == (
        entrance_leader_a.pk,
        str(tree.resident_a1.pk),
        "上门核实独居情况",
    )
    assert page.console_errors == []


def test_unmask_without_reason_shows_the_message_in_place(phone, tree, entrance_leader_a):
    page = phone
    log_in(page, entrance_leader_a.mobile)
    page.goto(page.url_for(reverse("places:detail", args=[tree.household_a1.pk])))
    numbers = page.locator(f"#numbers-{tree.resident_a1.pk}")
    numbers.locator("summary").click()
    numbers.locator("input[name=reason]").fill("x")
    numbers.locator("button[type=submit]").click()
    numbers.locator("[role=alert]").wait_for()
    assert "13800000001" not in numbers.inner_text()
    assert not AuditEvent.objects.filter(action="resident.unmasked").exists()


def test_resident_sees_only_their_own_household(phone, tree, resident_a, entrance_leader_a):
    page = phone
    log_in(page, resident_a.mobile)
    fits_phone(page)
    main = page.locator("main").inner_text()
    assert "楼门长A" in main  # their entrance leader's name
    screenshot(page, "home-resident")
    assert_axe_clean(page)
    page.locator("main a.btn", has_text="查看我家").click()  # the first button is 提交诉求
    page.wait_for_url(page.url_for(reverse("places:detail", args=[tree.household_a1.pk])))
    fits_phone(page)
    text = page.locator("main").inner_text()
    assert "张三" in text and "138****0001" in text
    assert "李四" not in text and "王五" not in text
    assert page.locator("details summary").count() == 0  # no "show full number", no tag form
    for other in (tree.household_a2, tree.household_b1, tree.entrance_a):
        response = page.goto(page.url_for(reverse("places:detail", args=[other.pk])))
        assert response.status == 404, other
    fits_phone(page)


def test_language_switch_to_english_and_back(phone, tree, resident_a):
    page = phone
    log_in(page, resident_a.mobile)
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    page.locator("#language-select").select_option("en")
    page.locator("footer button[type=submit]").click()
    page.wait_for_url(re.compile(r"/en/$"))
    assert page.locator("html").get_attribute("lang") == "en"
    assert "My household" in page.locator("main").inner_text()
    fits_phone(page)
    page.locator("#language-select").select_option("zh-hans")
    page.locator("footer button[type=submit]").click()
    page.wait_for_url(page.url_for(reverse("home")))
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    resident_a.refresh_from_db()
    assert resident_a.language == "zh-hans"
    fits_phone(page)


def test_staff_pages_fit_a_phone(phone, tree, community_secretary, entrance_leader_a):
    page = phone
    log_in(page, community_secretary.mobile)
    for url in (
        reverse("home"),
        reverse("places:detail", args=[tree.community_1.pk]),
        reverse("accounts:coverage"),
        reverse("accounts:coverage_community", args=[tree.community_1.pk]),
        reverse("accounts:coverage_community", args=[tree.entrance_b.pk]),
        reverse("places:profile_edit", args=[tree.entrance_a.pk]),
        reverse("audit:list"),
    ):
        response = page.goto(page.url_for(url))
        assert response.status == 200, url
        fits_phone(page)
    screenshot(page, "audit-list")
    assert_axe_clean(page)
    assert page.console_errors == []


def test_coverage_assign_with_search_and_end_in_place(phone, tree, community_worker, resident_b):
    """htmx: search, pick, assign and end without leaving the entrance page."""
    page = phone
    log_in(page, community_worker.mobile)
    page.goto(page.url_for(reverse("accounts:coverage_community", args=[tree.entrance_b.pk])))
    page.locator("#q").fill("王")
    page.locator("#candidates label", has_text="王五").click()
    with translation.override("zh-hans"):  # the page's language; the label comes from the catalogue
        assign = translation.gettext("Assign")
    page.locator("#post-panel form[method=post] button[type=submit]", has_text=assign).click()
    page.locator("#messages .alert-success").wait_for()
    fits_phone(page)
    screenshot(page, "coverage-entrance")
    assert_axe_clean(page)
    assert "王五" in page.locator("#post-panel .holder").first.inner_text()
    holder = page.locator("#post-panel .holder").first
    holder.locator("summary").click()
    holder.locator("input[name=reason]").fill("搬走了")
    holder.locator("button[type=submit]").click()
    page.locator("#messages .alert-success").wait_for()
    page.locator("#post-panel", has_text="搬走了").wait_for()
    assert page.locator("#post-panel .holder").count() == 0
    assert page.console_errors == []
