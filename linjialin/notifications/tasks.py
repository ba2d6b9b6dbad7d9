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
