"""`linjialin beat`: a tiny cron scheduler for tasks (Django ships none).

Jobs are declared in code: `register(name, cron, task)`. Every few seconds `tick(now)` computes, for
each job, the latest slot at or before `now` (cron in the project's TIME_ZONE, parsed by cronsim).
If that slot has not fired yet, it inserts `ScheduledSlot(name, slot)` and enqueues the task in the
SAME transaction. The unique constraint on (name, slot) means two beats — or a beat restarted in the
middle of a tick — fire a slot exactly once, and the task row commits (or not) together with it.

Missed slots (beat was down) are not replayed one by one: only the latest due slot fires, once. So a
nightly job catches up with a single run after downtime, and a brand-new install runs each job once
on its first tick.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cronsim import CronSim
from django.db import IntegrityError, transaction
from django.tasks import Task
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

from .models import ScheduledSlot

logger = logging.getLogger("linjialin.beat")


@dataclass(frozen=True)
class Job:
    name: str
    cron: str  # 5 fields (minute resolution) or 6 (with seconds), local time (settings.TIME_ZONE)
    task: Task
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)

    def latest_slot(self, now: datetime) -> datetime:
        """The latest moment at or before `now` that matches the cron expression."""
        local = timezone.localtime(now).replace(microsecond=0) + timedelta(seconds=1)
        return next(CronSim(self.cron, local, reverse=True))


JOBS: dict[str, Job] = {}


def register(name: str, cron: str, task: Task, *args, **kwargs) -> Job:
    CronSim(cron, timezone.now())  # raises CronSimError on a bad expression, at import time
    job = Job(name=name, cron=cron, task=task, args=args, kwargs=kwargs)
    JOBS[name] = job
    return job


def fire(job: Job, slot: datetime) -> bool:
    """Claim `slot` for `job` and enqueue its task, atomically. False if the slot was already claimed."""
    try:
        with transaction.atomic():
            ScheduledSlot.objects.create(name=job.name, slot=slot)
            job.task.enqueue(*job.args, **job.kwargs)
    except IntegrityError:
        return False
    logger.info("beat: enqueued %s for slot %s", job.name, slot.isoformat())
    return True


def tick(now: datetime | None = None, jobs: dict[str, Job] | None = None) -> list[str]:
    """Fire every job whose latest due slot has not fired yet. Returns the names fired."""
    now = now or timezone.now()
    fired = []
    for job in (JOBS if jobs is None else jobs).values():
        slot = job.latest_slot(now)
        # cheap pre-check so an idle beat does not raise (and log) a unique violation every tick
        if ScheduledSlot.objects.filter(name=job.name, slot=slot).exists():
            continue
        if fire(job, slot):
            fired.append(job.name)
    return fired


def _register_defaults() -> None:
    from . import tasks

    register("audit_verify", "30 2 * * *", tasks.audit_verify)  # nightly 02:30
    register("audit_checkpoint", "7 * * * *", tasks.audit_checkpoint)  # hourly: a signed checkpoint
    register("prune_task_results", "15 3 * * *", tasks.prune_task_results)  # nightly 03:15
    register("enforce_retention", "45 3 * * *", tasks.enforce_retention)  # nightly 03:45
    # each app's tasks.py registers its own jobs (e.g. service_requests: the deadline sweep, every minute)
    autodiscover_modules("tasks")


_register_defaults()
