"""Reads of the inbox: a person sees their own messages only."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Case, CharField, Count, F, Max, Q, Value, When
from django.db.models.functions import Cast, Concat
from django.shortcuts import get_object_or_404

from .models import Notification


def unread_count(user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def get_for_user(user, pk: int) -> Notification:
    """Someone else's message and a missing one are both 404."""
    return get_object_or_404(Notification, pk=pk, user=user)


@dataclass
class Group:
    """One inbox row: the messages about one object (a message about none is a group of its own)."""

    latest: Notification  # the newest message of the group
    count: int
    unread: int

    @property
    def is_read(self) -> bool:
        return self.unread == 0


def grouped_inbox(user):
    """The user's messages grouped per subject, newest group first: a queryset of dicts
    (group, last_at, last_id, count, unread) to paginate; `groups(page)` turns a page into Groups."""
    key = Case(
        When(subject="", then=Concat(Value("#"), Cast("id", CharField()))),
        default=F("subject"),
        output_field=CharField(),
    )
    return (
        Notification.objects.filter(user=user)
        .annotate(group=key)
        .values("group")
        .annotate(
            last_at=Max("created_at"),
            last_id=Max("id"),
            count=Count("id"),
            unread=Count("id", filter=Q(read_at__isnull=True)),
        )
        .order_by("-last_at", "-last_id")
    )


def groups(user, rows) -> list[Group]:
    """The Groups of one page of grouped_inbox rows: one query for their newest messages."""
    rows = list(rows)
    latest = {n.pk: n for n in Notification.objects.filter(user=user, pk__in=[r["last_id"] for r in rows])}
    return [
        Group(latest=latest[r["last_id"]], count=r["count"], unread=r["unread"])
        for r in rows
        if r["last_id"] in latest
    ]
