"""Reads of the inbox: a person sees their own messages only."""

from __future__ import annotations

from django.shortcuts import get_object_or_404

from .models import Notification


def inbox(user):
    return Notification.objects.filter(user=user).order_by("-created_at", "-id")


def unread_count(user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def get_for_user(user, pk: int) -> Notification:
    """Someone else's message and a missing one are both 404."""
    return get_object_or_404(Notification, pk=pk, user=user)
