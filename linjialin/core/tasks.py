"""Housekeeping tasks that know no domain app. Scheduled by `linjialin beat` (see core/beat.py).

Tasks are idempotent: running one twice does no harm.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db.models import Q
from django.tasks import TaskResultStatus, task
from django.utils import timezone

logger = logging.getLogger("linjialin.tasks")

TASK_RESULT_KEEP_DAYS = 14
FAILED_TASK_RESULT_KEEP_DAYS = 60
SCHEDULED_SLOT_KEEP_DAYS = 60


@task
def audit_verify() -> dict:
    """Walk the whole audit hash chain and check the checkpoints; write a checkpoint when all is well.
    Log OK or the first event or checkpoint that fails (ERROR, so it reaches the logs)."""
    return _audit_check(since_checkpoint=False)


@task
def audit_checkpoint() -> dict:
    """Check the events since the last checkpoint (and every checkpoint), then write a new one: the
    window in which someone holding the audit key could rewrite events unnoticed stays this short."""
    return _audit_check(since_checkpoint=True)


def _audit_check(*, since_checkpoint: bool) -> dict:
    from .audit_checkpoints import check

    result = check(since_checkpoint=since_checkpoint)
    if result.ok:
        logger.info("audit chain OK: %d events; %s", result.head_seq, result.checkpoint.line)
    else:
        logger.error("audit chain %s", result.message)
    return {
        "ok": result.ok,
        "checked": result.checked,
        "head_seq": result.head_seq,
        "broken_seq": result.broken_seq,
        "checkpoint_line": result.checkpoint_line,
        "problem": result.problem,
    }


@task
def prune_task_results() -> dict:
    """Delete finished task results and old beat slots (the unique slot rows are only needed near `now`)."""
    from django_tasks_db.models import DBTaskResult

    from .models import ScheduledSlot

    now = timezone.now()
    results = DBTaskResult.objects.finished().filter(
        Q(status=TaskResultStatus.SUCCESSFUL, finished_at__lte=now - timedelta(days=TASK_RESULT_KEEP_DAYS))
        | Q(
            status=TaskResultStatus.FAILED,
            finished_at__lte=now - timedelta(days=FAILED_TASK_RESULT_KEEP_DAYS),
        )
    )
    deleted_results, _ = results.delete()
    deleted_slots, _ = ScheduledSlot.objects.filter(
        slot__lt=now - timedelta(days=SCHEDULED_SLOT_KEEP_DAYS)
    ).delete()
    logger.info("pruned %d task results and %d beat slots", deleted_results, deleted_slots)
    return {"task_results": deleted_results, "slots": deleted_slots}


@task
def enforce_retention() -> dict:
    """Delete or blank the data past its retention rule (core/retention.py); audited, once per run."""
    from . import retention

    report = retention.enforce()
    logger.info("retention enforced: %s", report)
    return report
