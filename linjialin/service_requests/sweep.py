"""The deadline sweep (every minute, by `linjialin beat`): reminders, 督办 when overdue, automatic escalation.

`sweep(now)` does three things, each safe to run twice or in two workers at once:

1. **Acceptance timed out** (submitted/escalated, `accept_by < now`): escalate one level up as the
   system (`escalate_request(None, …)`), which sets a fresh acceptance window; at the subdistrict (or a
   department) there is no level above: 督办 (`supervised`) and a notice to the dispatchers. The row is
   locked and re-checked first, so a second sweep finds it no longer due and does nothing.
2. **Resolution overdue** (accepted/in progress/extension requested, `resolve_by < now`, not yet
   supervised): `UPDATE … SET supervised = true WHERE pk = … AND supervised = false` — only the sweep
   whose UPDATE matched writes the "overdue" timeline event, the audit event and the notices (to the
   handler and the supervisors of the level above).
3. **Reminder at 75 %** of the acceptance window or the resolution limit: a notice to the handler (or
   the handlers at the request's level), with dedupe key `remind:<id>:<deadline>` — one per deadline.

75 % is measured in the limit's own unit: a clock-hour limit of H hours reminds H/4 hours before the
deadline; a limit of n working days reminds when n/4 working days remain (counted back from the
deadline over working days only, holidays skipped), e.g. 1 working day → 18:00 on the due day.

Cost when nothing is due: the two "due" queries are range scans on the indexed `accept_by` /
`resolve_by` columns that find nothing; the reminder query is one range scan per distinct limit over
the deadlines whose reminder point fell in the last REMINDER_LOOKBACK (a minute's worth of deadlines
for clock-hour limits; nothing at all for working-day limits except just after a reminder time).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from linjialin.accounts.selectors import users_holding
from linjialin.core import audit
from linjialin.core.calendar import HOURS, end_of_day, is_working_day, local_date
from linjialin.core.errors import Conflict
from linjialin.core.workflow import TransitionNotAllowed
from linjialin.notifications.services import notify

from . import services
from .models import HandlingLevel, ServiceRequest, State, TimeLimitPolicy

logger = logging.getLogger("linjialin.sweep")

ACCEPT_STATES = (State.SUBMITTED, State.ESCALATED)
RESOLVE_STATES = (State.ACCEPTED, State.IN_PROGRESS, State.EXTENSION_REQUESTED)
# TODO(data): the reminder share belongs in RequestRules (admin-editable); kept here until that model
# gains the field (its migrations were being changed in parallel).


def remaining_share() -> float:
    """The share of a limit still left when the reminder goes (RequestRules.reminder_at_percent, data)."""
    from .services import rules

    return (100 - rules().reminder_at_percent) / 100


# How far back a reminder point may lie and still be sent (covers a beat that was briefly down).
REMINDER_LOOKBACK = timedelta(minutes=15)
BATCH = 500  # rows per kind per run; the rest next minute


@dataclass
class SweepReport:
    now: datetime
    escalated: list[int] = field(default_factory=list)
    supervised: list[int] = field(default_factory=list)  # 督办: overdue resolution, or timed out at the top
    reminded: list[int] = field(default_factory=list)
    skipped: int = 0  # changed by someone else meanwhile
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
    with override("zh-hans"):  # notices and timeline notes in the users' language
        _acceptance_timeouts(now, report)
        _overdue_resolutions(now, report)
        _reminders(now, report)
    if report.escalated or report.supervised or report.reminded:
        logger.info(
            "sweep: %d escalated, %d supervised, %d reminded, %d skipped",
            len(report.escalated),
            len(report.supervised),
            len(report.reminded),
            report.skipped,
        )
    return report


# --- recipients ------------------------------------------------------------------------------------------
def _handlers(req: ServiceRequest) -> list:
    """The owning handler once accepted (首接负责), else everyone who may handle it at its level."""
    if req.handler_id and req.state in RESOLVE_STATES:
        return [req.handler]
    return list(users_holding("requests.handle", req.path, levels={req.level}))


def _supervisors_above(req: ServiceRequest) -> list:
    """Supervisors (requests.supervise) of the nearest level above the handling level that has any."""
    for level in range(req.level - 1, HandlingLevel.SUBDISTRICT - 1, -1):
        users = list(users_holding("requests.supervise", req.path, levels={level}))
        if users:
            return users
    return list(users_holding("requests.supervise", req.path, levels={HandlingLevel.SUBDISTRICT}))


def _link(req: ServiceRequest) -> str:
    try:
        return reverse("requests:detail", args=[req.pk])
    except NoReverseMatch:  # the request pages are not installed
        return ""


# --- 1. acceptance timed out -----------------------------------------------------------------------------
def _acceptance_timeouts(now: datetime, report: SweepReport) -> None:
    due = ServiceRequest.objects.filter(state__in=ACCEPT_STATES, accept_by__lt=now).filter(
        Q(level__gt=HandlingLevel.SUBDISTRICT) | Q(supervised=False)
    )
    ids = list(due.order_by("accept_by").values_list("pk", flat=True)[: BATCH + 1])
    report.more |= len(ids) > BATCH
    for pk in ids[:BATCH]:
        try:
            with transaction.atomic():
                # lock and re-check: a concurrent sweep (or a handler) may have acted already
                req = (
                    ServiceRequest.objects.select_for_update()
                    .filter(pk=pk, state__in=ACCEPT_STATES, accept_by__lt=now)
                    .first()
                )
                if req is None:
                    report.skipped += 1
                    continue
                if req.level > HandlingLevel.SUBDISTRICT:
                    _escalate(req, report)
                elif _supervise(req, "accept", req.accept_by, recipients=_dispatchers(req)):
                    report.supervised.append(pk)
                else:
                    report.skipped += 1
        except (Conflict, TransitionNotAllowed, PermissionDenied, ValidationError):
            report.skipped += 1


def _dispatchers(req: ServiceRequest) -> list:
    return list(users_holding("requests.dispatch", req.path))


def _escalate(req: ServiceRequest, report: SweepReport) -> None:
    from_level = req.level
    services.escalate_request(
        None,
        req,
        reason=_("Not accepted within the acceptance window: escalated automatically."),
    )
    notify(
        _handlers(req),
        kind="request.escalated",
        title=_("Request %(number)s escalated to you") % {"number": req.number},
        body=_("It was not accepted in time at the level below. Please accept it by %(due)s.")
        % {"due": _fmt(req.accept_by)},
        link=_link(req),
        path=req.path,
        dedupe_key=f"escalated:{req.pk}:{from_level}",
    )
    report.escalated.append(req.pk)


# --- 2. resolution overdue -------------------------------------------------------------------------------
def _overdue_resolutions(now: datetime, report: SweepReport) -> None:
    due = ServiceRequest.objects.filter(state__in=RESOLVE_STATES, resolve_by__lt=now, supervised=False)
    rows = list(due.order_by("resolve_by").select_related("handler")[: BATCH + 1])
    report.more |= len(rows) > BATCH
    for req in rows[:BATCH]:
        with transaction.atomic():
            recipients = _handlers(req) + _supervisors_above(req)
            if _supervise(req, "resolve", req.resolve_by, recipients=recipients):
                report.supervised.append(req.pk)
            else:
                report.skipped += 1


def _supervise(req: ServiceRequest, limit: str, deadline: datetime, *, recipients: list) -> bool:
    """督办 by compare-and-set: only the caller whose UPDATE matched records and notifies. Call inside
    a transaction."""
    changed = ServiceRequest.objects.filter(
        pk=req.pk, supervised=False, state__in=(*ACCEPT_STATES, *RESOLVE_STATES)
    ).update(supervised=True)
    if not changed:
        return False
    req.supervised = True
    if limit == "accept":
        note = _("Not accepted in time at the top of the chain: under supervision (督办).")
    else:
        note = _("Not resolved in time: under supervision (督办).")
    services._event(req, "overdue", None, note, limit=limit, deadline=deadline.isoformat())
    audit.record(
        "request.overdue",
        obj=req,
        before={"supervised": False},
        after={"supervised": True, "limit": limit, "deadline": deadline.isoformat()},
        reason=note,
    )
    notify(
        recipients,
        kind="request.overdue",
        title=_("Request %(number)s is overdue (督办)") % {"number": req.number},
        body=_("The deadline was %(due)s.") % {"due": _fmt(deadline)},
        link=_link(req),
        path=req.path,
        dedupe_key=f"overdue:{req.pk}:{_iso(deadline)}",
    )
    return True


# --- 3. reminders at 75 % --------------------------------------------------------------------------------
def reminder_point(deadline: datetime, amount: int, unit: str, share: float | None = None) -> datetime:
    """When `share` of the limit is left before `deadline` (default: from the rules; see the docstring)."""
    share = remaining_share() if share is None else share
    if unit == HOURS:
        return deadline - timedelta(hours=amount * share)
    remaining = amount * share  # working days
    whole = int(remaining)
    day = local_date(deadline)
    for _i in range(whole):
        day = _previous_working_day(day)
    point = end_of_day(day) if whole else deadline
    return point - timedelta(days=remaining - whole)


def _previous_working_day(day: date) -> date:
    day -= timedelta(days=1)
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


def _deadline_range(
    amount: int, unit: str, lo: datetime, hi: datetime, share: float
) -> tuple[datetime, datetime] | None:
    """The deadlines (start exclusive, end inclusive) whose reminder point lies in (lo, hi]."""
    if unit == HOURS:
        span = timedelta(hours=amount * share)
        return lo + span, hi + span
    # working-day deadlines are the ends of working days: walk the days after lo until past hi
    first = last = None
    day = local_date(lo)
    for _i in range(400):
        if is_working_day(day):
            point = reminder_point(end_of_day(day), amount, unit, share)
            if point > hi:
                break
            if point > lo:
                first = first or day
                last = day
        day += timedelta(days=1)
    if first is None:
        return None
    return end_of_day(first - timedelta(days=1)), end_of_day(last)


def _limits() -> tuple[list[TimeLimitPolicy], set[tuple[int, str]], set[tuple[int, str]]]:
    policies = list(TimeLimitPolicy.objects.all())
    every = [*policies, TimeLimitPolicy()]  # the model defaults apply when no row matches
    return (
        policies,
        {(p.accept_amount, p.accept_unit) for p in every},
        {(p.resolve_amount, p.resolve_unit) for p in every},
    )


def _reminders(now: datetime, report: SweepReport) -> None:
    lo = now - REMINDER_LOOKBACK
    policies, accept_limits, resolve_limits = _limits()
    share = remaining_share()
    q = Q()
    for field_name, states, limits in (
        ("accept_by", ACCEPT_STATES, accept_limits),
        ("resolve_by", RESOLVE_STATES, resolve_limits),
    ):
        for amount, unit in limits:
            bounds = _deadline_range(amount, unit, lo, now, share)
            if bounds is None:
                continue
            start, end = max(bounds[0], now), bounds[1]  # past deadlines are overdue, not reminded
            if end > start:
                q |= Q(state__in=states, **{f"{field_name}__gt": start, f"{field_name}__lte": end})
    if not q:
        return
    rows = list(ServiceRequest.objects.filter(q).select_related("handler")[: BATCH * 4])
    if not rows:
        return
    keys = {req.pk: _reminder_key(req) for req in rows}
    from linjialin.notifications.models import Notification

    done = set(Notification.objects.filter(dedupe_key__in=keys.values()).values_list("dedupe_key", flat=True))
    matching = _PolicyCache(policies)
    for req in rows:
        if keys[req.pk] in done:
            continue
        policy = matching(req)
        if req.state in ACCEPT_STATES:
            deadline, amount, unit = req.accept_by, policy.accept_amount, policy.accept_unit
        else:
            deadline, amount, unit = req.resolve_by, policy.resolve_amount, policy.resolve_unit
        if not reminder_point(deadline, amount, unit, share) <= now < deadline:
            continue  # in a range of another limit; its own limit decides
        with transaction.atomic():
            sent = notify(
                _handlers(req),
                kind="request.reminder",
                title=_("Request %(number)s is due soon") % {"number": req.number},
                body=(
                    _("Please accept it by %(due)s.")
                    if req.state in ACCEPT_STATES
                    else _("Please resolve it by %(due)s.")
                )
                % {"due": _fmt(deadline)},
                link=_link(req),
                path=req.path,
                dedupe_key=keys[req.pk],
            )
        if sent:
            report.reminded.append(req.pk)


def _reminder_key(req: ServiceRequest) -> str:
    deadline = req.accept_by if req.state in ACCEPT_STATES else req.resolve_by
    return f"remind:{req.pk}:{_iso(deadline)}"


class _PolicyCache:
    """services.policy_for without a query per request."""

    def __init__(self, policies: list[TimeLimitPolicy]):
        self.policies = policies
        self.cache: dict = {}

    def __call__(self, req: ServiceRequest) -> TimeLimitPolicy:
        key = (req.request_type, req.category_id, req.urgency)
        if key not in self.cache:
            candidates = [
                p
                for p in self.policies
                if p.request_type in ("", req.request_type)
                and p.category_id in (None, req.category_id)
                and p.urgency in ("", req.urgency)
            ]
            self.cache[key] = (
                max(candidates, key=lambda p: p.specificity) if candidates else TimeLimitPolicy()
            )
        return self.cache[key]


def _iso(value: datetime) -> str:
    """A deadline in dedupe keys: UTC, whatever timezone the object carries."""
    return value.astimezone(UTC).isoformat()


def _fmt(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""
