"""The screening, consultation and prevention-task pages over HTTP (screening_views.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from linjialin.core.audit import AuditEvent
from linjialin.mediation.models import (
    Case,
    Consultation,
    FindingOutcome,
    PreventionTask,
    ScreeningFinding,
    ScreeningSession,
    ScreeningState,
    TaskState,
)
from linjialin.mediation.services import screening


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):  # reverse() gives /en/… so the pages answer in English
        yield


def ago(**kw):
    return timezone.now() - timedelta(**kw)


def local(dt) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def planned(tree, mediator_a):
    return screening.plan_screening(
        mediator_a, place=tree.community_1, planned_for=ago(hours=3), location="活动室"
    )


@pytest.fixture
def held(planned, mediator_a):
    return screening.record_screening(
        mediator_a, planned, held_at=ago(hours=2), participants="调解员甲", summary="发现隐患"
    )


@pytest.fixture
def found(held, mediator_a, tree):
    return screening.add_finding(
        mediator_a,
        held,
        place=tree.entrance_a,
        dispute_type="neighbour",
        level="high",
        description="楼上漏水，两户多次争吵",
        parties="张三、李四",
    )


def session_url(session) -> str:
    return reverse("mediation:screening", args=[session.pk])


# --- permissions ------------------------------------------------------------------------------------------
def test_anonymous_is_sent_to_login(client, planned):
    for url in (
        reverse("mediation:screenings"),
        session_url(planned),
        reverse("mediation:consultations"),
        reverse("mediation:tasks"),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]


def test_outsiders_get_404_on_a_session_of_another_community(planned, login, outsider, mediator_b):
    for user in (outsider, mediator_b):
        client = login(user)
        assert client.get(session_url(planned)).status_code == 404
        assert client.get(reverse("mediation:screening", args=[999999])).status_code == 404
        response = client.post(reverse("mediation:screening_hold", args=[planned.pk]), {})
        assert response.status_code == 404
    planned.refresh_from_db()
    assert planned.state == ScreeningState.PLANNED


def test_a_resident_gets_403_on_the_lists_and_404_on_a_session(planned, login, resident_a, outsider):
    client = login(resident_a)
    for name in ("mediation:screenings", "mediation:consultations", "mediation:tasks"):
        assert client.get(reverse(name)).status_code == 403
    assert client.get(session_url(planned)).status_code == 404
    # staff without the mediation permissions too
    assert login(outsider).get(reverse("mediation:screenings")).status_code == 403


def test_the_list_shows_sessions_in_scope_with_finding_counts(
    tree, found, planned, mediator_a, mediator_b, login
):
    other = screening.plan_screening(
        mediator_b, place=tree.community_2, planned_for=timezone.now() + timedelta(days=2)
    )
    upcoming = screening.plan_screening(
        mediator_a, place=tree.grid_1, planned_for=timezone.now() + timedelta(days=3)
    )
    response = login(mediator_a).get(reverse("mediation:screenings"))
    assert response.status_code == 200
    assert response.context["upcoming"] == [upcoming]
    past = list(response.context["page"])
    assert past == [planned] and other not in past
    assert (past[0].n_findings, past[0].n_open) == (1, 1)
    body = response.content.decode()
    assert "1 finding" in body and "社区二" not in body


# --- plan, hold, findings ---------------------------------------------------------------------------------
def test_plan_a_session_on_the_page(tree, mediator_a, login):
    client = login(mediator_a)
    when = timezone.now() + timedelta(days=5)
    response = client.post(
        reverse("mediation:screenings"),
        {"place": tree.grid_1.pk, "planned_for": local(when), "location": "网格站"},
    )
    session = ScreeningSession.objects.get()
    assert response.status_code == 302 and response["Location"] == session_url(session)
    assert session.place == tree.grid_1 and session.location == "网格站"
    assert AuditEvent.objects.filter(action="mediation.screening.planned", object_id=str(session.pk)).exists()


def test_planning_with_bad_input_writes_nothing(tree, mediator_a, mediator_b, login):
    client = login(mediator_a)
    response = client.post(reverse("mediation:screenings"), {"place": tree.grid_1.pk, "planned_for": "soon"})
    assert response.status_code == 422
    assert "Enter a date and time" in response.content.decode()
    # a place outside the mediator's scope is not a choice
    response = client.post(
        reverse("mediation:screenings"), {"place": tree.community_2.pk, "planned_for": local(timezone.now())}
    )
    assert response.status_code == 422 and "place" in response.context["form"].errors
    assert not ScreeningSession.objects.exists()


def test_record_as_held_on_the_page(planned, mediator_a, lawyer, login):
    client = login(mediator_a)
    page = client.get(session_url(planned))
    assert page.status_code == 200 and "Record as held" in page.content.decode()
    staff_choices = {u.pk for u in page.context["hold_form"].fields["staff"].queryset}
    assert {mediator_a.pk, lawyer.pk} <= staff_choices
    response = client.post(
        reverse("mediation:screening_hold", args=[planned.pk]),
        {
            "held_at": local(ago(hours=1)),
            "participants": "调解员甲\n居民代表",
            "summary": "无重大隐患",
            "staff": [mediator_a.pk, lawyer.pk],
        },
    )
    assert response.status_code == 302
    planned.refresh_from_db()
    assert planned.state == ScreeningState.HELD and set(planned.staff.all()) == {mediator_a, lawyer}
    assert AuditEvent.objects.filter(action="mediation.screening.held").count() == 1
    # the same again: a clear message, nothing changes
    again = client.post(
        reverse("mediation:screening_hold", args=[planned.pk]),
        {"held_at": local(ago(hours=1)), "participants": "x", "summary": "y"},
        follow=True,
    )
    assert "not possible" in again.content.decode()
    assert AuditEvent.objects.filter(action="mediation.screening.held").count() == 1


def test_held_at_in_the_future_is_refused_on_the_page(planned, mediator_a, login):
    response = login(mediator_a).post(
        reverse("mediation:screening_hold", args=[planned.pk]),
        {"held_at": local(timezone.now() + timedelta(days=1)), "participants": "x", "summary": "y"},
    )
    assert response.status_code == 422
    assert "This cannot be in the future." in response.content.decode()
    assert response.context["hold_form"].errors["held_at"]
    planned.refresh_from_db()
    assert planned.state == ScreeningState.PLANNED
    assert not AuditEvent.objects.filter(action="mediation.screening.held").exists()


def test_cancel_on_the_page(planned, mediator_a, login):
    client = login(mediator_a)
    assert (
        client.post(reverse("mediation:screening_cancel", args=[planned.pk]), {"reason": ""}).status_code
        == 422
    )
    response = client.post(reverse("mediation:screening_cancel", args=[planned.pk]), {"reason": "下雨改期"})
    assert response.status_code == 302
    planned.refresh_from_db()
    assert planned.state == ScreeningState.CANCELLED and planned.summary == "下雨改期"


def test_add_a_finding_on_the_page(tree, held, mediator_a, login):
    client = login(mediator_a)
    response = client.post(
        reverse("mediation:finding_add", args=[held.pk]),
        {
            "place": tree.entrance_b.pk,
            "dispute_type": "property_mgmt",
            "level": "medium",
            "description": "物业费纠纷",
            "parties": "王五",
        },
    )
    assert response.status_code == 302
    f = ScreeningFinding.objects.get()
    assert (f.place, f.dispute_type, f.level, f.parties) == (
        tree.entrance_b,
        "property_mgmt",
        "medium",
        "王五",
    )
    assert AuditEvent.objects.filter(action="mediation.finding.added", object_id=str(f.pk)).exists()
    bad = client.post(
        reverse("mediation:finding_add", args=[held.pk]),
        {"place": tree.entrance_b.pk, "dispute_type": "property_mgmt", "level": "medium", "description": ""},
    )
    assert bad.status_code == 422 and bad.context["finding_form"].errors["description"]
    assert ScreeningFinding.objects.count() == 1


def test_a_planned_session_refuses_findings_on_the_page(tree, planned, mediator_a, login):
    response = login(mediator_a).post(
        reverse("mediation:finding_add", args=[planned.pk]),
        {"place": tree.entrance_a.pk, "dispute_type": "neighbour", "level": "low", "description": "x"},
        follow=True,
    )
    assert "once it has been held" in response.content.decode()
    assert not ScreeningFinding.objects.exists()


def test_the_session_page_offers_the_three_ways_prefilled(found, mediator_a, login):
    response = login(mediator_a).get(session_url(found.session))
    assert response.status_code == 200
    f = response.context["findings"][0]
    assert f.case_form.initial["applicant"] == "张三" and f.case_form.initial["respondent"] == "李四"
    assert f.case_form.initial["risk_flag"] is True and f.case_form.initial["place"] == found.place_id
    body = response.content.decode()
    for label in ("Make it a case", "Make it a prevention task", "Close with a note"):
        assert label in body


def test_finding_to_case_on_the_page(tree, found, mediator_a, login):
    client = login(mediator_a)
    key = f"case-{found.pk}"
    data = {
        f"{key}-title": "楼上漏水纠纷",
        f"{key}-dispute_type": "neighbour",
        f"{key}-place": tree.entrance_a.pk,
        f"{key}-facts": "楼上漏水，两户多次争吵",
        f"{key}-applicant": "张三",
        f"{key}-applicant_mobile": "13800000001",
        f"{key}-respondent": "",
        f"{key}-risk_flag": "on",
    }
    url = reverse("mediation:finding_case", args=[found.session_id, found.pk])
    bad = client.post(url, data)
    assert bad.status_code == 422
    assert bad.context["findings"][0].case_form.errors["respondent"]
    assert not Case.objects.exists()
    response = client.post(url, {**data, f"{key}-respondent": "李四"})
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.source == "screening" and case.finding == found and case.risk_flag
    assert sorted(case.parties.values_list("name", flat=True)) == ["张三", "李四"]
    found.refresh_from_db()
    assert found.outcome == FindingOutcome.CASE
    assert AuditEvent.objects.filter(action="mediation.finding.to_case", object_id=str(found.pk)).exists()
    page = client.get(session_url(found.session)).content.decode()
    assert case.number in page and reverse("mediation:case", args=[case.pk]) in page


def test_finding_to_task_on_the_page(found, mediator_a, login):
    client = login(mediator_a)
    key = f"task-{found.pk}"
    url = reverse("mediation:finding_task", args=[found.session_id, found.pk])
    data = {
        f"{key}-kind": "talk",
        f"{key}-title": "楼道漏水宣讲",
        f"{key}-due_on": "2020-01-01",
        f"{key}-owner": mediator_a.pk,
    }
    bad = client.post(url, data)
    assert bad.status_code == 422 and bad.context["findings"][0].task_form.errors["due_on"]
    assert not PreventionTask.objects.exists()
    due = timezone.localdate() + timedelta(days=10)
    assert client.post(url, {**data, f"{key}-due_on": due.isoformat()}).status_code == 302
    task = PreventionTask.objects.get()
    assert (task.finding, task.kind, task.due_on, task.owner) == (found, "talk", due, mediator_a)
    found.refresh_from_db()
    assert found.outcome == FindingOutcome.TASK


def test_close_a_finding_on_the_page_and_not_twice(found, mediator_a, mediation_manager, login):
    client = login(mediator_a)
    key = f"close-{found.pk}"
    url = reverse("mediation:finding_close", args=[found.session_id, found.pk])
    bad = client.post(url, {f"{key}-note": ""})
    assert bad.status_code == 422 and bad.context["findings"][0].open_form == "close"
    found.refresh_from_db()
    assert found.outcome == FindingOutcome.OPEN
    assert client.post(url, {f"{key}-note": "双方已和解"}).status_code == 302
    found.refresh_from_db()
    assert found.outcome == FindingOutcome.CLOSED
    again = login(mediation_manager).post(url, {f"{key}-note": "我也关"}, follow=True)
    assert "already been handled" in again.content.decode()
    found.refresh_from_db()
    assert found.outcome_note == "双方已和解"
    assert AuditEvent.objects.filter(action="mediation.finding.closed").count() == 1


# --- consultations ----------------------------------------------------------------------------------------
def test_log_a_consultation_quickly(tree, lawyer, login):
    client = login(lawyer)
    page = client.get(reverse("mediation:consultations"))
    assert page.status_code == 200 and page.context["me_lawyer"]
    response = client.post(
        reverse("mediation:consultations"),
        {
            "topic": "labour",
            "anonymous": "on",
            "asker_name": "赵六",
            "question": "拖欠工资",
            "answer": "可申请仲裁",
            "referral": "劳动仲裁委",
            "place": tree.community_2.pk,
            "asked_at": local(ago(minutes=3)),
        },
    )
    assert response.status_code == 302
    c = Consultation.objects.get()
    assert c.anonymous and c.asker_name == "" and c.resident is None and c.lawyer == lawyer
    assert AuditEvent.objects.filter(action="mediation.consultation.logged", object_id=str(c.pk)).exists()
    # the next log starts at the same community
    assert (
        client.get(reverse("mediation:consultations")).context["form"].initial["place"] == tree.community_2.pk
    )


def test_a_bad_consultation_writes_nothing(tree, mediator_a, login):
    client = login(mediator_a)
    response = client.post(
        reverse("mediation:consultations"),
        {
            "topic": "labour",
            "asker_name": "",
            "place": tree.community_1.pk,
            "asked_at": local(timezone.now() + timedelta(days=2)),
        },
    )
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert "asked_at" in errors and "asker_name" in errors
    assert "Give the name of who asked, or tick anonymous." in response.content.decode()
    assert not Consultation.objects.exists()


def test_the_consultation_list_filters_by_month_and_topic(tree, lawyer, mediator_a, login):
    now = timezone.localtime()
    last_month = (now.replace(day=1) - timedelta(days=2)).replace(hour=9)
    for at, topic in [
        (now - timedelta(hours=1), "labour"),
        (now - timedelta(hours=2), "housing"),
        (last_month, "labour"),
    ]:
        screening.log_consultation(
            lawyer, place=tree.community_1, asked_at=at, topic=topic, asker_name="张三"
        )
    screening.log_consultation(
        lawyer, place=tree.community_2, asked_at=now, topic="labour", asker_name="赵六"
    )
    client = login(mediator_a)
    everything = client.get(reverse("mediation:consultations"))
    assert everything.context["counts"]["total"] == 3 and "赵六" not in everything.content.decode()
    month = client.get(
        reverse("mediation:consultations"), {"month": now.strftime("%Y-%m"), "topic": "labour"}
    )
    assert month.status_code == 200 and len(month.context["page"].object_list) == 1
    assert month.context["counts"]["total"] == 1
    assert "1 consultation" in month.content.decode()


# --- prevention tasks -------------------------------------------------------------------------------------
def make_task(tree, user, *, place=None, due_in=5, title="楼道宣讲"):
    return PreventionTask.objects.create(
        kind="talk",
        title=title,
        place=place or tree.entrance_a,
        path=(place or tree.entrance_a).path,
        due_on=timezone.localdate() + timedelta(days=due_in),
        created_by=user,
        created_at=timezone.now(),
        owner=user,
    )


def test_the_task_list_shows_open_tasks_in_scope_with_overdue_flags(tree, mediator_a, mediator_b, login):
    late = make_task(tree, mediator_a, due_in=-2, title="逾期的任务")
    soon = make_task(tree, mediator_a, due_in=1)
    make_task(tree, mediator_b, place=tree.entrance_x, title="社区二任务")
    done = make_task(tree, mediator_a)
    PreventionTask.objects.filter(pk=done.pk).update(state=TaskState.DONE)
    response = login(mediator_a).get(reverse("mediation:tasks"))
    assert response.status_code == 200
    tasks = response.context["tasks"]
    assert [t.pk for t in tasks] == [late.pk, soon.pk]
    assert tasks[0].overdue and not tasks[1].overdue and tasks[1].due_soon
    body = response.content.decode()
    assert "1 overdue" in body and "社区二任务" not in body


def test_finish_and_cancel_a_task_on_the_page(tree, mediator_a, login):
    a, b = make_task(tree, mediator_a), make_task(tree, mediator_a, title="第二个")
    client = login(mediator_a)
    bad = client.post(reverse("mediation:task_finish", args=[a.pk]), {f"finish-{a.pk}-note": ""})
    assert bad.status_code == 422
    a.refresh_from_db()
    assert a.state == TaskState.OPEN
    assert (
        client.post(
            reverse("mediation:task_finish", args=[a.pk]), {f"finish-{a.pk}-note": "已开展宣讲"}
        ).status_code
        == 302
    )
    assert (
        client.post(
            reverse("mediation:task_cancel", args=[b.pk]), {f"cancel-{b.pk}-reason": "重复"}
        ).status_code
        == 302
    )
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.state, a.done_note, b.state, b.done_note) == (
        TaskState.DONE,
        "已开展宣讲",
        TaskState.CANCELLED,
        "重复",
    )
    assert (
        AuditEvent.objects.filter(action__in=["mediation.task.finished", "mediation.task.cancelled"]).count()
        == 2
    )


def test_a_task_of_another_community_is_404(tree, mediator_b, login, mediator_a):
    task = make_task(tree, mediator_b, place=tree.entrance_x)
    response = login(mediator_a).post(
        reverse("mediation:task_finish", args=[task.pk]), {f"finish-{task.pk}-note": "x"}
    )
    assert response.status_code == 404
    task.refresh_from_db()
    assert task.state == TaskState.OPEN


# --- query counts -----------------------------------------------------------------------------------------
def _many(tree, mediator_a, lawyer, n):
    for i in range(n):
        s = screening.plan_screening(mediator_a, place=tree.community_1, planned_for=ago(days=i + 1))
        screening.record_screening(mediator_a, s, held_at=ago(days=i + 1), participants="x", summary="y")
        screening.add_finding(
            mediator_a, s, place=tree.entrance_a, dispute_type="other", level="low", description="z"
        )
        screening.plan_screening(
            mediator_a, place=tree.grid_1, planned_for=timezone.now() + timedelta(days=i + 1)
        )
        screening.log_consultation(
            lawyer, place=tree.community_1, asked_at=ago(hours=i + 1), topic="labour", asker_name="张三"
        )
        make_task(tree, mediator_a, due_in=i - 1)


def count_queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # the first request of a client also saves its session
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx)


@pytest.mark.parametrize("name", ["mediation:screenings", "mediation:consultations", "mediation:tasks"])
def test_list_pages_take_a_capped_number_of_queries(name, tree, mediator_a, lawyer, login):
    client = login(mediator_a)
    _many(tree, mediator_a, lawyer, 2)
    few = count_queries(client, reverse(name))
    _many(tree, mediator_a, lawyer, 8)
    many = count_queries(client, reverse(name))
    assert many == few and many <= 16


def test_the_session_page_takes_a_capped_number_of_queries(tree, held, mediator_a, login):
    def add(n):
        for i in range(n):
            screening.add_finding(
                mediator_a,
                held,
                place=tree.entrance_a,
                dispute_type="other",
                level="low",
                description=f"z{i}",
            )

    client = login(mediator_a)
    add(1)
    few = count_queries(client, session_url(held))
    add(6)
    many = count_queries(client, session_url(held))
    assert many == few and many <= 18
