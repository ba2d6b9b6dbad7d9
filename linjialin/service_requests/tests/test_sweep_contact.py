"""The first-contact limit is watched like the others (接诉即办条例 Art. 15(1): the handler contacts the
requester promptly): an accepted request not yet contacted is reminded at 75 % of its contact limit and
put under supervision (督办) once the limit passes, with the handler and the supervisors above told;
recording the contact stops both; the level above gets a fresh contact window when it escalates."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import time_machine

from linjialin.accounts.models import RoleGrant
from linjialin.core.models import AuditEvent
from linjialin.notifications.models import Notification
from linjialin.service_requests import services, sweep
from linjialin.service_requests.models import RequestEvent, State, TimeLimitPolicy

SH = ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


def policy(accept=(24, "hours"), contact=(24, "hours"), resolve=(7, "working_days")):
    TimeLimitPolicy.objects.all().delete()
    TimeLimitPolicy.objects.create(
        accept_amount=accept[0],
        accept_unit=accept[1],
        contact_amount=contact[0],
        contact_unit=contact[1],
        resolve_amount=resolve[0],
        resolve_unit=resolve[1],
    )


def submit(resident, place, when):
    RoleGrant.objects.update(valid_from="2026-01-01")
    with time_machine.travel(when, tick=False):
        return services.submit_request(resident, place=place, request_type="help", description="楼道灯坏了")


def accept(leader, req, when):
    with time_machine.travel(when, tick=False):
        services.accept_request(leader, req)


def run(when):
    with time_machine.travel(when, tick=False):
        return sweep.sweep()


def english(user):
    user.language = "en"
    user.save(update_fields=["language"])
    return user


def test_an_accepted_request_not_contacted_is_reminded_then_supervised(
    tree, resident_a, entrance_leader_a, community_secretary
):
    policy(accept=(24, "hours"), contact=(8, "hours"))
    english(entrance_leader_a)
    req = submit(resident_a, tree.household_a1, at(2026, 11, 2, 9, 0))  # Monday
    assert req.contact_by == at(2026, 11, 2, 17, 0)
    accept(entrance_leader_a, req, at(2026, 11, 2, 9, 30))
    assert run(at(2026, 11, 2, 14, 59)).reminded == []
    assert run(at(2026, 11, 2, 15, 0)).reminded == [req.pk]  # 2 of 8 hours left
    assert run(at(2026, 11, 2, 15, 1)).reminded == []  # once
    (reminder,) = Notification.objects.filter(kind="request.reminder")
    assert reminder.user == entrance_leader_a
    assert reminder.dedupe_key == f"remind-contact:{req.pk}:{req.contact_by.astimezone(UTC).isoformat()}"
    assert reminder.title == f"Request {req.number}: contact the requester soon"
    assert reminder.body == "Please contact the requester by 2026-11-02 17:00."

    assert run(at(2026, 11, 2, 17, 0)).supervised == []  # at the limit: not yet
    assert run(at(2026, 11, 2, 17, 1)).supervised == [req.pk]
    assert run(at(2026, 11, 2, 17, 2)).supervised == []  # once
    req.refresh_from_db()
    assert req.supervised and req.state == State.ACCEPTED
    (event,) = RequestEvent.objects.filter(request=req, kind="overdue")
    assert event.actor is None and event.data["limit"] == "contact"
    audit = AuditEvent.objects.get(action="request.overdue", object_id=str(req.pk))
    assert audit.after["limit"] == "contact"
    told = Notification.objects.filter(kind="request.overdue")
    assert set(told.values_list("user", flat=True)) == {entrance_leader_a.pk, community_secretary.pk}
    assert told.get(user=entrance_leader_a).title == (
        f"Request {req.number}: the requester was not contacted in time (督办)"
    )
    # each in their own language: the secretary reads Chinese
    assert told.get(user=community_secretary).title == f"诉求 {req.number} 未按时联系诉求人（督办）"
    assert told.get(user=community_secretary).body == "应于 2026-11-02 17:00 前首次联系诉求人。"


def test_recording_the_contact_in_time_stops_the_reminder_and_the_supervision(
    tree, resident_a, entrance_leader_a
):
    policy(accept=(24, "hours"), contact=(8, "hours"), resolve=(7, "working_days"))
    req = submit(resident_a, tree.household_a1, at(2026, 11, 2, 9, 0))
    accept(entrance_leader_a, req, at(2026, 11, 2, 9, 30))
    with time_machine.travel(at(2026, 11, 2, 12, 0), tick=False):
        services.record_contact(entrance_leader_a, req, note="电话联系了张三")
    report = run(at(2026, 11, 2, 15, 0))
    assert report.reminded == [] and report.supervised == []
    assert run(at(2026, 11, 3, 9, 0)).supervised == []
    req.refresh_from_db()
    assert not req.supervised and req.state == State.IN_PROGRESS


def test_a_request_not_yet_accepted_is_watched_by_its_acceptance_window_only(
    tree, resident_a, entrance_leader_a
):
    policy(accept=(24, "hours"), contact=(8, "hours"))
    req = submit(resident_a, tree.household_a1, at(2026, 11, 2, 9, 0))
    report = run(at(2026, 11, 2, 17, 1))  # past the contact limit, before the acceptance window ends
    assert report.supervised == [] and report.escalated == []
    assert not Notification.objects.filter(dedupe_key__startswith="remind-contact:").exists()
    # accepted late: the requester has already waited past the contact limit → 督办 at the next run
    accept(entrance_leader_a, req, at(2026, 11, 2, 18, 0))
    assert run(at(2026, 11, 2, 18, 1)).supervised == [req.pk]


def test_escalation_gives_the_level_above_a_fresh_contact_window(
    tree, resident_a, entrance_leader_a, grid_worker
):
    policy(accept=(24, "hours"), contact=(24, "hours"))
    req = submit(resident_a, tree.household_a1, at(2026, 11, 2, 9, 0))
    assert run(at(2026, 11, 3, 9, 1)).escalated == [req.pk]  # not accepted at the entrance
    req.refresh_from_db()
    assert req.contact_by == at(2026, 11, 4, 9, 1)
    accept(grid_worker, req, at(2026, 11, 3, 10, 0))
    assert run(at(2026, 11, 3, 10, 1)).supervised == []  # the grid's own 24 h run
    assert run(at(2026, 11, 4, 9, 2)).supervised == [req.pk]
    # a handler's escalation, a dispatch and a reassignment restart it the same way (services)
    req2 = submit(resident_a, tree.household_a1, at(2026, 11, 2, 9, 0))
    with time_machine.travel(at(2026, 11, 2, 20, 0), tick=False):
        services.escalate_request(entrance_leader_a, req2, reason="楼门解决不了")
    assert req2.contact_by == at(2026, 11, 3, 20, 0)


def test_a_working_day_contact_limit_is_reminded_over_the_holiday(tree, resident_a, entrance_leader_a):
    policy(accept=(24, "hours"), contact=(1, "working_days"))
    req = submit(resident_a, tree.household_a1, at(2026, 9, 30, 10, 0))  # Wed, before 国庆 (1–7 Oct)
    assert req.contact_by == at(2026, 10, 8, 23, 59, 59, 999999)
    accept(entrance_leader_a, req, at(2026, 9, 30, 11, 0))
    assert run(at(2026, 10, 7, 23, 0)).reminded == []
    assert run(at(2026, 10, 8, 18, 0)).reminded == [req.pk]
    assert run(at(2026, 10, 9, 0, 1)).supervised == [req.pk]
