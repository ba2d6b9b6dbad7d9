"""The sweep's batches (set-based UPDATEs, bulk timeline/audit/notices), reminders after downtime, and
notices in each recipient's language (time-machine, no sleeps)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from linjialin.accounts.models import RoleGrant
from linjialin.core import audit
from linjialin.core.models import AuditEvent
from linjialin.notifications.models import Notification
from linjialin.notifications.services import Message, notify_many
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


@pytest.fixture(autouse=True)
def limits(db):
    TimeLimitPolicy.objects.all().delete()
    TimeLimitPolicy.objects.create(
        accept_amount=24, accept_unit="hours", resolve_amount=48, resolve_unit="hours"
    )


def submit(resident, place, when, n=1):
    RoleGrant.objects.update(valid_from="2026-01-01")
    with time_machine.travel(when, tick=False):
        return [
            services.submit_request(resident, place=place, request_type="help", description=f"楼道灯坏了 {i}")
            for i in range(n)
        ]


def run(when):
    with time_machine.travel(when, tick=False):
        return sweep.sweep()


def test_a_batch_escalates_every_due_row_once_with_its_events(
    tree, resident_a, entrance_leader_a, grid_worker
):
    reqs = submit(resident_a, tree.household_a1, at(2026, 11, 2, 9, 0), n=12)
    report = run(at(2026, 11, 3, 9, 1))
    assert sorted(report.escalated) == sorted(r.pk for r in reqs) and not report.more
    assert run(at(2026, 11, 3, 9, 1)).escalated == []  # twice-run: once
    assert set(ServiceRequest.objects.values_list("state", "level", "handler")) == {
        (State.ESCALATED, HandlingLevel.GRID, None)
    }
    events = RequestEvent.objects.filter(kind="escalate")
    assert events.count() == 12 and {e.data["to_level"] for e in events} == {HandlingLevel.GRID}
    assert AuditEvent.objects.filter(action="request.escalate").count() == 12
    assert audit.verify().ok  # the bulk append keeps the hash chain intact
    notices = Notification.objects.filter(kind="request.escalated")
    assert notices.count() == 12 and set(notices.values_list("user", flat=True)) == {grid_worker.pk}


def test_the_cost_of_a_batch_does_not_grow_with_its_rows(tree, resident_a, entrance_leader_a, grid_worker):
    submit(resident_a, tree.household_a1, at(2026, 11, 2, 9, 0), n=3)
    run(at(2026, 11, 3, 9, 0))  # the reminder watermark
    with time_machine.travel(at(2026, 11, 3, 9, 1), tick=False), CaptureQueriesContext(connection) as few:
        assert len(sweep.sweep().escalated) == 3
    submit(resident_a, tree.household_a1, at(2026, 11, 2, 9, 2), n=15)
    run(at(2026, 11, 3, 9, 2))
    with time_machine.travel(at(2026, 11, 3, 9, 3), tick=False), CaptureQueriesContext(connection) as many:
        assert len(sweep.sweep().escalated) == 15
    assert len(many.captured_queries) == len(few.captured_queries)


def test_a_full_batch_leaves_the_rest_for_the_next_run(monkeypatch, tree, resident_a, entrance_leader_a):
    monkeypatch.setattr(sweep, "BATCH", 5)
    reqs = submit(resident_a, tree.household_a1, at(2026, 11, 2, 9, 0), n=12)
    first = run(at(2026, 11, 3, 9, 1))
    assert len(first.escalated) == 5 and first.more
    second, third = run(at(2026, 11, 3, 9, 2)), run(at(2026, 11, 3, 9, 3))
    assert sorted(first.escalated + second.escalated + third.escalated) == sorted(r.pk for r in reqs)
    assert not third.more


def test_overdue_rows_are_supervised_in_one_batch(tree, resident_a, entrance_leader_a, community_secretary):
    reqs = submit(resident_a, tree.household_a1, at(2026, 11, 2, 9, 0), n=4)
    with time_machine.travel(at(2026, 11, 2, 10, 0), tick=False):
        for req in reqs:
            services.accept_request(entrance_leader_a, req)
    report = run(at(2026, 11, 4, 9, 1))
    assert sorted(report.supervised) == sorted(r.pk for r in reqs)
    assert run(at(2026, 11, 4, 9, 2)).supervised == []
    assert ServiceRequest.objects.filter(supervised=True, state=State.ACCEPTED).count() == 4
    assert RequestEvent.objects.filter(kind="overdue").count() == 4
    assert AuditEvent.objects.filter(action="request.overdue").count() == 4
    assert Notification.objects.filter(kind="request.overdue", user=entrance_leader_a).count() == 4
    assert Notification.objects.filter(kind="request.overdue", user=community_secretary).count() == 4
    assert audit.verify().ok


def test_a_reminder_missed_while_the_sweep_was_down_is_sent_once(tree, resident_a, entrance_leader_a):
    (req,) = submit(resident_a, tree.household_a1, at(2026, 11, 2, 9, 0))  # accept by Tue 09:00
    assert run(at(2026, 11, 3, 2, 0)).reminded == []  # before the reminder point (03:00)
    # the beat is down from 02:01 until 04:00: an hour past the reminder point, still before the deadline
    assert run(at(2026, 11, 3, 4, 0)).reminded == [req.pk]
    assert run(at(2026, 11, 3, 4, 1)).reminded == []
    assert run(at(2026, 11, 3, 4, 0)).reminded == []  # a late second worker
    assert Notification.objects.filter(kind="request.reminder").count() == 1


def test_no_reminder_once_the_deadline_has_passed(tree, resident_a, entrance_leader_a):
    (req,) = submit(resident_a, tree.household_a1, at(2026, 11, 2, 9, 0))
    assert run(at(2026, 11, 3, 2, 0)).reminded == []
    report = run(at(2026, 11, 3, 9, 30))  # down past the deadline: escalated, not reminded
    assert report.reminded == [] and report.escalated == [req.pk]
    assert not Notification.objects.filter(kind="request.reminder").exists()


def test_notices_are_written_in_each_recipients_language(tree, resident_a, entrance_leader_a, grid_worker):
    entrance_leader_a.language = "en"
    entrance_leader_a.save(update_fields=["language"])
    (req,) = submit(resident_a, tree.household_a1, at(2026, 11, 2, 9, 0))
    run(at(2026, 11, 3, 3, 0))
    (reminder,) = Notification.objects.filter(kind="request.reminder")
    assert reminder.user == entrance_leader_a
    assert reminder.title == f"Request {req.number} is due soon"
    assert reminder.body == "Please accept it by 2026-11-03 09:00."
    run(at(2026, 11, 3, 9, 1))
    (escalated,) = Notification.objects.filter(kind="request.escalated")
    assert escalated.user == grid_worker  # language zh-hans
    with translation.override("zh-hans"):
        expected = translation.gettext("Request %(number)s escalated to you") % {"number": req.number}
    assert escalated.title == expected and escalated.title != f"Request {req.number} escalated to you"
    # the timeline note is in the site language
    (event,) = RequestEvent.objects.filter(kind="escalate")
    with translation.override("zh-hans"):
        assert event.note == translation.gettext(
            "Not accepted within the acceptance window: escalated automatically."
        )


def test_notify_many_skips_keys_already_used_and_inactive_users(resident_a, resident_b, outsider):
    outsider.is_active = False
    outsider.save(update_fields=["is_active"])
    first = Message(users=[resident_a], kind="test", title="one", dedupe_key="k:1")
    assert notify_many([first]) == 1
    again = Message(users=[resident_a, resident_b, outsider], kind="test", title="one", dedupe_key="k:1")
    assert notify_many([again]) == 1  # resident_b only
    assert Notification.objects.filter(dedupe_key="k:1").count() == 2
    assert AuditEvent.objects.filter(action="notification.sent", object_id="k:1").count() == 2


def test_time_limits_are_cached_and_a_saved_change_clears_the_cache(monkeypatch, django_assert_num_queries):
    from linjialin.service_requests import policy_cache

    monkeypatch.setattr(policy_cache._cache, "in_transaction", lambda: False)  # as in a web request
    policy_cache.clear_cache()
    assert services.policy_for("help", None, "normal").accept_amount == 24  # read once
    with django_assert_num_queries(0):
        assert services.policy_for("help", None, "normal").accept_amount == 24
    row = TimeLimitPolicy.objects.get()
    row.accept_amount = 12
    row.save()  # the admin saves: the cache is cleared
    assert services.policy_for("help", None, "normal").accept_amount == 12
    policy_cache.clear_cache()


def test_time_limits_inside_a_transaction_are_read_fresh(django_assert_num_queries):
    from linjialin.service_requests import policy_cache

    policy_cache.clear_cache()
    with django_assert_num_queries(1):
        services.policy_for("help", None, "normal")
    TimeLimitPolicy.objects.update(accept_amount=6)  # no signal: still seen, as nothing is cached here
    assert services.policy_for("help", None, "normal").accept_amount == 6


def test_notify_many_falls_back_to_one_by_one_when_a_key_is_taken_meanwhile(resident_a):
    # the same key twice in one batch: the bulk INSERT hits the unique constraint (as a concurrent
    # sweep's insert would), and the fallback sends each key once
    twice = [Message(users=[resident_a], kind="test", title="one", dedupe_key="k:2") for _ in range(2)]
    assert notify_many(twice) == 1
    assert Notification.objects.filter(dedupe_key="k:2").count() == 1
