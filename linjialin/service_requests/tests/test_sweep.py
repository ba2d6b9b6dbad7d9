"""The deadline sweep (time-machine, no sleeps): reminder at 75 % once, overdue → 督办 once, acceptance
timeout → automatic escalation once, working-day limits over the 2026 国庆 holiday and a 调休 Saturday,
clock-hour limits that ignore holidays, notices as tasks in the same transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from linjialin.accounts.models import RoleGrant
from linjialin.core.models import AuditEvent
from linjialin.notifications.models import Notification
from linjialin.service_requests import services, sweep
from linjialin.service_requests.models import (
    HandlingLevel,
    RequestEvent,
    ServiceRequest,
    State,
    TimeLimitPolicy,
)

SH = ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


def policy(accept=(24, "hours"), resolve=(7, "working_days")):
    TimeLimitPolicy.objects.all().delete()
    TimeLimitPolicy.objects.create(
        accept_amount=accept[0], accept_unit=accept[1], resolve_amount=resolve[0], resolve_unit=resolve[1]
    )


def submit(resident, place, when):
    RoleGrant.objects.update(valid_from="2026-01-01")
    with time_machine.travel(when, tick=False):
        return services.submit_request(resident, place=place, request_type="help", description="楼道灯坏了")


def run(when):
    with time_machine.travel(when, tick=False):
        return sweep.sweep()


def notices(user=None, kind=None):
    qs = Notification.objects.all()
    if user is not None:
        qs = qs.filter(user=user)
    if kind is not None:
        qs = qs.filter(kind=kind)
    return qs


def test_reminder_at_75_percent_fires_once(tree, resident_a, entrance_leader_a, grid_worker):
    policy(accept=(24, "hours"))
    req = submit(resident_a, tree.household_a1, at(2026, 11, 2, 9, 0))  # Monday; accept by Tue 09:00
    assert req.accept_by == at(2026, 11, 3, 9, 0)
    assert run(at(2026, 11, 3, 2, 59)).reminded == []  # 73 %
    assert run(at(2026, 11, 3, 3, 0)).reminded == [req.pk]  # 75 %
    assert run(at(2026, 11, 3, 3, 1)).reminded == []  # again: nothing new
    assert run(at(2026, 11, 3, 3, 0)).reminded == []  # a second worker on the same minute
    (notice,) = notices(kind="request.reminder")
    assert notice.user == entrance_leader_a  # the handler at the request's level, not the grid
    assert notice.dedupe_key == f"remind:{req.pk}:{req.accept_by.astimezone(UTC).isoformat()}"
    (task,) = DBTaskResult.objects.filter(task_path="linjialin.notifications.tasks.deliver_many")
    assert task.args_kwargs["args"][0] == [notice.pk]


def test_resolution_reminder_goes_to_the_owning_handler(tree, resident_a, entrance_leader_a):
    policy(accept=(24, "hours"), resolve=(48, "hours"))
    req = submit(resident_a, tree.household_a1, at(2026, 11, 2, 9, 0))
    with time_machine.travel(at(2026, 11, 2, 10, 0), tick=False):
        services.accept_request(entrance_leader_a, req)
    assert run(at(2026, 11, 3, 20, 59)).reminded == []
    assert run(at(2026, 11, 3, 21, 0)).reminded == [req.pk]  # 48 h → 12 h before the deadline
    assert run(at(2026, 11, 3, 21, 5)).reminded == []
    assert list(notices(kind="request.reminder").values_list("user", flat=True)) == [entrance_leader_a.pk]


def test_overdue_resolution_is_supervised_once(
    tree, resident_a, entrance_leader_a, community_secretary, subdistrict_dispatcher
):
    policy(accept=(24, "hours"), resolve=(48, "hours"))
    req = submit(resident_a, tree.household_a1, at(2026, 11, 2, 9, 0))
    with time_machine.travel(at(2026, 11, 2, 10, 0), tick=False):
        services.accept_request(entrance_leader_a, req)
        services.record_contact(entrance_leader_a, req, note="打了电话")  # the contact limit is met
    assert run(at(2026, 11, 4, 9, 0)).supervised == []  # exactly at the deadline: not yet
    report = run(at(2026, 11, 4, 9, 1))
    assert report.supervised == [req.pk]
    assert run(at(2026, 11, 4, 9, 2)).supervised == []
    assert run(at(2026, 11, 5, 9, 0)).supervised == []
    req.refresh_from_db()
    assert req.supervised and req.state == State.IN_PROGRESS
    assert RequestEvent.objects.filter(request=req, kind="overdue").count() == 1
    assert AuditEvent.objects.filter(action="request.overdue", object_id=str(req.pk)).count() == 1
    # the handler and the supervisors of the nearest level above (the community), not the subdistrict
    assert set(notices(kind="request.overdue").values_list("user", flat=True)) == {
        entrance_leader_a.pk,
        community_secretary.pk,
    }


def test_a_stale_second_sweep_does_not_supervise_again(tree, resident_a, entrance_leader_a):
    policy(accept=(24, "hours"), resolve=(48, "hours"))
    req = submit(resident_a, tree.household_a1, at(2026, 11, 2, 9, 0))
    with time_machine.travel(at(2026, 11, 2, 10, 0), tick=False):
        services.accept_request(entrance_leader_a, req)
    stale = ServiceRequest.objects.get(pk=req.pk)  # what a second worker read before the first wrote
    run(at(2026, 11, 4, 10, 0))
    report = sweep.SweepReport(now=at(2026, 11, 4, 10, 0))
    with time_machine.travel(at(2026, 11, 4, 10, 0), tick=False), transaction.atomic():
        sweep._supervise([stale], "resolve", report, sweep._Recipients())
    assert report.supervised == [] and report.skipped == 1
    assert RequestEvent.objects.filter(request=req, kind="overdue").count() == 1
    assert notices(kind="request.overdue").count() == 1


def test_acceptance_timeout_escalates_one_level_once(tree, resident_a, entrance_leader_a, grid_worker):
    policy(accept=(24, "hours"))
    req = submit(resident_a, tree.household_a1, at(2026, 11, 2, 9, 0))
    assert req.level == HandlingLevel.ENTRANCE
    assert run(at(2026, 11, 3, 9, 0)).escalated == []
    report = run(at(2026, 11, 3, 9, 1))
    assert report.escalated == [req.pk]
    assert run(at(2026, 11, 3, 9, 1)).escalated == []  # twice-run: once
    req.refresh_from_db()
    assert req.state == State.ESCALATED and req.level == HandlingLevel.GRID and req.handler is None
    assert req.accept_by == at(2026, 11, 4, 9, 1)  # a fresh window from the escalation
    (event,) = RequestEvent.objects.filter(request=req, kind="escalate")
    assert event.actor is None and event.data == {"from_level": 4, "to_level": 3}
    (notice,) = notices(kind="request.escalated")
    assert notice.user == grid_worker
    # not accepted at the grid either: up to the community
    assert run(at(2026, 11, 4, 9, 2)).escalated == [req.pk]
    req.refresh_from_db()
    assert req.level == HandlingLevel.COMMUNITY and req.state == State.ESCALATED


def test_an_accepted_request_is_not_escalated(tree, resident_a, entrance_leader_a):
    policy(accept=(24, "hours"), resolve=(7, "working_days"))
    req = submit(resident_a, tree.household_a1, at(2026, 11, 2, 9, 0))
    with time_machine.travel(at(2026, 11, 2, 10, 0), tick=False):
        services.accept_request(entrance_leader_a, req)
        services.record_contact(entrance_leader_a, req, note="上门了解")
    report = run(at(2026, 11, 3, 10, 0))
    assert report.escalated == [] and report.supervised == []
    req.refresh_from_db()
    assert req.level == HandlingLevel.ENTRANCE and req.state == State.IN_PROGRESS


def test_timeout_at_the_subdistrict_supervises_and_tells_the_dispatcher(
    tree, resident_a, subdistrict_dispatcher, subdistrict_staff
):
    policy(accept=(24, "hours"))
    req = submit(resident_a, tree.household_a1, at(2026, 11, 2, 9, 0))
    ServiceRequest.objects.filter(pk=req.pk).update(level=HandlingLevel.SUBDISTRICT)
    assert run(at(2026, 11, 3, 9, 1)).supervised == [req.pk]
    assert run(at(2026, 11, 3, 9, 2)).supervised == []
    req.refresh_from_db()
    assert req.supervised and req.state == State.SUBMITTED and req.level == HandlingLevel.SUBDISTRICT
    assert list(notices(kind="request.overdue").values_list("user", flat=True)) == [subdistrict_dispatcher.pk]
    assert RequestEvent.objects.filter(request=req, kind="overdue").count() == 1


def test_working_day_window_over_the_national_day_holiday(tree, resident_a, entrance_leader_a):
    policy(accept=(1, "working_days"))
    req = submit(resident_a, tree.household_a1, at(2026, 9, 30, 10, 0))  # Wed, before 国庆 (1–7 Oct)
    assert req.accept_by.astimezone(SH).date() == datetime(2026, 10, 8).date()  # Thu 8 Oct, end of day
    report = run(at(2026, 10, 7, 23, 0))
    assert (report.escalated, report.supervised, report.reminded) == ([], [], [])
    assert run(at(2026, 10, 8, 17, 59)).reminded == []
    assert run(at(2026, 10, 8, 18, 0)).reminded == [req.pk]  # a quarter of the working day left
    assert run(at(2026, 10, 8, 23, 59)).escalated == []
    assert run(at(2026, 10, 9, 0, 1)).escalated == [req.pk]


def test_a_make_up_saturday_is_a_working_day(tree, resident_a, entrance_leader_a):
    policy(accept=(1, "working_days"))
    req = submit(resident_a, tree.household_a1, at(2026, 10, 9, 15, 0))  # Fri; Sat 10 Oct is 调休
    assert req.accept_by.astimezone(SH).date() == datetime(2026, 10, 10).date()
    assert run(at(2026, 10, 10, 23, 0)).escalated == []
    assert run(at(2026, 10, 11, 0, 1)).escalated == [req.pk]


def test_clock_hour_limits_ignore_the_holiday(tree, resident_a, entrance_leader_a):
    policy(accept=(24, "hours"))
    req = submit(resident_a, tree.household_a1, at(2026, 9, 30, 10, 0))
    assert req.accept_by == at(2026, 10, 1, 10, 0)  # 国庆 counts
    assert run(at(2026, 10, 1, 4, 0)).reminded == [req.pk]
    assert run(at(2026, 10, 1, 10, 1)).escalated == [req.pk]


def test_reminder_points_in_working_days(db):
    due = at(2026, 10, 9, 23, 59, 59, 999999)  # Fri 9 Oct; the previous working day is Thu 8 Oct
    assert sweep.reminder_point(due, 1, "working_days") == at(2026, 10, 9, 17, 59, 59, 999999)
    assert sweep.reminder_point(due, 4, "working_days") == at(2026, 10, 8, 23, 59, 59, 999999)
    # 7 working days: 1.75 left → 06:00 on the working day before (30 Sep, across 国庆)
    due = at(2026, 10, 8, 23, 59, 59, 999999)
    assert sweep.reminder_point(due, 7, "working_days") == at(2026, 9, 30, 5, 59, 59, 999999)
    assert sweep.reminder_point(at(2026, 10, 2, 12, 0), 8, "hours") == at(2026, 10, 2, 10, 0)


def test_notices_are_tasks_in_the_sweeps_transaction(tree, resident_a, entrance_leader_a, grid_worker):
    policy(accept=(24, "hours"))
    req = submit(resident_a, tree.household_a1, at(2026, 11, 2, 9, 0))
    before = (Notification.objects.count(), DBTaskResult.objects.count())  # the submission's own notice
    with pytest.raises(RuntimeError), transaction.atomic():
        run(at(2026, 11, 3, 9, 1))
        assert notices(kind="request.escalated").exists()
        assert DBTaskResult.objects.count() > before[1]
        raise RuntimeError("the sweep's transaction fails")
    req.refresh_from_db()
    assert req.state == State.SUBMITTED and req.level == HandlingLevel.ENTRANCE
    assert (Notification.objects.count(), DBTaskResult.objects.count()) == before
    run(at(2026, 11, 3, 9, 1))
    (notice,) = notices(kind="request.escalated")
    (task,) = DBTaskResult.objects.filter(task_path="linjialin.notifications.tasks.deliver_many")
    assert notice.pk in task.args_kwargs["args"][0]


def test_nothing_due_is_a_few_queries(tree, resident_a, entrance_leader_a, django_assert_max_num_queries):
    policy(accept=(24, "hours"))
    for _ in range(5):
        submit(resident_a, tree.household_a1, at(2026, 11, 2, 9, 0))
    run(at(2026, 11, 2, 11, 59))  # the previous run: the reminder watermark
    # 9: the three indexed due queries (acceptance, first contact, resolution), the rules row (reminder
    # share), the time-limit policies, the reminder watermark, the reminder range scans (the acceptance
    # window and the first-contact limit: their ranges differ) and moving the watermark
    with time_machine.travel(at(2026, 11, 2, 12, 0), tick=False), django_assert_max_num_queries(9):
        report = sweep.sweep()
    assert report.as_dict()["escalated"] == [] and not report.more


def test_the_sweep_is_scheduled_every_minute():
    from linjialin.core import beat
    from linjialin.service_requests.tasks import sweep_deadlines

    job = beat.JOBS["requests_sweep"]
    assert job.cron == "* * * * *" and job.task is sweep_deadlines
    assert job.latest_slot(at(2026, 11, 2, 9, 0, 30)) == at(2026, 11, 2, 9, 0)
