"""Writing and verifying the audit trail. Call `record` inside the service's transaction."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass

from django.db import connection, models, transaction
from django.utils import timezone

from . import audit_confidential, audit_key, context
from .bulk import insert_one, insert_rows
from .models import AuditChain, AuditEvent

GENESIS = "0" * 64


def record(action: str, **fields) -> AuditEvent:
    """Append one event to the chain. Joins the caller's transaction (or opens one).

    The chain has one head row (AuditChain pk=1), locked from here until the caller's transaction
    commits: writers append one at a time, so call `record` as the last write of a service (the lock
    is then held only for the rest of the commit). Everything that does not depend on the previous
    event is prepared before the lock; then three plain statements (lock and read the head; insert the
    event; move the head), the same on every database. `fields`: prepare's keyword arguments."""
    event = prepare(action, **fields)
    return append(event)


def append(event: AuditEvent) -> AuditEvent:
    """Append a prepare'd event (record's write). Joins the caller's transaction (or opens one)."""
    with transaction.atomic(savepoint=False):
        event.seq, event.prev_hash = _lock_head()
        event.seq += 1
        event.hash = event_hash(event)
        insert_one(AuditEvent, event)
        _move_head(event.seq, event.hash)
    return event


def prepare(
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
    at=None,
    ctx=None,
) -> AuditEvent:
    """The event `record` appends, not yet numbered, hashed or written."""
    ctx = ctx or context.current()
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:200]
        if path is None:
            path = getattr(obj, getattr(obj, "scope_field", "path"), "") or ""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    event = AuditEvent(
        at=at or timezone.now(),
        actor=actor,
        actor_name=actor_name if actor_name is not None else (actor.display_name if actor else ""),
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr,
        path=path or "",
        before=before or {},
        after=after or {},
        reason=(reason or "")[:500],
        ip=ctx.ip,
        request_id=ctx.request_id,
    )
    audit_confidential.on_record(event)  # no names or content of confidential objects
    return event


def record_many(events: list[dict]) -> int:
    """Append several events (each a dict of `record`'s keyword arguments plus "action") in one go:
    one lock of the head, one bulk INSERT, one move of the head. For batch work (the deadline
    sweep); joins the caller's transaction. Returns the number appended."""
    if not events:
        return 0
    ctx = context.current()
    at = timezone.now()
    rows = [prepare(**e, at=at, ctx=ctx) for e in events]
    key = audit_key.key()
    with transaction.atomic(savepoint=False):
        seq, prev = _lock_head()
        for event in rows:
            seq += 1
            event.seq, event.prev_hash = seq, prev
            event.hash = prev = event_hash(event, key)
        insert_rows(AuditEvent, rows)
        _move_head(seq, prev)
    return len(rows)


def _lock_head() -> tuple[int, str]:
    """(last_seq, last_hash) of the chain head, locked until the transaction ends (created if missing)."""
    qn = connection.ops.quote_name
    table = qn(AuditChain._meta.db_table)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""  # SQLite: writers serialize
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT last_seq, last_hash FROM {table} WHERE id = 1{lock}")  # noqa: S608
        row = cursor.fetchone()
        if row is None:
            cursor.execute(
                f"INSERT INTO {table} (id, last_seq, last_hash) VALUES (1, 0, %s) ON CONFLICT DO NOTHING",  # noqa: S608
                [GENESIS],
            )
            cursor.execute(f"SELECT last_seq, last_hash FROM {table} WHERE id = 1{lock}")  # noqa: S608
            row = cursor.fetchone()
    return int(row[0]), row[1]


def _move_head(seq: int, last_hash: str) -> None:
    """Point the chain head (locked by the caller) at the event just appended."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {connection.ops.quote_name(AuditChain._meta.db_table)} "  # noqa: S608
            "SET last_seq = %s, last_hash = %s WHERE id = 1",
            [seq, last_hash],
        )


def canonical(event: AuditEvent) -> str:
    """The text an event's hash covers: its fields as compact JSON, keys sorted, the sequence number
    last ("seq" sorts last of the keys)."""
    return f"{_canonical_head(event)}{event.seq}}}"


def _canonical_head(event: AuditEvent) -> str:
    """canonical() up to the sequence number: '{"action":…,"seq":'."""
    at = event.at.astimezone(timezone.UTC).isoformat(timespec="microseconds")
    body = {
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
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))[:-1] + ',"seq":'


def event_hash(event: AuditEvent, key: bytes | None = None) -> str:
    """The event's link: HMAC-SHA256, under the audit key (core/audit_key.py, kept outside the
    database), of the previous event's hash and canonical(). The one place the chain is hashed."""
    return hmac.new(
        key or audit_key.key(), (event.prev_hash + canonical(event)).encode(), hashlib.sha256
    ).hexdigest()


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    broken_seq: int | None = None
    problem: str = ""
    last_seq: int = 0  # the last event checked (and its hash): what a checkpoint signs
    last_hash: str = GENESIS


def verify(
    batch_size: int = 5000, *, after: tuple[int, str] | None = None, upto: int | None = None
) -> VerifyResult:
    """Walk the chain in order; report the first event whose link, content or key does not match.

    `after`: (seq, hash) of an event already vouched for (a checkpoint): start after it, checking that
    the event still has that hash. `upto`: stop at this event (the head read before the walk, so that
    events appended meanwhile are not mistaken for a head that moved), which must then exist."""
    key = audit_key.key()
    expected_seq, expected_prev, checked = 1, GENESIS, 0
    events = AuditEvent.objects.order_by("seq")
    if after is not None and after[0] > 0:
        seq, vouched = after
        if not AuditEvent.objects.filter(seq=seq, hash=vouched).exists():
            return VerifyResult(
                False, 0, seq, f"event #{seq} no longer has the hash it had at the checkpoint"
            )
        expected_seq, expected_prev = seq + 1, vouched
        events = events.filter(seq__gt=seq)
    if upto is not None:
        events = events.filter(seq__lte=upto)
    for event in events.iterator(chunk_size=batch_size):
        if event.seq != expected_seq:
            return VerifyResult(False, checked, expected_seq, f"event #{expected_seq} is missing")
        if event.prev_hash != expected_prev:
            return VerifyResult(False, checked, event.seq, "prev_hash does not match the previous event")
        if event_hash(event, key) != event.hash:
            return VerifyResult(
                False,
                checked,
                event.seq,
                "content does not match its keyed hash (the row was edited, or the chain was rewritten "
                "without the audit key)",
            )
        expected_prev, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
    last_seq = expected_seq - 1
    head = AuditChain.objects.filter(pk=1).first()
    head_seq = upto if upto is not None else (head.last_seq if head else 0)
    if head_seq != last_seq:
        return VerifyResult(
            False, checked, last_seq + 1, f"chain head says {head_seq} events, found {last_seq}"
        )
    return VerifyResult(True, checked, last_seq=last_seq, last_hash=expected_prev)


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
