"""Writes for notifications: `notify` (inbox rows + one delivery task per external channel, in the
caller's transaction), `notify_many` (the same for many messages at once: the deadline sweep) and
`mark_read` / `mark_all_read` (the recipient only), `mark_subject_read` (the viewer opened the object)
and `settle` (the object moved on: earlier "please act" messages to people who no longer act are read).

Titles and bodies may be lazy translations (gettext_lazy) with `params`: each recipient's copy is
rendered in their own language (User.language, else settings.LANGUAGE_CODE)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.functional import Promise

from linjialin.core import audit
from linjialin.core.bulk import chunks, insert_one
from linjialin.core.rows import param as db_value

from .channels import channel_paths
from .models import Notification
from .tasks import deliver, deliver_many


def language_of(user) -> str:
    """The user's language if the site offers it, else the site's default."""
    language = getattr(user, "language", "") or ""
    return language if language in {code for code, _name in settings.LANGUAGES} else settings.LANGUAGE_CODE


def render(text, params: dict | None, language: str) -> str:
    """`text` (a string or a lazy translation) in `language`, with `params` filled in."""
    if not text:
        return ""
    with translation.override(language):
        out = str(text)
        if params:
            out = out % {k: str(v) if isinstance(v, Promise) else v for k, v in params.items()}
    return out


def notify(
    users: Iterable,
    *,
    kind: str,
    title,
    body="",
    params: dict | None = None,
    link: str = "",
    path: str = "",
    dedupe_key: str = "",
    actor=None,
    subject: str = "",
) -> list[Notification]:
    """Put a message in each user's inbox and enqueue its delivery over every configured channel.

    Runs in the caller's transaction (or its own): the inbox rows and the task rows commit or roll
    back together with the change that caused them. With a `dedupe_key`, a user who already has a
    message with that key is skipped — running the same sweep again never notifies twice. Inactive
    users and duplicates in `users` are skipped. `subject` (see subject_of) names the object the
    message is about. Returns the rows created.
    """
    recipients = {u.pk: u for u in users if u is not None and u.is_active}
    if not recipients:
        return []
    created: list[Notification] = []
    rendered: dict[str, tuple[str, str]] = {}  # language → (title, body): rendered once per language
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
            language = language_of(recipients[user_id])
            if language not in rendered:
                rendered[language] = (render(title, params, language)[:200], render(body, params, language))
            row = Notification(
                user_id=user_id,
                kind=kind,
                title=rendered[language][0],
                body=rendered[language][1],
                link=link[:300],
                path=path,
                dedupe_key=dedupe_key[:120],
                subject=subject[:80],
            )
            if not dedupe_key:  # nothing unique to collide with: one plain INSERT
                insert_one(Notification, row)
            else:
                try:
                    with transaction.atomic():  # a savepoint: a concurrent sweep may insert the same key
                        insert_one(Notification, row)
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
                object_repr=render(title, params, settings.LANGUAGE_CODE)[:200],
                after={"kind": kind, "users": [r.user_id for r in created], "channels": channels},
            )
    return created


@dataclass
class Message:
    """One message to several users (see notify)."""

    users: list
    kind: str
    title: object  # str or a lazy translation
    body: object = ""
    params: dict = field(default_factory=dict)
    link: str = ""
    path: str = ""
    dedupe_key: str = ""
    subject: str = ""


def notify_many(messages: list[Message], *, actor=None) -> int:
    """`notify` for many messages at once, in the caller's transaction: one query for the dedupe keys
    already used, one INSERT for the inbox rows, one delivery task per channel for each 500 rows
    (`deliver_many`) and one audit event per message, appended to the chain in one go. Users who
    already hold a message's dedupe key, inactive users and duplicates are skipped. If a concurrent
    writer inserted one of the keys meanwhile, falls back to `notify` message by message (each key
    once). Returns the number of inbox rows created."""
    todo = []
    for m in messages:
        users = {u.pk: u for u in m.users if u is not None and u.is_active}
        if users:
            todo.append((m, users))
    if not todo:
        return 0
    seen: set[tuple[int, str]] = set()
    keys = sorted({m.dedupe_key[:120] for m, _users in todo if m.dedupe_key})
    for part in chunks(keys, 500):
        seen.update(Notification.objects.filter(dedupe_key__in=part).values_list("user_id", "dedupe_key"))
    rows: list[Notification] = []
    sent: list[tuple[Message, list[int]]] = []
    now = timezone.now()
    templates: dict[tuple[int, str], str] = {}  # (id of a text, language) → the translated text

    def fill(text, params: dict, language: str) -> str:
        if not text:
            return ""
        key = (id(text), language)
        if key not in templates:
            with translation.override(language):
                templates[key] = str(text)
        if not params:
            return templates[key]
        values = {k: render(v, None, language) if isinstance(v, Promise) else v for k, v in params.items()}
        return templates[key] % values

    for m, users in todo:
        key = m.dedupe_key[:120]
        fresh = [pk for pk in sorted(users) if not key or (pk, key) not in seen]
        if not fresh:
            continue
        rendered: dict[str, tuple[str, str]] = {}
        for pk in fresh:
            language = language_of(users[pk])
            if language not in rendered:
                rendered[language] = (
                    fill(m.title, m.params, language)[:200],
                    fill(m.body, m.params, language),
                )
            title, body = rendered[language]
            rows.append(
                Notification(
                    user_id=pk,
                    kind=m.kind,
                    title=title,
                    body=body,
                    link=m.link[:300],
                    path=m.path,
                    dedupe_key=key,
                    subject=m.subject[:80],
                    created_at=now,
                )
            )
        sent.append((m, fresh))
    if not rows:
        return 0
    try:
        with transaction.atomic():  # a savepoint: a concurrent writer may have used a key meanwhile
            Notification.objects.bulk_create(rows, batch_size=1000)
    except IntegrityError:
        return sum(
            len(
                notify(
                    m.users,
                    kind=m.kind,
                    title=m.title,
                    body=m.body,
                    params=m.params,
                    link=m.link,
                    path=m.path,
                    dedupe_key=m.dedupe_key,
                    actor=actor,
                    subject=m.subject,
                )
            )
            for m, _users in todo
        )
    channels = channel_paths()
    ids = [row.pk for row in rows]
    for channel in channels:
        for part in chunks(ids, 500):
            deliver_many.enqueue(list(part), channel)
    audit.record_many(
        [
            {
                "action": "notification.sent",
                "actor": actor,
                "path": m.path,
                "object_type": "notifications.notification",
                "object_id": m.dedupe_key,
                "object_repr": fill(m.title, m.params, settings.LANGUAGE_CODE)[:200],
                "after": {"kind": m.kind, "users": fresh, "channels": channels},
            }
            for m, fresh in sent
        ]
    )
    return len(rows)


def mark_read(user, notification: Notification) -> bool:
    """The recipient marks one message read, with every other message of theirs about the same object
    (the inbox shows them as one row). True if it was unread (compare-and-set: twice is harmless).

    Not audited: the recipient's own reading of their inbox changes no governed data."""
    if notification.user_id != getattr(user, "pk", None):
        raise PermissionDenied
    now = timezone.now()
    changed = Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
    if notification.subject:
        mark_subject_read(user, notification.subject)
    if changed:
        notification.read_at = now
    return bool(changed)


def subject_of(obj) -> str:
    """The subject key of a model instance: "<app_label>.<model>:<pk>"."""
    return f"{obj._meta.label_lower}:{obj.pk}"


def mark_subject_read(user, subject: str) -> int:
    """The viewer opened the object: their messages about it are read. One indexed UPDATE (usually of
    nothing); the number marked."""
    if not subject or user is None or not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(user=user, subject=subject, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def settle(subjects, *, kinds: Iterable[str] | None = None, keep: Iterable = ()) -> int:
    """The objects moved on (a new owner, closed, merged): the unread messages about them of `kinds`
    (all kinds when None) are marked read for everyone but the users in `keep` (who still have to act).
    In the caller's transaction; the number marked."""
    if isinstance(subjects, str):
        subjects = [subjects]
    subjects = [s for s in subjects if s]
    if not subjects:
        return 0
    # Notification.objects.filter(subject__in=…, read_at__isnull=True, kind__in=…).exclude(user_id__in=…)
    # .update(read_at=now) as one plain statement: every step of a request settles its notices
    marks = lambda values: ", ".join(["%s"] * len(values))  # noqa: E731
    where, params = [f"subject IN ({marks(subjects)})", "read_at IS NULL"], [*subjects]
    if kinds is not None:
        kinds = list(kinds)
        if not kinds:
            return 0
        where.append(f"kind IN ({marks(kinds)})")
        params += kinds
    kept = sorted({getattr(u, "pk", u) for u in keep if u is not None})
    if kept:
        where.append(f"user_id NOT IN ({marks(kept)})")
        params += kept
    table = connection.ops.quote_name(Notification._meta.db_table)
    sql = f"UPDATE {table} SET read_at = %s WHERE {' AND '.join(where)}"  # noqa: S608 (placeholders only)
    with connection.cursor() as cursor:
        cursor.execute(sql, [db_value(timezone.now()), *params])
        return cursor.rowcount


def mark_all_read(user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
