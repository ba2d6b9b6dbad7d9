"""Writing and verifying the audit trail. Call `record` inside the service's transaction."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from django.db import models, transaction
from django.utils import timezone

from . import context
from .models import AuditChain, AuditEvent

GENESIS = "0" * 64


def record(
    action: str,
    *,
    actor=None,
    obj: models.Model | None = None,
    path: str | None = None,
    before: dict | None = None,
    after: dict | None = None,
    reason: str = "",
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    actor_name: str | None = None,
) -> AuditEvent:
    """Append one event to the chain. Joins the caller's transaction (or opens one)."""
    ctx = context.current()
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:200]
        if path is None:
            path = getattr(obj, getattr(obj, "scope_field", "path"), "") or ""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    with transaction.atomic():
        chain, _ = AuditChain.objects.select_for_update().get_or_create(pk=1)
        event = AuditEvent(
            seq=chain.last_seq + 1,
            at=timezone.now(),
            actor=actor,
            actor_name=actor_name if actor_name is not None else (actor.display_name if actor else ""),
            action=action,
            object_type=object_type,
            object_id=object_id,
            object_repr=object_repr,
            path=path or "",
            before=before or {},
            after=after or {},
            reason=reason[:500],
            ip=ctx.ip,
            request_id=ctx.request_id,
            prev_hash=chain.last_hash,
        )
        event.hash = event_hash(event)
        event.save(force_insert=True)
        AuditChain.objects.filter(pk=1).update(last_seq=event.seq, last_hash=event.hash)
    return event


def canonical(event: AuditEvent) -> str:
    at = event.at.astimezone(timezone.UTC).isoformat(timespec="microseconds")
    body = {
        "seq": event.seq,
        "at": at,
        "actor": event.actor_id,
        "actor_name": event.actor_name,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object_repr": event.object_repr,
        "path": event.path,
        "before": event.before,
        "after": event.after,
        "reason": event.reason,
        "ip": event.ip,
        "request_id": event.request_id,
    }
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def event_hash(event: AuditEvent) -> str:
    return hashlib.sha256((event.prev_hash + canonical(event)).encode()).hexdigest()


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    broken_seq: int | None = None
    problem: str = ""


def verify(batch_size: int = 5000) -> VerifyResult:
    """Walk the chain in order; report the first event whose link or content does not match."""
    expected_prev, expected_seq, checked = GENESIS, 1, 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=batch_size):
        if event.seq != expected_seq:
            return VerifyResult(False, checked, expected_seq, f"event #{expected_seq} is missing")
        if event.prev_hash != expected_prev:
            return VerifyResult(False, checked, event.seq, "prev_hash does not match the previous event")
        if event_hash(event) != event.hash:
            return VerifyResult(False, checked, event.seq, "content does not match its hash (row was edited)")
        expected_prev, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
    head = AuditChain.objects.filter(pk=1).first()
    if head and head.last_seq != checked:
        return VerifyResult(
            False, checked, checked + 1, f"chain head says {head.last_seq} events, found {checked}"
        )
    return VerifyResult(True, checked)


def sees_unplaced(scope) -> bool:
    """Events without a place (logins, accounts): only for auditors of everything or of a top-level place."""
    return scope.everywhere or any(p.count(".") == 1 for p in scope.prefixes)


def events_for_user(
    user, *, actor_id=None, action=None, path=None, since=None, until=None, perm="audit.view"
):
    """The events `user` may audit, newest first; None when the user may audit nothing (→ 403).

    An event belongs to the place in its `path`; events with no place (logins, user accounts) are
    visible to auditors whose reach includes a whole top-level place (or everywhere).
    """
    from .scope import scope_for, under

    scope = scope_for(user, perm)
    if scope.is_empty:
        return None
    condition = scope.q("path")
    if not scope.everywhere and sees_unplaced(scope):
        condition |= models.Q(path="")
    events = AuditEvent.objects.filter(condition).select_related("actor").order_by("-seq")
    if actor_id:
        events = events.filter(actor_id=actor_id)
    if action:
        exact = not action.endswith(".")
        events = events.filter(action=action) if exact else events.filter(action__startswith=action)
    if path:
        events = events.filter(under(path))
    if since:
        events = events.filter(at__gte=since)
    if until:
        events = events.filter(at__lt=until)
    return events
