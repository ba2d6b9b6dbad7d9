"""Writing and verifying the audit trail. Call `record` inside the service's transaction."""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass

from django.db import connection, models, transaction
from django.utils import timezone

from . import context
from .bulk import insert_one, insert_rows, row_values
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
    """Append one event to the chain. Joins the caller's transaction (or opens one).

    The chain has one head row (AuditChain pk=1), locked from here until the caller's transaction
    commits: writers append one at a time, so call `record` as the last write of a service (the lock
    is then held only for the rest of the commit). Everything that does not depend on the previous
    event is prepared before the lock. On PostgreSQL one statement locks the head, writes the event
    with its hash and moves the head (_append_at_head); elsewhere two (lock and read the head; insert
    the event and move the head). Plain SQL, without savepoints."""
    ctx = context.current()
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:200]
        if path is None:
            path = getattr(obj, getattr(obj, "scope_field", "path"), "") or ""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    event = AuditEvent(
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
    )
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql":
            _append_at_head(event)
        else:
            event.seq, event.prev_hash = _lock_head()
            event.seq += 1
            event.hash = event_hash(event)
            _append(event)
    return event


def record_many(events: list[dict]) -> int:
    """Append several events (each a dict of `record`'s keyword arguments plus "action") in one go:
    one lock of the head, one bulk INSERT, one move of the head. For batch work (the deadline
    sweep); joins the caller's transaction. Returns the number appended."""
    if not events:
        return 0
    ctx = context.current()
    at = timezone.now()
    rows = []
    for e in events:
        obj, actor = e.get("obj"), e.get("actor")
        if actor is not None and not getattr(actor, "is_authenticated", False):
            actor = None
        path = e.get("path")
        if obj is not None and path is None:
            path = getattr(obj, getattr(obj, "scope_field", "path"), "") or ""
        name = e.get("actor_name")
        rows.append(
            AuditEvent(
                at=at,
                actor=actor,
                actor_name=name if name is not None else (actor.display_name if actor else ""),
                action=e["action"],
                object_type=e.get("object_type") or (obj._meta.label_lower if obj is not None else ""),
                object_id=e.get("object_id") or (str(obj.pk) if obj is not None else ""),
                object_repr=e.get("object_repr") or (str(obj)[:200] if obj is not None else ""),
                path=path or "",
                before=e.get("before") or {},
                after=e.get("after") or {},
                reason=(e.get("reason") or "")[:500],
                ip=ctx.ip,
                request_id=ctx.request_id,
            )
        )
    with transaction.atomic(savepoint=False):
        seq, prev = _lock_head()
        for event in rows:
            seq += 1
            event.seq, event.prev_hash = seq, prev
            event.hash = prev = event_hash(event)
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


def _append(event: AuditEvent) -> None:
    """INSERT the event and move the chain head to it (SQLite and other databases without
    _append_at_head; the head is locked)."""
    insert_one(AuditEvent, event)
    _move_head(event.seq, event.hash)


def _move_head(seq: int, last_hash: str) -> None:
    """Point the chain head (locked by the caller) at the event just appended."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {connection.ops.quote_name(AuditChain._meta.db_table)} "  # noqa: S608
            "SET last_seq = %s, last_hash = %s WHERE id = 1",
            [seq, last_hash],
        )


# The event's columns whose values come from the chain head, and what the database computes for them:
# the hash is event_hash's, SHA-256 over the previous hash and canonical() (its head is the parameter).
_FROM_HEAD = {
    "seq": "h.seq",
    "prev_hash": "h.prev",
    "hash": "encode(sha256(convert_to(h.prev || %s || h.seq::text || '}', 'UTF8')), 'hex')",
}


@functools.cache
def _at_head_statement(columns: tuple[str, ...]) -> str:
    """PostgreSQL: lock the head, INSERT the event numbered and hashed from it, move the head to it;
    returns (id, seq, prev_hash, hash), or no row when the head is missing. Built once per process."""
    qn = connection.ops.quote_name
    fields = {qn(f.column): f for f in AuditEvent._meta.concrete_fields}
    exprs = []
    for column in columns:
        field = fields[column]
        if field.attname in _FROM_HEAD:
            exprs.append(_FROM_HEAD[field.attname])
        else:  # typed (INSERT … SELECT does not take the column's type); lengths are the column's
            exprs.append(f"CAST(%s AS {re.sub(r'[(][0-9, ]+[)]', '', field.db_type(connection))})")
    head, events = qn(AuditChain._meta.db_table), qn(AuditEvent._meta.db_table)
    return (
        f"WITH h AS (SELECT last_seq + 1 AS seq, last_hash AS prev FROM {head} WHERE id = 1 FOR UPDATE), "  # noqa: S608  (names, not input)
        f"e AS (INSERT INTO {events} ({', '.join(columns)}) SELECT {', '.join(exprs)} FROM h "
        "RETURNING id, seq, prev_hash, hash), "
        f"m AS (UPDATE {head} SET last_seq = e.seq, last_hash = e.hash FROM e WHERE {head}.id = 1) "
        "SELECT id, seq, prev_hash, hash FROM e"
    )


def _append_at_head(event: AuditEvent) -> None:
    """Append `event` in one statement (PostgreSQL), the database numbering and hashing it under the
    head's lock; the hash is checked against event_hash before the caller's transaction goes on."""
    qn = connection.ops.quote_name
    columns, values = row_values(AuditEvent, event, with_pk=False)
    params = []
    for column, value in zip(columns, values, strict=True):
        if column == qn("hash"):
            params.append(_canonical_head(event))
        elif column not in (qn("seq"), qn("prev_hash")):
            params.append(value)
    sql = _at_head_statement(tuple(columns))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
        if row is None:  # no head yet (a new database): create it, then append
            _lock_head()
            cursor.execute(sql, params)
            row = cursor.fetchone()
    event.pk, event.seq, event.prev_hash, event.hash = row
    if event_hash(event) != event.hash:
        raise RuntimeError(f"audit event #{event.seq}: the database's hash is not event_hash's")
    event._state.adding = False
    event._state.db = connection.alias


def canonical(event: AuditEvent) -> str:
    """The text an event's hash covers: its fields as compact JSON, keys sorted, the sequence number
    last ("seq" sorts last of the keys)."""
    return f"{_canonical_head(event)}{event.seq}}}"


def _canonical_head(event: AuditEvent) -> str:
    """canonical() up to the sequence number: '{"action":…,"seq":' (the database appends the number
    and the closing brace when it numbers the event, _append_at_head)."""
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
