"""Screening (前端预防) and legal consultations: the services (services/screening.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone, translation

from linjialin.core.audit import AuditEvent
from linjialin.core.errors import Conflict
from linjialin.core.workflow import TransitionNotAllowed
from linjialin.mediation.models import (
    Case,
    Consultation,
    FindingOutcome,
    PreventionTask,
    ScreeningFinding,
    ScreeningSession,
    ScreeningState,
    Source,
)
from linjialin.mediation.services import screening
from linjialin.testing.concurrency import at_once, outcomes, winner


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def ago(**kw):
    return timezone.now() - timedelta(**kw)


def actions(*names) -> list[str]:
    return list(AuditEvent.objects.filter(action__in=names).order_by("seq").values_list("action", flat=True))


@pytest.fixture
def planned(tree, mediator_a):
    return screening.plan_screening(mediator_a, place=tree.grid_1, planned_for=ago(days=1), location="活动室")


@pytest.fixture
def held(planned, mediator_a):
    return screening.record_screening(
        mediator_a,
        planned,
        held_at=ago(hours=20),
        participants="调解员甲\n楼门长A",
        summary="走访两栋楼，发现三处隐患",
        staff=[mediator_a],
    )


def finding(session, actor, tree, **kw):
    values = {
        "place": tree.entrance_a,
        "dispute_type": "neighbour",
        "level": "medium",
        "description": "楼上漏水，两户多次争吵",
        "parties": "张三、李四",
    }
    return screening.add_finding(actor, session, **{**values, **kw})


# --- sessions ---------------------------------------------------------------------------------------------
def test_plan_then_record_as_held_is_audited(tree, planned, mediator_a, lawyer):
    assert planned.state == ScreeningState.PLANNED and planned.path == tree.grid_1.path
    assert planned.organiser == mediator_a
    session = screening.record_screening(
        mediator_a,
        planned,
        held_at=ago(hours=2),
        participants="调解员甲",
        summary="无重大隐患",
        staff=[mediator_a, lawyer],
    )
    session.refresh_from_db()
    assert session.state == ScreeningState.HELD and session.held_at is not None
    assert set(session.staff.all()) == {mediator_a, lawyer}
    assert actions("mediation.screening.planned", "mediation.screening.held") == [
        "mediation.screening.planned",
        "mediation.screening.held",
    ]
    event = AuditEvent.objects.get(action="mediation.screening.held")
    assert event.actor == mediator_a and event.object_id == str(session.pk) and event.path == tree.grid_1.path
    assert event.after["state"] == "held"


def test_a_session_is_for_a_community_or_a_grid(tree, mediator_a):
    with pytest.raises(ValidationError) as err:
        screening.plan_screening(mediator_a, place=tree.entrance_a, planned_for=timezone.now())
    assert "place" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        screening.plan_screening(mediator_a, place=tree.community_1, planned_for=None)
    assert "planned_for" in err.value.message_dict
    assert not ScreeningSession.objects.exists() and not actions("mediation.screening.planned")


def test_held_at_in_the_future_or_nothing_said_writes_nothing(planned, mediator_a):
    with pytest.raises(ValidationError) as err:
        screening.record_screening(
            mediator_a, planned, held_at=timezone.now() + timedelta(hours=3), participants="", summary=""
        )
    assert {"held_at", "participants", "summary"} <= set(err.value.message_dict)
    assert "future" in err.value.message_dict["held_at"][0]
    planned.refresh_from_db()
    assert planned.state == ScreeningState.PLANNED and planned.held_at is None and planned.summary == ""
    assert not actions("mediation.screening.held")


def test_staff_must_work_at_the_place(planned, mediator_a, mediator_b):
    with pytest.raises(ValidationError) as err:
        screening.record_screening(
            mediator_a, planned, held_at=ago(hours=1), participants="x", summary="y", staff=[mediator_b]
        )
    assert "staff" in err.value.message_dict
    planned.refresh_from_db()
    assert planned.state == ScreeningState.PLANNED


def test_cancel_needs_a_reason_and_only_planned_sessions_move(planned, held, mediator_a, tree):
    other = screening.plan_screening(mediator_a, place=tree.community_1, planned_for=timezone.now())
    with pytest.raises(ValidationError) as err:
        screening.cancel_screening(mediator_a, other, reason="  ")
    assert "reason" in err.value.message_dict
    other.refresh_from_db()
    assert other.state == ScreeningState.PLANNED
    screening.cancel_screening(mediator_a, other, reason="下雨改期")
    other.refresh_from_db()
    assert other.state == ScreeningState.CANCELLED
    assert AuditEvent.objects.get(action="mediation.screening.cancelled").reason == "下雨改期"
    with pytest.raises(TransitionNotAllowed):
        screening.record_screening(mediator_a, other, held_at=ago(hours=1), participants="x", summary="y")
    with pytest.raises(TransitionNotAllowed):
        screening.cancel_screening(mediator_a, held, reason="x")
    with pytest.raises(TransitionNotAllowed):
        screening.record_screening(mediator_a, held, held_at=ago(hours=1), participants="x", summary="y")


def test_recording_a_stale_copy_of_a_session_conflicts(planned, mediator_a, mediation_manager):
    stale = ScreeningSession.objects.get(pk=planned.pk)
    screening.cancel_screening(mediation_manager, planned, reason="改期")
    with pytest.raises(Conflict):
        screening.record_screening(mediator_a, stale, held_at=ago(hours=1), participants="x", summary="y")
    assert ScreeningSession.objects.get(pk=planned.pk).state == ScreeningState.CANCELLED
    assert not actions("mediation.screening.held")


# --- permissions ------------------------------------------------------------------------------------------
def test_who_may_plan_and_see_sessions(tree, planned, mediator_a, mediator_b, outsider, resident_a, lawyer):
    for user in (mediator_b, outsider, resident_a):
        with pytest.raises(PermissionDenied):
            screening.plan_screening(user, place=tree.community_1, planned_for=timezone.now())
        with pytest.raises(Http404):
            screening.get_session_for_user(user, planned.pk)
        assert not screening.list_sessions_for_user(user).exists()
    with pytest.raises(PermissionDenied):
        screening.record_screening(mediator_b, planned, held_at=ago(hours=1), participants="x", summary="y")
    # the lawyer and the manager at the subdistrict work everywhere under it
    assert screening.get_session_for_user(lawyer, planned.pk) == planned
    own = screening.plan_screening(mediator_b, place=tree.community_2, planned_for=timezone.now())
    assert list(screening.list_sessions_for_user(mediator_a)) == [planned]
    assert set(screening.list_sessions_for_user(lawyer)) == {planned, own}


def test_outsiders_may_not_add_or_handle_findings(tree, held, mediator_a, mediator_b, outsider):
    f = finding(held, mediator_a, tree)
    for user in (mediator_b, outsider):
        with pytest.raises(PermissionDenied):
            finding(held, user, tree)
        with pytest.raises(PermissionDenied):
            screening.close_finding(user, f, note="x")
    f.refresh_from_db()
    assert f.outcome == FindingOutcome.OPEN and ScreeningFinding.objects.count() == 1


# --- findings ---------------------------------------------------------------------------------------------
def test_findings_are_refused_on_a_planned_or_cancelled_session(tree, planned, mediator_a):
    with pytest.raises(ValidationError, match="held"):
        finding(planned, mediator_a, tree)
    screening.cancel_screening(mediator_a, planned, reason="改期")
    with pytest.raises(ValidationError):
        finding(planned, mediator_a, tree)
    assert not ScreeningFinding.objects.exists() and not actions("mediation.finding.added")


def test_a_finding_needs_type_level_description_and_a_place_in_the_session(tree, held, mediator_a):
    with pytest.raises(ValidationError) as err:
        finding(
            held, mediator_a, tree, place=tree.entrance_x, dispute_type="x", level="extreme", description=" "
        )
    assert {"place", "dispute_type", "level", "description"} <= set(err.value.message_dict)
    assert not ScreeningFinding.objects.exists()


def test_add_finding_is_audited(tree, held, mediator_a):
    f = finding(held, mediator_a, tree, level="high")
    assert f.outcome == FindingOutcome.OPEN and f.path == tree.entrance_a.path and f.parties == "张三、李四"
    event = AuditEvent.objects.get(action="mediation.finding.added")
    assert (
        event.object_id == str(f.pk) and event.after["session"] == held.pk and event.after["level"] == "high"
    )


def test_close_with_a_note_and_never_again(tree, held, mediator_a):
    f = finding(held, mediator_a, tree)
    with pytest.raises(ValidationError) as err:
        screening.close_finding(mediator_a, f, note="   ")
    assert "note" in err.value.message_dict
    f.refresh_from_db()
    assert f.outcome == FindingOutcome.OPEN and not actions("mediation.finding.closed")
    screening.close_finding(mediator_a, f, note="双方已自行和解")
    f.refresh_from_db()
    assert f.outcome == FindingOutcome.CLOSED and f.outcome_note == "双方已自行和解"
    assert f.handled_by == mediator_a and f.handled_at is not None
    assert AuditEvent.objects.get(action="mediation.finding.closed").reason == "双方已自行和解"
    with pytest.raises(Conflict, match="already been handled"):
        screening.close_finding(mediator_a, f, note="again")
    with pytest.raises(Conflict):
        screening.finding_to_task(mediator_a, f, kind="talk", title="x", due_on=timezone.localdate())
    with pytest.raises(Conflict):
        screening.finding_to_case(mediator_a, f, title="x", facts="y", parties=[])
    assert not PreventionTask.objects.exists() and not Case.objects.exists()
    assert actions("mediation.finding.closed") == ["mediation.finding.closed"]


def test_a_stale_copy_loses_the_compare_and_set(tree, held, mediator_a, mediation_manager):
    f = finding(held, mediator_a, tree)
    stale = ScreeningFinding.objects.get(pk=f.pk)  # a second person loaded the page before
    screening.close_finding(mediation_manager, f, note="已化解")
    with pytest.raises(Conflict, match="closed with a note"):
        screening.close_finding(mediator_a, stale, note="我也关")
    f.refresh_from_db()
    assert f.outcome_note == "已化解" and f.handled_by == mediation_manager


def party(side, name):
    return {
        "side": side,
        "kind": "person",
        "name": name,
        "mobile": "",
        "id_number": "",
        "address": "",
        "representative": "",
        "representative_mobile": "",
        "resident": None,
        "user": None,
    }


def test_plan_held_findings_and_the_three_outcomes(tree, held, mediator_a, lawyer):
    to_case = finding(held, mediator_a, tree, level="high", dispute_type="property_mgmt")
    to_task = finding(held, mediator_a, tree, description="楼道堆物，邻里有怨言")
    to_close = finding(held, mediator_a, tree, description="噪音投诉，已解决")

    case = screening.finding_to_case(
        mediator_a,
        to_case,
        title="楼上漏水纠纷",
        facts="楼上漏水，两户多次争吵",
        parties=[party("applicant", "张三"), party("respondent", "李四")],
    )
    assert case.source == Source.SCREENING and case.finding_id == to_case.pk
    assert case.dispute_type == "property_mgmt" and case.place == tree.entrance_a and case.risk_flag
    assert sorted(case.parties.values_list("name", flat=True)) == ["张三", "李四"]

    task = screening.finding_to_task(
        mediator_a,
        to_task,
        kind="talk",
        title="楼道堆物宣传",
        due_on=timezone.localdate() + timedelta(days=7),
        owner=lawyer,
    )
    assert task.finding_id == to_task.pk and task.place == tree.entrance_a and task.owner == lawyer

    screening.close_finding(mediator_a, to_close, note="已解决")

    outcomes = dict(ScreeningFinding.objects.values_list("pk", "outcome"))
    assert outcomes == {to_case.pk: "case", to_task.pk: "task", to_close.pk: "closed"}
    assert list(to_case.cases.all()) == [case] and list(to_task.tasks.all()) == [task]
    assert AuditEvent.objects.get(action="mediation.finding.to_case").after["case"] == case.pk
    assert AuditEvent.objects.get(action="mediation.finding.to_task").after["task"] == task.pk
    # each once only
    with pytest.raises(Conflict):
        screening.finding_to_task(mediator_a, to_case, kind="talk", title="x", due_on=timezone.localdate())
    with pytest.raises(Conflict):
        screening.finding_to_case(mediator_a, to_task, title="x", facts="y", parties=[])
    assert Case.objects.count() == 1 and PreventionTask.objects.count() == 1
    row = screening.list_sessions_for_user(mediator_a).get(pk=held.pk)
    assert (row.n_findings, row.n_open, row.n_case, row.n_task, row.n_closed) == (3, 0, 1, 1, 1)


def test_a_case_refused_by_the_case_rules_leaves_the_finding_open(tree, held, mediator_a):
    f = finding(held, mediator_a, tree)
    with pytest.raises(ValidationError):
        screening.finding_to_case(mediator_a, f, title="", facts="", parties=[])
    f.refresh_from_db()
    assert f.outcome == FindingOutcome.OPEN and f.handled_at is None
    assert not Case.objects.exists() and not actions("mediation.finding.to_case")


def test_a_task_refused_by_the_task_rules_leaves_the_finding_open(tree, held, mediator_a):
    f = finding(held, mediator_a, tree)
    with pytest.raises(ValidationError):
        screening.finding_to_task(mediator_a, f, kind="talk", title="", due_on=None)
    f.refresh_from_db()
    assert f.outcome == FindingOutcome.OPEN
    assert not PreventionTask.objects.exists() and not actions("mediation.finding.to_task")


@pytest.mark.django_db(transaction=True)
def test_two_people_handle_the_same_finding_at_once_one_wins(tree, mediator_a, mediation_manager):
    session = screening.plan_screening(mediator_a, place=tree.community_1, planned_for=ago(days=1))
    screening.record_screening(mediator_a, session, held_at=ago(hours=1), participants="x", summary="y")
    f = finding(session, mediator_a, tree)
    one, two = ScreeningFinding.objects.get(pk=f.pk), ScreeningFinding.objects.get(pk=f.pk)  # both open
    results = at_once(
        lambda: screening.close_finding(mediator_a, one, note="one"),
        lambda: screening.close_finding(mediation_manager, two, note="two"),
    )
    assert outcomes(results) == ["Conflict", "ok"]
    f.refresh_from_db()
    assert f.outcome == FindingOutcome.CLOSED and f.outcome_note == winner(results, ["one", "two"])
    assert AuditEvent.objects.filter(action="mediation.finding.closed").count() == 1


# --- consultations ----------------------------------------------------------------------------------------
def test_a_lawyer_logs_a_consultation_and_is_its_lawyer(tree, lawyer):
    c = screening.log_consultation(
        lawyer,
        place=tree.community_2,
        asked_at=ago(minutes=5),
        topic="labour",
        asker_name="赵六",
        question="单位拖欠工资怎么办",
        answer="可申请劳动仲裁",
        referral="区劳动仲裁委",
    )
    assert c.lawyer == lawyer and c.recorded_by == lawyer and c.path == tree.community_2.path
    event = AuditEvent.objects.get(action="mediation.consultation.logged")
    assert (
        event.object_id == str(c.pk)
        and event.after["topic"] == "labour"
        and event.after["lawyer"] == lawyer.pk
    )
    assert "赵六" not in str(event.after)


def test_a_mediator_names_the_lawyer_or_none(tree, mediator_a, lawyer, mediator_b):
    c = screening.log_consultation(
        mediator_a, place=tree.community_1, asked_at=ago(hours=1), topic="contract", asker_name="张三"
    )
    assert c.lawyer is None  # a mediator is not a lawyer
    c = screening.log_consultation(
        mediator_a,
        place=tree.community_1,
        asked_at=ago(hours=1),
        topic="contract",
        asker_name="张三",
        lawyer=lawyer,
    )
    assert c.lawyer == lawyer
    with pytest.raises(ValidationError) as err:
        screening.log_consultation(
            mediator_a,
            place=tree.community_1,
            asked_at=ago(hours=1),
            topic="contract",
            asker_name="张三",
            lawyer=mediator_b,
        )
    assert "lawyer" in err.value.message_dict


def test_an_anonymous_consultation_keeps_no_name_and_no_resident(tree, lawyer):
    c = screening.log_consultation(
        lawyer,
        place=tree.community_1,
        asked_at=ago(minutes=1),
        topic="marriage_family",
        anonymous=True,
        asker_name="张三",
        resident=tree.resident_a1,
        question="离婚财产怎么分",
    )
    c.refresh_from_db()
    assert c.anonymous and c.asker_name == "" and c.resident is None
    assert not Consultation.objects.filter(asker_name="张三").exists()
    assert AuditEvent.objects.get(action="mediation.consultation.logged").after["anonymous"] is True


def test_a_named_resident_must_live_at_the_place(tree, lawyer):
    with pytest.raises(ValidationError) as err:
        screening.log_consultation(
            lawyer,
            place=tree.community_2,
            asked_at=ago(minutes=1),
            topic="housing",
            resident=tree.resident_a1,
        )
    assert "resident" in err.value.message_dict
    c = screening.log_consultation(
        lawyer, place=tree.community_1, asked_at=ago(minutes=1), topic="housing", resident=tree.resident_a1
    )
    assert c.resident == tree.resident_a1


def test_bad_consultation_input_writes_nothing(tree, lawyer):
    with pytest.raises(ValidationError) as err:
        screening.log_consultation(
            lawyer, place=tree.subdistrict, asked_at=timezone.now() + timedelta(days=1), topic="nonsense"
        )
    assert {"place", "asked_at", "topic", "asker_name"} <= set(err.value.message_dict)
    assert not Consultation.objects.exists() and not actions("mediation.consultation.logged")


def test_who_may_log_consultations(tree, mediator_a, outsider, resident_a):
    for user in (mediator_a, outsider, resident_a):
        with pytest.raises(PermissionDenied):
            screening.log_consultation(
                user, place=tree.community_2, asked_at=ago(minutes=1), topic="other", anonymous=True
            )
    assert not Consultation.objects.exists()


def test_consultations_are_listed_in_scope_by_month_and_topic(tree, mediator_a, mediator_b, lawyer):
    now = timezone.localtime()
    last_month = (now.replace(day=1) - timedelta(days=1)).replace(hour=10)
    for place, at, topic in [
        (tree.community_1, now - timedelta(minutes=5), "labour"),
        (tree.community_1, now - timedelta(minutes=4), "labour"),
        (tree.grid_1, now - timedelta(minutes=3), "housing"),
        (tree.community_1, last_month, "labour"),
        (tree.community_2, now - timedelta(minutes=2), "labour"),
    ]:
        screening.log_consultation(
            lawyer, place=place, asked_at=at, topic=topic, anonymous=True, referral="法院"
        )
    assert screening.list_consultations_for_user(mediator_a).count() == 4
    assert screening.list_consultations_for_user(mediator_b).count() == 1
    month = screening.list_consultations_for_user(mediator_a, month=now.date())
    assert month.count() == 3
    counts = screening.consultation_counts(
        screening.list_consultations_for_user(mediator_a, month=now.date(), topic="labour")
    )
    assert counts["total"] == 2 and counts["anonymous"] == 2 and counts["referred"] == 2
    assert [n for _label, n in counts["by_topic"]] == [2]


def test_audit_labels_name_every_action(tree, held, mediator_a):
    from linjialin.core import audit_labels

    for action in screening.AUDIT_LABELS:
        assert audit_labels.label(action) != action
    finding(held, mediator_a, tree)
    written = set(AuditEvent.objects.filter(action__startswith="mediation.").values_list("action", flat=True))
    assert written <= set(screening.AUDIT_LABELS)
