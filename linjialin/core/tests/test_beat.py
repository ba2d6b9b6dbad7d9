"""The scheduler fires each (job, slot) once, even with two beats, and catches up with one run."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django_tasks_db.models import DBTaskResult

from linjialin.core import audit, beat, tasks
from linjialin.core.models import ScheduledSlot

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day, hour, minute=0, second=0):
    return datetime(2026, 3, day, hour, minute, second, tzinfo=SHANGHAI)


def enqueued(task=tasks.audit_verify):
    return DBTaskResult.objects.filter(task_path=task.module_path).count()


@pytest.fixture
def nightly():
    return {"nightly": beat.Job(name="nightly", cron="0 3 * * *", task=tasks.audit_verify)}


@pytest.fixture
def hourly():
    return {"hourly": beat.Job(name="hourly", cron="0 * * * *", task=tasks.prune_task_results)}


def test_two_ticks_for_the_same_slot_enqueue_once(db, nightly):
    with time_machine.travel(at(2, 3, 0, 5), tick=False):
        assert beat.tick(jobs=nightly) == ["nightly"]
    with time_machine.travel(at(2, 3, 4), tick=False):
        assert beat.tick(jobs=nightly) == []
    assert enqueued() == 1
    assert list(ScheduledSlot.objects.values_list("name", "slot")) == [("nightly", at(2, 3))]


def test_two_beats_racing_for_one_slot_enqueue_once(db, nightly):
    """Both beats passed the cheap existence check; the unique constraint decides."""
    job = nightly["nightly"]
    assert beat.fire(job, at(2, 3)) is True
    assert beat.fire(job, at(2, 3)) is False
    assert enqueued() == 1
    assert ScheduledSlot.objects.count() == 1


def test_slot_claim_and_task_commit_together(db):
    class Broken:
        def enqueue(self, *args, **kwargs):
            raise RuntimeError("queue down")

    job = beat.Job(name="broken", cron="0 3 * * *", task=Broken())
    with pytest.raises(RuntimeError):
        beat.fire(job, at(2, 3))
    assert not ScheduledSlot.objects.filter(name="broken").exists()  # the slot is free for the next tick


def test_missed_slots_fire_only_the_latest_once(db, hourly):
    with time_machine.travel(at(2, 1, 0, 30), tick=False):
        assert beat.tick(jobs=hourly) == ["hourly"]
    # beat was down from 01:00 to 05:20: slots 02:00, 03:00, 04:00 were missed
    with time_machine.travel(at(2, 5, 20), tick=False):
        assert beat.tick(jobs=hourly) == ["hourly"]
        assert beat.tick(jobs=hourly) == []
    assert enqueued(tasks.prune_task_results) == 2
    assert list(ScheduledSlot.objects.order_by("slot").values_list("slot", flat=True)) == [at(2, 1), at(2, 5)]


def test_next_slot_fires_exactly_when_due(db, nightly):
    with time_machine.travel(at(2, 3), tick=False):
        assert beat.tick(jobs=nightly) == ["nightly"]
    with time_machine.travel(at(3, 2, 59, 59), tick=False):
        assert beat.tick(jobs=nightly) == []
    with time_machine.travel(at(3, 3), tick=False):
        assert beat.tick(jobs=nightly) == ["nightly"]
    assert enqueued() == 2


def test_cron_is_read_in_local_time(nightly):
    job = nightly["nightly"]
    # 19:30 UTC on 2 March is 03:30 on 3 March in Shanghai
    assert job.latest_slot(datetime(2026, 3, 2, 19, 30, tzinfo=ZoneInfo("UTC"))) == at(3, 3)


def test_registry_schedules_the_nightly_audit_check(db):
    assert beat.JOBS["audit_verify"].task is tasks.audit_verify
    with time_machine.travel(at(2, 12), tick=False):
        fired = beat.tick()
    assert "audit_verify" in fired
    assert enqueued() == 1


def test_bad_cron_expression_is_rejected_at_registration():
    from cronsim import CronSimError

    with pytest.raises(CronSimError):
        beat.register("nonsense", "61 * * * *", tasks.audit_verify)
    assert "nonsense" not in beat.JOBS


def test_audit_verify_task_logs_the_broken_link(db, caplog):
    from django.db import connection

    for i in range(3):
        audit.record(f"test.event{i}")
    with caplog.at_level("INFO", logger="linjialin.tasks"):
        assert tasks.audit_verify.call()["ok"] is True
    assert "audit chain OK: 3 events" in caplog.text

    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET action='x' WHERE seq=2")
    caplog.clear()
    with caplog.at_level("INFO", logger="linjialin.tasks"):
        result = tasks.audit_verify.call()
    assert result["ok"] is False and result["broken_seq"] == 2
    assert [r.levelname for r in caplog.records] == ["ERROR"]
    assert "BROKEN at event #2" in caplog.text


def test_prune_removes_only_old_slots(db):
    ScheduledSlot.objects.create(name="old", slot=at(1, 3))
    with time_machine.travel(datetime(2026, 6, 1, 12, tzinfo=SHANGHAI), tick=False):
        ScheduledSlot.objects.create(name="recent", slot=datetime(2026, 5, 31, 3, tzinfo=SHANGHAI))
        assert tasks.prune_task_results.call()["slots"] == 1
    assert list(ScheduledSlot.objects.values_list("name", flat=True)) == ["recent"]
