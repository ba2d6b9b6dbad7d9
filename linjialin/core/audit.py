"""Writing and verifying the audit trail. Call `record` inside the service's transaction."""

from __future__ import annotations

import functools
import hashlib
import json
import secrets
from dataclasses import dataclass

from django.db import connection, models, transaction
from django.utils import timezone

from . import context
from .bulk import cast_placeholder, insert_one, insert_rows, row_values
from .models import AuditChain, AuditEvent

GENESIS = "0" * 64


def record(action: str, **fields) -> AuditEvent:
    """Append one event to the chain. Joins the caller's transaction (or opens one).

    The chain has one head row (AuditChain pk=1), locked from here until the caller's transaction
    commits: writers append one at a time, so call `record` as the last write of a service (the lock
    is then held only for the rest of the commit). Everything that does not depend on the previous
    event is prepared before the lock. On PostgreSQL one statement locks the head, writes the event
    with its hash and moves the head (_append_at_head); elsewhere two (lock and read the head; insert
    the event and move the head). Plain SQL, without savepoints. (A service whose whole write is one
    statement can append its event in that statement: `at_head`.) `fields`: prepare's keyword arguments."""
    event = prepare(action, **fields)
    return append(event)


def append(event: AuditEvent) -> AuditEvent:
    """Append a prepare'd event (record's write). Joins the caller's transaction (or opens one)."""
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql":
            _append_at_head(event)
        else:
            event.seq, event.prev_hash = _lock_head()
            event.seq += 1
            event.hash = event_hash(event)
            _append(event)
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
    return AuditEvent(
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


def record_many(events: list[dict]) -> int:
    """Append several events (each a dict of `record`'s keyword arguments plus "action") in one go:
    one lock of the head, one bulk INSERT, one move of the head. For batch work (the deadline
    sweep); joins the caller's transaction. Returns the number appended."""
    if not events:
        return 0
    ctx = context.current()
    at = timezone.now()
    rows = [prepare(**e, at=at, ctx=ctx) for e in events]
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
    "seq": "audit_h.seq",
    "prev_hash": "audit_h.prev",
    "hash": "encode(sha256(convert_to(audit_h.prev || {text} || audit_h.seq::text || '}}', 'UTF8')), 'hex')",
}


@functools.cache
def _at_head_ctes(columns: tuple[str, ...], filled: tuple[bool, ...], fills: tuple[str, ...]) -> str:
    """The CTEs of at_head for these columns; `filled[i]`: column i's text (for the hash, the canonical
    text) has placeholders, each replaced by the expression in `fills` (placeholders are parameters, the
    expressions code). Built once per process and shape."""
    qn = connection.ops.quote_name
    fields = {qn(f.column): f for f in AuditEvent._meta.concrete_fields}

    def text(fill: bool) -> str:  # a text parameter, its placeholders replaced by the statement's values
        sql = "%s"
        for expr in fills if fill else ():
            sql = f"replace({sql}, %s, {expr})"
        return sql

    exprs = []
    for column, fill in zip(columns, filled, strict=True):
        field = fields[column]
        if field.attname == "hash":
            exprs.append(_FROM_HEAD["hash"].format(text=text(fill)))
        elif field.attname in _FROM_HEAD:
            exprs.append(_FROM_HEAD[field.attname])
        else:  # typed (INSERT … SELECT does not take the column's type)
            exprs.append(cast_placeholder(field, text(fill)))
    head, events = qn(AuditChain._meta.db_table), qn(AuditEvent._meta.db_table)
    return (
        f"audit_h AS (SELECT last_seq + 1 AS seq, last_hash AS prev FROM {head} WHERE id = 1 FOR UPDATE), "  # noqa: S608  (names, not input)
        f"audit_e AS (INSERT INTO {events} ({', '.join(columns)}) SELECT {', '.join(exprs)} FROM audit_h "
        "RETURNING id, seq, prev_hash, hash), "
        f"audit_m AS (UPDATE {head} SET last_seq = audit_e.seq, last_hash = audit_e.hash FROM audit_e "
        f"WHERE {head}.id = 1)"
    )


def placeholder(name: str) -> str:
    """A text no one can guess, to stand in an event's text fields for a value only the writing statement
    knows (at_head's `fill`): user text that happens to contain it cannot change what is hashed."""
    return f"[{name}:{secrets.token_hex(16)}]"


def at_head(event: AuditEvent, fill: dict[str, str] | None = None) -> tuple[str, list]:
    """PostgreSQL: common table expressions that append `event` at the chain head, for a statement of the
    caller's that writes its change and its audit event at once (with no transaction of its own when it is
    the only write). They lock the head (`audit_h`, one row; none when the chain has no head yet, so a
    caller's INSERT … FROM audit_h writes nothing then), insert the event numbered and hashed by the
    database (`audit_e`: id, seq, prev_hash, hash) and move the head. Returns the SQL of the CTEs and
    their parameters; after the statement, appended() checks the hash.

    `fill` maps placeholder() texts in the event's text fields (not in before/after) to SQL expressions of
    the caller's statement giving text that JSON writes as it is (digits, letters), e.g. the id of the row
    it inserts: `{ph: "(SELECT n FROM s)::text"}`."""
    qn = connection.ops.quote_name
    fill = fill or {}
    marks = list(fill)
    columns, values = row_values(AuditEvent, event, with_pk=False)
    params, filled = [], []
    for column, value in zip(columns, values, strict=True):
        if column in (qn("seq"), qn("prev_hash")):  # from the head: no parameter
            filled.append(False)
            continue
        if column == qn("hash"):  # the canonical text before the sequence number
            value = _canonical_head(event)
        has = isinstance(value, str) and any(m in value for m in marks)
        params += [value, *marks] if has else [value]
        filled.append(has)
    return _at_head_ctes(tuple(columns), tuple(filled), tuple(fill[m] for m in marks)), params


def appended(event: AuditEvent, row, values: dict[str, str] | None = None) -> None:
    """After a statement with at_head's CTEs: `row` is audit_e's (id, seq, prev_hash, hash), `values` the
    texts the placeholders stood for. Stores them on `event` and checks the database's hash against
    event_hash's (RuntimeError if they differ: an unverifiable chain is refused inside a transaction; a
    statement on its own has committed by then, and the error says which event `verify` will name)."""
    for mark, value in (values or {}).items():
        for field in AuditEvent._meta.concrete_fields:  # the text columns at_head filled in
            text = getattr(event, field.attname)
            if isinstance(text, str) and mark in text:
                setattr(event, field.attname, text.replace(mark, value))
    event.pk, event.seq, event.prev_hash, event.hash = row
    if event_hash(event) != event.hash:
        raise RuntimeError(f"audit event #{event.seq}: the database's hash is not event_hash's")
    event._state.adding = False
    event._state.db = connection.alias


def ensure_head() -> None:
    """Create the chain head if there is none (a new database): then at_head's statements write."""
    _lock_head()


def _append_at_head(event: AuditEvent) -> None:
    """Append `event` in one statement (PostgreSQL, within the caller's transaction), the database
    numbering and hashing it under the head's lock (at_head)."""
    ctes, params = at_head(event)
    sql = f"WITH {ctes} SELECT id, seq, prev_hash, hash FROM audit_e"  # noqa: S608  (built from names)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
        if row is None:  # no head yet (a new database): create it, then append
            ensure_head()
            cursor.execute(sql, params)
            row = cursor.fetchone()
    appended(event, row)


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
