"""The sweep (overdue cases and follow-ups, told once each) and two people acting on a case at once."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest
import time_machine
from django.utils import timezone

from linjialin.core import beat
from linjialin.core.errors import Conflict
from linjialin.core.models import AuditEvent
from linjialin.mediation.models import Case, CaseEvent, CaseParty, CaseState, FollowUp
from linjialin.mediation.services import cases
from linjialin.notifications.models import Notification
from linjialin.testing.concurrency import at_once, outcomes
from linjialin.testing.plugin import make_user

from .test_cases_fixtures import (  # noqa: F401  (fixtures)
    _english,
    accept,
    accepted_fixture,
    agree,
    case_fixture,
    consent_all,
    register,
)


def test_the_sweep_is_registered_every_15_minutes():
    job = beat.JOBS["mediation_sweep"]
    assert job.cron == "*/15 * * * *" and job.task.name.endswith("sweep_mediation")


def test_an_overdue_case_is_told_once(accepted, mediator_a, mediation_manager, lawyer):
    cases.add_member(mediator_a, accepted, user=lawyer, role="lawyer")
    assert cases.sweep() == {"cases_overdue": 0, "followups_overdue": 0}
    # the day after the limit (one calendar month from acceptance, off a rest day)
    past_due = (accepted.due_on - timezone.localdate()).days + 1
    with time_machine.travel(timezone.now() + timedelta(days=past_due), tick=False):
        assert cases.sweep() == {"cases_overdue": 1, "followups_overdue": 0}
        assert cases.sweep() == {"cases_overdue": 0, "followups_overdue": 0}
    told = Notification.objects.filter(kind="mediation.case.overdue")
    assert sorted(told.values_list("user_id", flat=True)) == sorted([mediator_a.pk, mediation_manager.pk])
    assert CaseEvent.objects.filter(case=accepted, kind="overdue").count() == 1
    assert AuditEvent.objects.filter(action="mediation.case.overdue", object_id=str(accepted.pk)).count() == 1
    # extended: a new limit, overdue again later → told again, once
    cases.extend_case(mediator_a, accepted, days=10, reason="鉴定", consent_note="双方同意")
    past_due = (accepted.due_on - timezone.localdate()).days + 1
    with time_machine.travel(timezone.now() + timedelta(days=past_due), tick=False):
        cases.sweep()
        cases.sweep()
    assert CaseEvent.objects.filter(case=accepted, kind="overdue").count() == 2
    assert Notification.objects.filter(kind="mediation.case.overdue", user=mediator_a).count() == 2


def test_an_overdue_followup_is_flagged_once(accepted, mediator_a, mediation_manager):
    agree(mediator_a, accepted)
    first, second, _third = FollowUp.objects.filter(case=accepted)
    with time_machine.travel(timezone.now() + timedelta(days=10), tick=False):  # day 7 + 3 grace days
        assert cases.sweep()["followups_overdue"] == 0
    with time_machine.travel(timezone.now() + timedelta(days=11), tick=False):
        assert cases.sweep()["followups_overdue"] == 1
        assert cases.sweep()["followups_overdue"] == 0
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.overdue_flagged and not second.overdue_flagged
    assert Notification.objects.filter(kind="mediation.followup.overdue", user=mediation_manager).count() == 1
    assert CaseEvent.objects.filter(case=accepted, kind="followup_overdue").count() == 1
    # a recorded follow-up is never flagged
    cases.record_followup(mediator_a, second, performance="performed", note="已履行")
    with time_machine.travel(timezone.now() + timedelta(days=60), tick=False):
        assert cases.sweep()["followups_overdue"] == 0


def test_the_nothing_due_sweep_is_a_few_queries(accepted, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        cases.sweep()


# --- two people at once -------------------------------------------------------------------------------------
def test_two_people_accepting_at_once_one_gets_conflict(case, mediator_a, mediation_manager):
    consent_all(mediator_a, case)
    first, second = Case.objects.get(pk=case.pk), Case.objects.get(pk=case.pk)
    cases.accept_case(mediator_a, first)
    with pytest.raises(Conflict, match="acted first"):
        cases.accept_case(mediation_manager, second)
    assert CaseEvent.objects.filter(case=case, kind="accepted").count() == 1
    assert AuditEvent.objects.filter(action="mediation.case.accepted").count() == 1


def test_two_people_closing_at_once_one_gets_conflict(accepted, mediator_a, mediation_manager):
    agree(mediator_a, accepted)
    first, second = Case.objects.get(pk=accepted.pk), Case.objects.get(pk=accepted.pk)
    cases.close_case(mediator_a, first, lesson="甲的总结")
    with pytest.raises(Conflict):
        cases.close_case(
            mediation_manager,
            second,
            lesson="乙的总结",
            tasks=[{"kind": "talk", "title": "讲座", "due_on": timezone.localdate()}],
        )
    accepted.refresh_from_db()
    assert accepted.lesson == "甲的总结" and not accepted.tasks.exists()


def test_two_followup_records_at_once_one_gets_conflict(accepted, mediator_a, mediation_manager):
    agree(mediator_a, accepted)
    first = FollowUp.objects.filter(case=accepted).first()
    copy = FollowUp.objects.get(pk=first.pk)
    cases.record_followup(mediator_a, first, performance="lapsed", note="未履行")
    with pytest.raises(Conflict):
        cases.record_followup(mediation_manager, copy, performance="lapsed", note="未履行")
    assert accepted.tasks.filter(kind="prompt").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_threads_accepting_at_once_make_one_acceptance(tree):
    lead = make_user("13700000061", "调解员甲", "mediator", tree.community_1)
    manager = make_user("13700000062", "中心主任", "mediation_manager", tree.subdistrict)
    case = register(lead, tree)
    for party in CaseParty.objects.filter(case=case):
        cases.record_consent(lead, case, party, consent="given", rights_told=True)
    both = (lead, manager)
    copies = [Case.objects.get(pk=case.pk) for _user in both]  # both loaded before either acts
    results = at_once(
        *(partial(cases.accept_case, user, copy) for user, copy in zip(both, copies, strict=True))
    )
    assert outcomes(results) == ["Conflict", "ok"]
    assert Case.objects.get(pk=case.pk).state == CaseState.ACCEPTED
    assert CaseEvent.objects.filter(case=case, kind="accepted").count() == 1
