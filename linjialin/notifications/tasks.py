"""Delivery of one notification over one external channel (run by the task worker)."""

from __future__ import annotations

from django.tasks import task

from .channels import get_channel


@task
def deliver(notification_id: int, channel: str) -> bool:
    """Send notification `notification_id` over `channel`. False if the row is gone (user deleted)."""
    from .models import Notification

    notification = Notification.objects.filter(pk=notification_id).select_related("user").first()
    if notification is None:
        return False
    get_channel(channel).send(notification)
    return True


@task
def deliver_many(notification_ids: list[int], channel: str) -> int:
    """Send several notifications over `channel` (the sweep's batches); the number sent. Rows that are
    gone (user deleted) are skipped."""
    from .models import Notification

    sender = get_channel(channel)
    sent = 0
    for notification in Notification.objects.filter(pk__in=notification_ids).select_related("user"):
        sender.send(notification)
        sent += 1
    return sent
