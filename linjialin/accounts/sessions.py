"""One's own signed-in sessions: recorded at sign-in, touched by the idle-timeout middleware, listed on
the sessions page, ended by "sign out others" and by a password change.

Django's session rows carry no user column, so each sign-in also writes a UserSession row with the
session key, the device (user agent) and the address. A row whose Django session is gone (logged out,
expired, cleared) is not listed.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from linjialin.core import audit
from linjialin.core.middleware import client_ip

from .models import User, UserSession

TOUCH_EVERY = timedelta(minutes=1)  # "last seen" on the sessions page, not the idle timeout
TRACKED = "_tracked_session"  # the session key this session's UserSession row was written for


def track(request, user: User) -> None:
    """Record the request's session (after sign-in, or after its key was cycled)."""
    session = request.session
    if session.session_key is None:
        session.save()
    key = session.session_key
    now = timezone.now()
    UserSession.objects.update_or_create(
        session_key=key,
        defaults={
            "user": user,
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300],
            "ip": client_ip(request),
            "last_seen": now,
        },
        create_defaults={
            "user": user,
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300],
            "ip": client_ip(request),
            "created_at": now,
            "last_seen": now,
        },
    )
    session[TRACKED] = key
    session["_tracked_at"] = now.timestamp()


def touch(request) -> None:
    """Called on each signed-in request: keep "last seen" within a minute, and write the row again when
    the session key changed (a password change cycles it)."""
    session = request.session
    key = session.session_key
    if key is None:
        return
    if session.get(TRACKED) != key:
        track(request, request.user)
        return
    now = timezone.now()
    last = session.get("_tracked_at", 0)
    if now.timestamp() - last >= TOUCH_EVERY.total_seconds():
        UserSession.objects.filter(session_key=key).update(last_seen=now, ip=client_ip(request))
        session["_tracked_at"] = now.timestamp()


def forget(request) -> None:
    key = getattr(request, "session", None) and request.session.session_key
    if key:
        UserSession.objects.filter(session_key=key).delete()


def list_sessions_for_user(user: User) -> list[UserSession]:
    """The user's sessions still alive (their Django session exists and has not expired)."""
    rows = list(UserSession.objects.filter(user=user))
    alive = set(
        Session.objects.filter(
            session_key__in=[r.session_key for r in rows], expire_date__gt=timezone.now()
        ).values_list("session_key", flat=True)
    )
    return [r for r in rows if r.session_key in alive]


def sign_out_other_sessions(actor: User, *, keep_key: str | None, reason: str = "") -> int:
    """End every session of `actor` except `keep_key` (the one asking). Returns how many ended."""
    with transaction.atomic():
        others = UserSession.objects.filter(user=actor).exclude(session_key=keep_key or "")
        keys = list(others.values_list("session_key", flat=True))
        Session.objects.filter(session_key__in=keys).delete()
        others.delete()
        audit.record(
            "sessions.signed_out_others",
            actor=actor,
            obj=actor,
            path="",
            after={"sessions": len(keys)},
            reason=reason,
        )
    return len(keys)
