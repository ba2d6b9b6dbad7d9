"""The deadline sweep (every minute, by `linjialin beat`): reminders, 督办 when overdue, automatic escalation.

`sweep(now)` does four things, each safe to run twice or in two workers at once, and each set-based:
a batch of due rows is read, locked and changed with one UPDATE per kind, and its timeline events,
audit events and notices are written with one bulk INSERT each (core.bulk, audit.record_many,
notifications.notify_many), all in one transaction per batch.

1. **Acceptance timed out** (submitted/escalated, `accept_by < now`): escalate one level up as the
   system (the workflow's `escalate` transition, actor None), with a fresh acceptance window; at the
   subdistrict (or a department) there is no level above: 督办 (`supervised`) and a notice to the
   dispatchers.
2. **Resolution overdue** (accepted/in progress/extension requested, `resolve_by < now`, not yet
   supervised): `supervised = true` (督办), an "overdue" timeline event, an audit event and notices to
   the handler and the supervisors of the nearest level above.
3. **First contact overdue** (accepted and not yet contacted, `contact_by < now`, not yet supervised):
   the same 督办 with the limit "contact" (接诉即办条例 Art. 15(1): contact the requester promptly).
4. **Reminder at 75 %** of the acceptance window, the first-contact limit (accepted requests) or the
   resolution limit: a notice to the handler (or the handlers at the request's level), with dedupe key
   `remind:<id>:<deadline>` (`remind-contact:<id>:<deadline>` for the contact) — one per deadline.

Compare-and-set: the due rows are selected again under a row lock (`FOR UPDATE SKIP LOCKED` on
PostgreSQL: a row a handler or another sweep holds is left for the next run; SQLite serialises
writers), with the due condition repeated, and the UPDATE repeats it once more; only the rows it
changed get events and notices. A second sweep finds them no longer due. Notices carry dedupe keys
(`escalated:<id>:<from level>`, `overdue:<id>:<deadline>`, `remind:<id>:<deadline>`), so even a
replayed batch never notifies anyone twice.

Reminders look back to the previous sweep (its time is kept as a watermark, a core ScheduledSlot row
named REMINDER_WATERMARK): a reminder point that passed while the beat or the worker was down is still
reminded once on the next run, as long as the request is open and not yet overdue. Without a
watermark (the first run) the look-back is CATCH_UP.

75 % is measured in the limit's own unit: a clock-hour limit of H hours reminds H/4 hours before the
deadline; a limit of n working days reminds when n/4 working days remain (counted back from the
deadline over working days only, holidays skipped), e.g. 1 working day → 18:00 on the due day.

Notices are rendered in each recipient's language (User.language); timeline notes and audit reasons in
the site language (settings.LANGUAGE_CODE).

Cost when nothing is due: the three "due" queries are range scans on the indexed `accept_by` /
`contact_by` / `resolve_by` columns that find nothing; the reminder query is one range scan per
distinct limit over the deadlines whose reminder point fell since the previous run.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy, override

from linjialin.accounts.selectors import holders
from linjialin.core import audit
from linjialin.core import rows as plain
from linjialin.core.bulk import insert_rows
from linjialin.core.calendar import deadline as deadline_after
from linjialin.core.models import ScheduledSlot
from linjialin.notifications.services import Message, notify_many, settle, subject_of

from .due import (  # noqa: F401 (reminder_point: sweep.reminder_point stays importable)
    ACCEPT_STATES,
    RESOLVE_STATES,
    _deadline_range,
    _limits,
    _PolicyCache,
    is_due_soon,
    remaining_share,
    reminder_point,
)
from .holdings import hand_over_many
from .models import HandlingLevel, HoldingEnd, RequestEvent, ServiceRequest, State, TimeLimitPolicy
from .notices import nearest_supervisors
from .policy_cache import policies as cached_policies
from .selectors import unit_members
from .workflow import workflow

logger = logging.getLogger("linjialin.sweep")

BATCH = 1000  # rows per kind per run; the rest next minute
REMINDER_PAGE = 2000  # reminder rows read per query (all pages are done in one run)
REMINDER_WATERMARK = "requests_sweep.reminded_until"
CATCH_UP = timedelta(days=31)  # reminder look-back of a first run (no watermark yet)

# Texts: notices are rendered per recipient (lazy), timeline notes and audit reasons in the site language.
ESCALATED_NOTE = gettext_lazy("Not accepted within the acceptance window: escalated automatically.")
TOP_NOTE = gettext_lazy("Not accepted in time at the top of the chain: under supervision (督办).")
OVERDUE_NOTE = gettext_lazy("Not resolved in time: under supervision (督办).")
CONTACT_NOTE = gettext_lazy("The requester was not contacted in time: under supervision (督办).")
ESCALATED_TITLE = gettext_lazy("Request %(number)s escalated to you")
ESCALATED_BODY = gettext_lazy("It was not accepted in time at the level below. Please accept it by %(due)s.")
OVERDUE_TITLE = gettext_lazy("Request %(number)s is overdue (督办)")
OVERDUE_BODY = gettext_lazy("The deadline was %(due)s.")
CONTACT_TITLE = gettext_lazy("Request %(number)s: the requester was not contacted in time (督办)")
CONTACT_BODY = gettext_lazy("The first contact with the requester was due by %(due)s.")
REMINDER_TITLE = gettext_lazy("Request %(number)s is due soon")
REMINDER_ACCEPT_BODY = gettext_lazy("Please accept it by %(due)s.")
REMINDER_RESOLVE_BODY = gettext_lazy("Please resolve it by %(due)s.")
REMINDER_CONTACT_TITLE = gettext_lazy("Request %(number)s: contact the requester soon")
REMINDER_CONTACT_BODY = gettext_lazy("Please contact the requester by %(due)s.")

# accepted and not yet contacted: the contact transition moves a request on to "in progress"
CONTACT_STATES = (State.ACCEPTED,)


@dataclass
class SweepReport:
    now: datetime
    escalated: list[int] = field(default_factory=list)
    supervised: list[int] = field(default_factory=list)  # 督办: overdue resolution, or timed out at the top
    reminded: list[int] = field(default_factory=list)
    skipped: int = 0  # changed or locked by someone else meanwhile
    more: bool = False  # a batch was full: the next run continues

    def as_dict(self) -> dict:
        return {
            "now": self.now.isoformat(),
            "escalated": self.escalated,
            "supervised": self.supervised,
            "reminded": self.reminded,
            "skipped": self.skipped,
            "more": self.more,
        }


def sweep(now: datetime | None = None) -> SweepReport:
    now = now or timezone.now()
    report = SweepReport(now=now)
    with override(settings.LANGUAGE_CODE):  # timeline notes and audit reasons; notices per recipient
        recipients = _Recipients()
        _acceptance_timeouts(now, report, recipients)
        _overdue("resolve", now, report, recipients)
        _overdue("contact", now, report, recipients)
        _reminders(now, report, recipients)
    if report.escalated or report.supervised or report.reminded:
        logger.info(
            "sweep: %d escalated, %d supervised, %d reminded, %d skipped",
            len(report.escalated),
            len(report.supervised),
            len(report.reminded),
            report.skipped,
        )
    return report


# --- recipients (looked up once per place and level in a run) --------------------------------------------
class _Recipients:
    """Who is told, cached for one sweep: the answer depends only on the place's ancestors at the
    levels asked for, so requests in the same entrance (or grid …) share one query."""

    def __init__(self):
        self.cache: dict[tuple, list] = {}

    def _holding(self, perm: str, path: str, level: int | None) -> list:
        parts = path.split(".")[:-1]
        # grants at place level L sit on the ancestor with L path segments: cut the path there
        key_path = ".".join(parts[:level]) + "." if level and len(parts) >= level else path
        key = (perm, key_path, level)
        if key not in self.cache:
            levels = {level} if level is not None else None
            self.cache[key] = holders(perm, key_path, levels=levels)
        return self.cache[key]

    def handlers(self, req: ServiceRequest) -> list:
        """The owning handler once accepted (首接负责), else everyone who may handle it at its level."""
        if req.handler_id and req.state in RESOLVE_STATES:
            return [req.handler]
        if req.level == HandlingLevel.DEPARTMENT and req.unit_id:
            key = ("unit", req.unit_id)
            if key not in self.cache:
                self.cache[key] = unit_members(req.unit_id)
            return self.cache[key]
        return self._holding("requests.handle", req.path, req.level)

    def supervisors_above(self, req: ServiceRequest) -> list:
        """Supervisors (requests.supervise) of the nearest level above the handling level that has any;
        at the subdistrict or a department, the subdistrict's own."""
        start = max(req.level - 1, HandlingLevel.SUBDISTRICT)
        return nearest_supervisors(
            req, start, lambda level: self._holding("requests.supervise", req.path, level)
        )

    def dispatchers(self, req: ServiceRequest) -> list:
        return self._holding("requests.dispatch", req.path, None)


def _link(req: ServiceRequest) -> str:
    try:
        return reverse("requests:detail", args=[req.pk])
    except NoReverseMatch:  # the request pages are not installed
        return ""


def _locked(due, ids: list[int]) -> list[ServiceRequest]:
    """The rows of `ids` that are still due, locked until the transaction ends (rows someone else holds
    are skipped: they are being changed and get looked at again next minute)."""
    return list(
        due.filter(pk__in=ids)
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("handler")
        .order_by("pk")
    )


def _due_ids(where: str, params: list, order: str) -> list[int]:
    """The ids of the first BATCH + 1 due rows by `order`: `where` (its `{states}` the placeholders of
    the states that open `params`) as one plain statement, as the sweep asks every minute and usually
    finds nothing (the ORM spent several times the database's time building the query)."""
    n = sum(1 for p in params if isinstance(p, State))
    table = connection.ops.quote_name(ServiceRequest._meta.db_table)
    where = where.format(states=", ".join(["%s"] * n))
    sql = f"SELECT id FROM {table} WHERE {where} ORDER BY {order}, id LIMIT {BATCH + 1}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [str(p) if isinstance(p, State) else plain.param(p) for p in params])
        return [row[0] for row in cursor.fetchall()]


def _timeline(rows: list[ServiceRequest], kind: str, note: str, data) -> None:
    now = timezone.now()
    insert_rows(
        RequestEvent,
        [
            {
                "request_id": r.pk,
                "kind": kind,
                "at": now,
                "actor_id": None,
                "actor_name": "",
                "note": note,
                "data": data(r),
            }
            for r in rows
        ],
    )


# --- 1. acceptance timed out -----------------------------------------------------------------------------
def _accept_due(now: datetime):
    return ServiceRequest.objects.filter(state__in=ACCEPT_STATES, accept_by__lt=now).filter(
        Q(level__gt=HandlingLevel.SUBDISTRICT) | Q(supervised=False)
    )


def _acceptance_timeouts(now: datetime, report: SweepReport, recipients: _Recipients) -> None:
    due = _accept_due(now)
    ids = _due_ids(
        "state IN ({states}) AND accept_by < %s AND (level > %s OR supervised = %s)",
        [*ACCEPT_STATES, now, HandlingLevel.SUBDISTRICT, False],
        "accept_by",
    )
    if not ids:
        return
    report.more |= len(ids) > BATCH
    ids = ids[:BATCH]
    with transaction.atomic():
        rows = _locked(due, ids)
        report.skipped += len(ids) - len(rows)
        up = [r for r in rows if r.level > HandlingLevel.SUBDISTRICT]
        top = [r for r in rows if r.level <= HandlingLevel.SUBDISTRICT]
        _escalate(up, now, report, recipients)
        _supervise(top, "accept", report, recipients)


def _escalate(
    rows: list[ServiceRequest], now: datetime, report: SweepReport, recipients: _Recipients
) -> None:
    """The workflow's `escalate` transition for many rows: one compare-and-set UPDATE per (level, new
    deadline), then the timeline, audit events and notices of the rows it changed."""
    if not rows:
        return
    transition = workflow["escalate"]
    sources = [s for s in ACCEPT_STATES if s in transition.sources]
    matching = _PolicyCache(cached_policies())
    groups: dict[tuple[int, datetime, datetime], list[ServiceRequest]] = defaultdict(list)
    for r in rows:
        if r.state not in sources or not transition.may(None, r):
            report.skipped += 1
            continue
        policy = matching(r)
        # the level above gets fresh windows to accept and to contact the requester
        accept_by = deadline_after(now, policy.accept_amount, policy.accept_unit)
        contact_by = deadline_after(now, policy.contact_amount, policy.contact_unit)
        groups[(r.level, accept_by, contact_by)].append(r)
    changed: list[ServiceRequest] = []
    before: dict[int, str] = {}
    for (level, accept_by, contact_by), group in groups.items():
        pks = [r.pk for r in group]
        n = ServiceRequest.objects.filter(
            pk__in=pks, state__in=sources, accept_by__lt=now, level=level
        ).update(
            state=transition.target, level=level - 1, handler=None, accept_by=accept_by, contact_by=contact_by
        )
        if n != len(pks):  # cannot happen under the row locks; find the rows this UPDATE moved
            moved = set(
                ServiceRequest.objects.filter(pk__in=pks, level=level - 1, accept_by=accept_by).values_list(
                    "pk", flat=True
                )
            )
            report.skipped += len(pks) - len(moved)
            group = [r for r in group if r.pk in moved]
        for r in group:
            before[r.pk] = r.state
            r.state, r.level, r.handler_id, r.accept_by = transition.target, level - 1, None, accept_by
            r.contact_by = contact_by
            r._state.fields_cache.pop("handler", None)
        changed += group
    if not changed:
        return
    hand_over_many(changed, HoldingEnd.ESCALATED, at=now)  # the missed window stays charged below
    note = str(ESCALATED_NOTE)
    _timeline(changed, "escalate", note, lambda r: {"from_level": r.level + 1, "to_level": r.level})
    audit.record_many(
        [
            {
                "action": "request.escalate",
                "obj": r,
                "before": {"state": before[r.pk]},
                "after": {"state": r.state},
                "reason": note,
            }
            for r in changed
        ]
    )
    notify_many(
        [
            Message(
                users=recipients.handlers(r),
                kind="request.escalated",
                title=ESCALATED_TITLE,
                body=ESCALATED_BODY,
                params={"number": r.number, "due": _fmt(r.accept_by)},
                link=_link(r),
                path=r.path,
                dedupe_key=f"escalated:{r.pk}:{r.level + 1}",
                subject=subject_of(r),
            )
            for r in changed
        ]
    )
    _settle_moved(changed, recipients)
    report.escalated += [r.pk for r in changed]


def _settle_moved(rows: list[ServiceRequest], recipients: _Recipients) -> None:
    """The escalated rows moved up: the "please act" notices of the level below are read (one UPDATE
    per set of new handlers, who keep theirs)."""
    from .notices import ACT_KINDS

    groups: dict[tuple[int, ...], list[str]] = defaultdict(list)
    for r in rows:
        groups[tuple(sorted(u.pk for u in recipients.handlers(r)))].append(subject_of(r))
    for keep, subjects in groups.items():
        settle(subjects, kinds=ACT_KINDS, keep=keep)


# --- 2. resolution and first contact overdue ------------------------------------------------------------
_WATCHED = {"resolve": RESOLVE_STATES, "contact": CONTACT_STATES}  # limit → the states it is watched in


def _overdue(limit: str, now: datetime, report: SweepReport, recipients: _Recipients) -> None:
    """Requests past their `limit` deadline and not yet under 督办 are put under it (one batch)."""
    deadline = _DEADLINE_OF[limit]
    due = ServiceRequest.objects.filter(
        state__in=_WATCHED[limit], supervised=False, **{f"{deadline}__lt": now}
    )
    ids = _due_ids(
        f"state IN ({{states}}) AND supervised = %s AND {deadline} < %s",
        [*_WATCHED[limit], False, now],
        deadline,
    )
    if not ids:
        return
    report.more |= len(ids) > BATCH
    ids = ids[:BATCH]
    with transaction.atomic():
        rows = _locked(due, ids)
        report.skipped += len(ids) - len(rows)
        _supervise(rows, limit, report, recipients)


_DEADLINE_OF = {"accept": "accept_by", "contact": "contact_by", "resolve": "resolve_by"}
_SUPERVISED_TEXTS = {  # limit → (timeline note, notice title, notice body)
    "accept": (TOP_NOTE, OVERDUE_TITLE, OVERDUE_BODY),
    "contact": (CONTACT_NOTE, CONTACT_TITLE, CONTACT_BODY),
    "resolve": (OVERDUE_NOTE, OVERDUE_TITLE, OVERDUE_BODY),
}


def _supervise(rows: list[ServiceRequest], limit: str, report: SweepReport, recipients: _Recipients) -> None:
    """督办 by compare-and-set (`supervised = false` → true): only the rows this UPDATE changed get the
    "overdue" timeline event, the audit event and the notices. Call inside a transaction."""
    if not rows:
        return
    # compare-and-set: the rows still open and not supervised (locked), then one UPDATE of exactly those
    current = ServiceRequest.objects.filter(
        pk__in=[r.pk for r in rows], supervised=False, state__in=(*ACCEPT_STATES, *RESOLVE_STATES)
    )
    fresh = set(current.select_for_update(of=("self",)).values_list("pk", flat=True))
    report.skipped += len(rows) - len(fresh)
    rows = [r for r in rows if r.pk in fresh]
    if not rows:
        return
    ServiceRequest.objects.filter(pk__in=fresh).update(supervised=True)
    note_text, title, body = _SUPERVISED_TEXTS[limit]
    note = str(note_text)
    due = {r.pk: getattr(r, _DEADLINE_OF[limit]) for r in rows}
    key = "overdue-contact" if limit == "contact" else "overdue"
    for r in rows:
        r.supervised = True
    _timeline(rows, "overdue", note, lambda r: {"limit": limit, "deadline": due[r.pk].isoformat()})
    audit.record_many(
        [
            {
                "action": "request.overdue",
                "obj": r,
                "before": {"supervised": False},
                "after": {"supervised": True, "limit": limit, "deadline": due[r.pk].isoformat()},
                "reason": note,
            }
            for r in rows
        ]
    )
    messages = []
    for r in rows:
        if limit == "accept":
            users = recipients.dispatchers(r)
        else:
            users = recipients.handlers(r) + recipients.supervisors_above(r)
        messages.append(
            Message(
                users=users,
                kind="request.overdue",
                title=title,
                body=body,
                params={"number": r.number, "due": _fmt(due[r.pk])},
                link=_link(r),
                path=r.path,
                dedupe_key=f"{key}:{r.pk}:{_iso(due[r.pk])}",
                subject=subject_of(r),
            )
        )
    notify_many(messages)
    report.supervised += [r.pk for r in rows]


# --- 4. reminders at 75 % --------------------------------------------------------------------------------
def _watermark() -> datetime | None:
    """Until when reminder points have been looked at (the previous run's `now`)."""
    return (
        ScheduledSlot.objects.filter(name=REMINDER_WATERMARK)
        .order_by("-slot")
        .values_list("slot", flat=True)
        .first()
    )


def _move_watermark(previous: datetime | None, now: datetime) -> None:
    if previous is None:
        ScheduledSlot.objects.get_or_create(name=REMINDER_WATERMARK, slot=now)
    else:  # compare-and-set: never backwards (two sweeps at once, or a late one)
        ScheduledSlot.objects.filter(name=REMINDER_WATERMARK, slot__lt=now).update(slot=now)


def _reminders(now: datetime, report: SweepReport, recipients: _Recipients) -> None:
    """Reminders for the reminder points in (previous run, now], for requests still open and not yet due.
    Each page of rows: one query for their dedupe keys, one bulk insert of the notices."""
    previous = _watermark()
    lo = max(previous, now - CATCH_UP) if previous is not None else now - CATCH_UP
    if now <= lo:
        return
    policies = cached_policies()
    accept_limits, resolve_limits = _limits(policies)
    contact_limits = {(p.contact_amount, p.contact_unit) for p in [*policies, TimeLimitPolicy()]}
    share = remaining_share()
    ranges: set[tuple[str, tuple, datetime, datetime]] = set()
    for field_name, states, limits in (
        ("accept_by", ACCEPT_STATES, accept_limits),
        ("contact_by", CONTACT_STATES, contact_limits),
        ("resolve_by", RESOLVE_STATES, resolve_limits),
    ):
        for amount, unit in limits:
            bounds = _deadline_range(amount, unit, lo, now, share)
            if bounds is None:
                continue
            start, end = max(bounds[0], now), bounds[1]  # past deadlines are overdue, not reminded
            if end > start:
                ranges.add((field_name, states, start, end))
    matching = _PolicyCache(policies)
    done: set[tuple[str, int]] = set()  # a row in the ranges of two limits is looked at once per deadline
    for field_name, states, start, end in sorted(ranges):
        for rows in _pages(field_name, states, start, end):
            rows = [r for r in rows if (field_name, r.pk) not in done]
            done.update((field_name, r.pk) for r in rows)
            _remind(rows, field_name, now, share, matching, report, recipients)
    _move_watermark(previous, now)


def _pages(field_name: str, states: tuple, start: datetime, end: datetime):
    """The rows in `states` with start < deadline <= end, in pages ordered by (deadline, id): each page
    one range scan on the deadline's index (keyset pagination, no OFFSET), read as one plain statement
    (core/rows.py: the sweep runs every minute) with the handler each reminder goes to."""
    column = ServiceRequest._meta.get_field(field_name).column
    in_states = f"t.state IN ({', '.join(['%s'] * len(states))}) AND t.{column} <= %s"
    states = [str(state) for state in states]
    after, last_pk = start, None
    while True:
        if last_pk is not None:  # first the rest of the rows at the page's last deadline
            same = plain.fetch(
                ServiceRequest,
                f"{in_states} AND t.{column} = %s AND t.id > %s",
                [*states, end, after, last_pk],
                related=("handler",),
                order_by="t.id",
                limit=REMINDER_PAGE,
            )
            if same:
                yield same
                last_pk = same[-1].pk
                continue
        rows = plain.fetch(
            ServiceRequest,
            f"{in_states} AND t.{column} > %s",
            [*states, end, after],
            related=("handler",),
            order_by=f"t.{column}, t.id",
            limit=REMINDER_PAGE,
        )
        if rows:
            yield rows
        if len(rows) < REMINDER_PAGE:
            return
        after, last_pk = getattr(rows[-1], field_name), rows[-1].pk


def _contact_due_soon(r: ServiceRequest, now: datetime, matching, share: float) -> bool:
    policy = matching(r)
    point = reminder_point(r.contact_by, policy.contact_amount, policy.contact_unit, share)
    return point <= now < r.contact_by


def _remind(rows, field_name, now, share, matching, report: SweepReport, recipients: _Recipients) -> None:
    if not rows:
        return
    from linjialin.notifications.models import Notification

    contact = field_name == "contact_by"
    keys = {r.pk: _reminder_key(r, contact) for r in rows}
    done = set(Notification.objects.filter(dedupe_key__in=keys.values()).values_list("dedupe_key", flat=True))
    messages, sent = [], []
    for r in rows:
        if keys[r.pk] in done:
            continue
        due = r.contact_by if contact else (r.accept_by if r.state in ACCEPT_STATES else r.resolve_by)
        soon = _contact_due_soon(r, now, matching, share) if contact else is_due_soon(r, now, matching, share)
        if not soon:
            continue  # in a range of another limit; its own limit decides
        users = recipients.handlers(r)
        if not any(u is not None and u.is_active for u in users):
            continue
        messages.append(
            Message(
                users=users,
                kind="request.reminder",
                title=REMINDER_CONTACT_TITLE if contact else REMINDER_TITLE,
                body=_reminder_body(r, contact),
                params={"number": r.number, "due": _fmt(due)},
                link=_link(r),
                path=r.path,
                dedupe_key=keys[r.pk],
                subject=subject_of(r),
            )
        )
        sent.append(r.pk)
    if messages:
        with transaction.atomic():
            notify_many(messages)
        report.reminded += sent


def _reminder_body(req: ServiceRequest, contact: bool):
    if contact:
        return REMINDER_CONTACT_BODY
    return REMINDER_ACCEPT_BODY if req.state in ACCEPT_STATES else REMINDER_RESOLVE_BODY


def _reminder_key(req: ServiceRequest, contact: bool = False) -> str:
    if contact:
        return f"remind-contact:{req.pk}:{_iso(req.contact_by)}"
    deadline = req.accept_by if req.state in ACCEPT_STATES else req.resolve_by
    return f"remind:{req.pk}:{_iso(deadline)}"


def _iso(value: datetime) -> str:
    """A deadline in dedupe keys: UTC, whatever timezone the object carries."""
    return value.astimezone(UTC).isoformat()


def _fmt(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""
