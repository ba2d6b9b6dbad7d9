"""The screening, consultation and task pages on a phone (375×812): staff pages are denser, but a
mediator can still work them on a phone without sideways scrolling: a finding becomes a case from the
session page, a consultation is logged anonymously, a task is marked done."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from linjialin.mediation.models import Case, Consultation, FindingOutcome, PreventionTask, TaskState
from linjialin.mediation.services import screening
from linjialin.tests.browser.conftest import fits_phone, screenshot
from linjialin.tests.browser.test_phone_flows import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_mediator_works_screening_consultations_and_tasks_on_a_phone(phone, tree, mediator_a, lawyer):
    now = timezone.now()
    session = screening.plan_screening(
        mediator_a, place=tree.community_1, planned_for=now - timedelta(hours=3)
    )
    screening.record_screening(
        mediator_a,
        session,
        held_at=now - timedelta(hours=2),
        participants="调解员甲\n楼门长A",
        summary="走访",
    )
    f = screening.add_finding(
        mediator_a,
        session,
        place=tree.entrance_a,
        dispute_type="neighbour",
        level="high",
        description="楼上漏水，两户多次争吵，一方扬言要动手",
        parties="张三、李四",
    )
    screening.plan_screening(
        mediator_a, place=tree.grid_1, planned_for=now + timedelta(days=2), location="网格站"
    )

    page = phone
    log_in(page, mediator_a.mobile)
    page.goto(page.url_for(reverse("mediation:screenings")))
    page.locator("li.session-row").first.wait_for()
    assert page.locator("li.session-row").count() == 2
    fits_phone(page)
    screenshot(page, "mediation-screenings")

    page.locator("li.session-row a", has_text="社区一").click()
    page.locator("li.finding").wait_for()
    fits_phone(page)
    finding = page.locator("li.finding")
    finding.locator("summary").first.click()  # make it a case
    form = finding.locator("form.finding-case-form")
    assert form.locator("input[name$=respondent]").input_value() == "李四"
    assert form.locator("input[name$=risk_flag]").is_checked()
    fits_phone(page)
    screenshot(page, "mediation-screening-session")
    button = form.locator("button[type=submit]")
    assert button.bounding_box()["height"] >= 44
    button.click()
    page.locator("li.finding .finding-outcome").wait_for()
    f.refresh_from_db()
    assert f.outcome == FindingOutcome.CASE
    case = Case.objects.get(finding=f)
    assert case.number in page.locator("li.finding").inner_text()

    page.goto(page.url_for(reverse("mediation:consultations")))
    fits_phone(page)
    form = page.locator("form.consultation-form")
    form.locator("select[name=topic]").select_option("labour")
    form.locator("input[name=anonymous]").check()
    form.locator("textarea[name=question]").fill("单位拖欠工资怎么办")
    form.locator("button[type=submit]").click()
    page.locator("li.consultation").wait_for()
    c = Consultation.objects.get()
    assert c.anonymous and c.asker_name == "" and c.topic == "labour"
    fits_phone(page)
    screenshot(page, "mediation-consultations")

    task = PreventionTask.objects.create(
        kind="talk",
        title="楼道防水宣讲",
        place=tree.entrance_a,
        path=tree.entrance_a.path,
        due_on=timezone.localdate() - timedelta(days=1),
        owner=mediator_a,
        created_by=mediator_a,
        created_at=now,
    )
    page.goto(page.url_for(reverse("mediation:tasks")))
    row = page.locator("li.prevention-task")
    row.wait_for()
    assert row.locator(".badge.text-bg-danger").count() == 1  # overdue
    fits_phone(page)
    screenshot(page, "mediation-tasks")
    row.locator("summary").first.click()
    row.locator("form.task-finish-form textarea").fill("已在楼门开展宣讲")
    row.locator("form.task-finish-form button").click()
    page.locator("li.list-group-item.text-muted").wait_for()  # no open task left
    task.refresh_from_db()
    assert task.state == TaskState.DONE
    assert page.console_errors == []
