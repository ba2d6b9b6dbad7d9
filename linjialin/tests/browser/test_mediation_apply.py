"""Browser test (issue 5 acceptance): a resident applies for mediation on the phone page and sees the
case under "my cases"; the centre's manager opens it on the desk, assigns the team, records both
parties' consent and accepts it; the resident sees the state change. Phone viewport 375×812, no
sideways scrolling on any page."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import translation

from linjialin.mediation.models import Case, CaseMember, CaseState
from linjialin.testing.plugin import PASSWORD
from linjialin.tests.browser.conftest import PHONE, fits_phone, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def new_phone(browser, live_server):
    """new_phone() → a fresh page at 375×812 in its own browser context (one per person)."""
    contexts = []

    def _open():
        context = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="zh-CN")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.url_for = lambda path: live_server.url + path
        page.console_errors = []
        page.on("console", lambda msg: page.console_errors.append(msg.text) if msg.type == "error" else None)
        return page

    yield _open
    for context in contexts:
        context.close()


def log_in(page, mobile: str) -> None:
    page.goto(page.url_for(reverse("accounts:login")))
    page.get_by_label(re.compile("Mobile|手机")).fill(mobile)
    page.get_by_label(re.compile("Password|密码")).fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(page.url_for(reverse("home")))


def test_resident_applies_and_the_centre_accepts(new_phone, tree, resident_a, mediation_manager, mediator_a):
    # the resident applies on the phone page, from the home page
    resident = new_phone()
    log_in(resident, resident_a.mobile)
    resident.locator(f"main a[href='{reverse('mediation:apply')}']").click()
    resident.wait_for_url(resident.url_for(reverse("mediation:apply")))
    fits_phone(resident)
    resident.locator("input[name=dispute_type][value=neighbour]").check()
    resident.locator("input[name=title]").fill("楼上漏水")
    resident.locator("textarea[name=facts]").fill("楼上卫生间漏水，我家天花板发霉，找过几次没有解决。")
    resident.locator("input[name=other_party_name]").fill("王五")
    screenshot(resident, "mediation-apply")
    resident.locator("main form button[type=submit]").click()
    resident.locator("#case-number").wait_for()
    case = Case.objects.get()
    assert resident.locator("#case-number").inner_text() == case.number
    fits_phone(resident)
    screenshot(resident, "mediation-applied")

    resident.goto(resident.url_for(reverse("mediation:my_cases")))
    fits_phone(resident)
    row = resident.locator(f"main a[href='{reverse('mediation:my_case', args=[case.pk])}']")
    assert "楼上漏水" in row.inner_text()
    before = row.locator(".case-state").inner_text()

    # the centre's manager: the desk, the case, the team, both parties' consent, acceptance
    centre = new_phone()
    log_in(centre, mediation_manager.mobile)
    centre.goto(centre.url_for(reverse("mediation:case_new")))
    fits_phone(centre)
    centre.goto(centre.url_for(reverse("mediation:desk")))
    fits_phone(centre)
    screenshot(centre, "mediation-desk")
    centre.locator(f"main a[href='{reverse('mediation:case', args=[case.pk])}']").click()
    centre.wait_for_url(centre.url_for(reverse("mediation:case", args=[case.pk])))
    fits_phone(centre)

    team = centre.locator("#act-add_member")
    team.locator("summary").click()
    team.locator("select[name=user]").select_option(str(mediator_a.pk))
    team.locator("select[name=role]").select_option("mediator")
    team.locator("input[name=lead]").check()
    team.locator("button[type=submit]").click()
    centre.wait_for_load_state()
    assert CaseMember.objects.filter(case=case, user=mediator_a, lead=True, ended_at__isnull=True).exists()

    for party in case.parties.all():
        consent = centre.locator("#act-consent")
        consent.locator("summary").click()
        consent.locator("select[name=party]").select_option(str(party.pk))
        consent.locator("input[name=rights_told]").check()
        consent.locator("input[name=consent][value=given]").check()
        consent.locator("button[type=submit]").click()
        centre.locator(f"#consent-{party.pk}.text-bg-success").wait_for()
    fits_phone(centre)
    centre.locator("#accept-case").click()
    centre.locator("#due").wait_for()
    case.refresh_from_db()
    assert case.state == "accepted"
    fits_phone(centre)
    screenshot(centre, "mediation-case-accepted")

    # the resident sees the change
    resident.goto(resident.url_for(reverse("mediation:my_case", args=[case.pk])))
    fits_phone(resident)
    after = resident.locator("#case-state").inner_text()
    labels = set()
    for language in ("en", "zh-hans"):
        with translation.override(language):
            labels.add(str(CaseState.ACCEPTED.label))
    assert after != before and after in labels
    assert "王五" in resident.locator("main").inner_text()
    screenshot(resident, "mediation-my-case")
    assert resident.console_errors == [] and centre.console_errors == []
