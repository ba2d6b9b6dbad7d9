"""Writes for notifications: `notify` (inbox rows + one delivery task per external channel, in the
caller's transaction) and `mark_read` / `mark_all_read` (the recipient only)."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from linjialin.core import audit

from .channels import channel_paths
from .models import Notification
from .tasks import deliver


def notify(
    users: Iterable,
    *,
    kind: str,
    title: str,
    body: str = "",
    link: str = "",
    path: str = "",
    dedupe_key: str = "",
    actor=None,
) -> list[Notification]:
    """Put a message in each user's inbox and enqueue its delivery over every configured channel.

    Runs in the caller's transaction (or its own): the inbox rows and the task rows commit or roll
    back together with the change that caused them. With a `dedupe_key`, a user who already has a
    message with that key is skipped — running the same sweep again never notifies twice. Inactive
    users and duplicates in `users` are skipped. Returns the rows created.
    """
    recipients = {u.pk: u for u in users if u is not None and u.is_active}
    if not recipients:
        return []
    created: list[Notification] = []
    with transaction.atomic():
        if dedupe_key:
            seen = set(
                Notification.objects.filter(user_id__in=recipients, dedupe_key=dedupe_key).values_list(
                    "user_id", flat=True
                )
            )
        else:
            seen = set()
        for user_id in sorted(set(recipients) - seen):
            row = Notification(
                user_id=user_id,
                kind=kind,
                title=title[:200],
                body=body,
                link=link[:300],
                path=path,
                dedupe_key=dedupe_key[:120],
            )
            try:
                with transaction.atomic():  # a savepoint: a concurrent sweep may insert the same key
                    row.save(force_insert=True)
            except IntegrityError:
                continue
            created.append(row)
        if created:
            channels = channel_paths()
            for row in created:
                for channel in channels:
                    deliver.enqueue(row.pk, channel)
            audit.record(
                "notification.sent",
                actor=actor,
                path=path,
                object_type="notifications.notification",
                object_id=dedupe_key or str(created[0].pk),
                object_repr=title[:200],
                after={"kind": kind, "users": [r.user_id for r in created], "channels": channels},
            )
    return created


def mark_read(user, notification: Notification) -> bool:
    """The recipient marks one message read. True if it was unread (compare-and-set: twice is harmless).

    Not audited: the recipient's own reading of their inbox changes no governed data."""
    if notification.user_id != getattr(user, "pk", None):
        raise PermissionDenied
    now = timezone.now()
    changed = Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
    if changed:
        notification.read_at = now
    return bool(changed)


def mark_all_read(user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
