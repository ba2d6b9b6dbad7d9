"""The phone call-back (回访, docs/callbacks.md): staff who did not handle a request call the requester
and record what they said — as Beijing's hotline calls back independently of the unit that did the work.

Two ways into the queue:
- unrated: a resolved request the requester has not rated `RequestRules.callback_days` days after it
  was resolved (also every 代报, hotline, patrol or phone request, whose requester has no login);
- sampled: each month `callback_sample_percent` % of the requests closed in the previous month with the
  resident's own rating, picked by a hash of the number (sample_month, run daily by the beat; idempotent).

Who calls: holders of requests.callback over the request's place (the dispatcher desk, community
workers) who took no part in its handling (workflow.caller_back). What the answer does:
- unrated, reached: the answer is the request's rating (services.rate_request: closes it, or reopens
  it up to the maximum, then 督办), as the resident's own rating would;
- unrated, no answer: tried again `callback_retry_hours` later; after `callback_attempts` tries the
  request is closed as unreachable (no rating: it counts in no satisfaction rate);
- sampled: recorded beside the resident's rating, never over it; "not solved" or 不满意 reopens the
  closed request up to the maximum of reopens, past it puts it under supervision (督办).
Every try is a timeline event ("callback_call") and an audit event.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linjialin.core import audit
from linjialin.core.scope import scope_for

from . import notices, services
from .models import (
    CallBack,
    CallBackOutcome,
    CallBackReason,
    RequestEvent,
    Satisfaction,
    ServiceRequest,
    State,
)
from .workflow import HANDLING_STEPS, caller_back, took_part

PERM = "requests.callback"


# --- the queue (selectors) ---------------------------------------------------------------------------
def _unrated_q(now: datetime) -> Q:
    """Resolved, unrated past the wait, and not waiting for a next try after no answer."""
    waiting = CallBack.objects.filter(
        request=OuterRef("pk"), reason=CallBackReason.UNRATED, cycle=OuterRef("reopen_count"), due_at__gt=now
    )
    cutoff = now - timedelta(days=services.rules().callback_days)
    return Q(state=State.RESOLVED, resolved_at__lte=cutoff) & ~Q(Exists(waiting))


def _sampled(now: datetime):
    return CallBack.objects.filter(
        request=OuterRef("pk"), reason=CallBackReason.SAMPLE, outcome=CallBackOutcome.PENDING, due_at__lte=now
    )


def _sampled_ids(now: datetime):
    """The sampled requests due (a semi-join: the planner starts from the few call-back rows)."""
    return CallBack.objects.filter(
        reason=CallBackReason.SAMPLE, outcome=CallBackOutcome.PENDING, due_at__lte=now
    ).values("request_id")


def due_for_user(user, now: datetime | None = None):
    """The requests the user may call back now: in their requests.callback scope, due, and not handled
    (nor asked for) by them. Oldest resolution first; `sampled` tells a sampled one."""
    now = now or timezone.now()
    mine = RequestEvent.objects.filter(request=OuterRef("pk"), actor=user, kind__in=HANDLING_STEPS)
    return (
        ServiceRequest.objects.visible_to(user, PERM)
        .filter(_unrated_q(now) | Q(pk__in=_sampled_ids(now)))
        .exclude(Q(handler=user) | Q(requester=user))
        .exclude(Exists(mine))
        .annotate(sampled=Exists(_sampled(now)))
        .select_related("place", "category")
        .order_by("resolved_at", "pk")
    )


def count_due_for_user(user, now: datetime | None = None) -> int | None:
    """The home page's count (None for someone who does not call back)."""
    if scope_for(user, PERM).is_empty:
        return None
    return due_for_user(user, now).count()


def is_due_for_user(user, req: ServiceRequest) -> bool:
    """Whether the user may call `req` back now (the request page links to the call page)."""
    if req.state not in (State.RESOLVED, State.CLOSED) or not scope_for(user, PERM).covers(req.path):
        return False
    return due_for_user(user).filter(pk=req.pk).exists()


def get_due_for_user(user, pk: int, now: datetime | None = None) -> ServiceRequest:
    """One request of the user's call-back queue (404 when missing, not theirs to call, or not due)."""
    req = due_for_user(user, now).filter(pk=pk).first()
    if req is None:
        raise Http404
    return req


def tries(req: ServiceRequest) -> list[CallBack]:
    return list(req.callbacks.select_related("caller").order_by("pk"))


@dataclass
class CallBackRow:
    label: str
    count: int = 0
    reached: int = 0
    solved: int = 0
    satisfied: int = 0
    basically: int = 0
    unsatisfied: int = 0
    agrees: int | None = None  # sampled: the answer matches the resident's own rating


def summary_for_place(user, place, start: datetime, end: datetime) -> list[CallBackRow]:
    """The rates page's comparison, for the requests in the user's requests.view scope under `place`:
    the residents' own ratings in [start, end) beside the phone calls made then (to unrated requests;
    sampled), read from the timeline in one query. `count` is ratings or calls (tries)."""
    requests = ServiceRequest.objects.visible_to(user, "requests.view").filter(path__startswith=place.path)
    residents = CallBackRow(str(_("Residents' own ratings")))
    unrated = CallBackRow(str(_("Call-backs of unrated requests")))
    sampled = CallBackRow(str(_("Sampled call-backs of rated requests")), agrees=0)
    events = RequestEvent.objects.filter(
        kind__in=("call_back", "callback_call"), at__gte=start, at__lt=end, request__in=requests
    ).values_list("kind", "actor_id", "request__requester_id", "data", "request__satisfaction")
    for kind, actor_id, requester_id, data, rated in events:
        if kind == "call_back":
            if actor_id is not None and actor_id == requester_id:
                _count(residents, True, data.get("solved"), data.get("satisfaction", ""))
            continue
        row = sampled if data.get("reason") == CallBackReason.SAMPLE else unrated
        reached = bool(data.get("reached"))
        _count(row, reached, data.get("solved"), data.get("satisfaction", ""))
        if reached and row is sampled and data.get("satisfaction") == rated:
            row.agrees += 1
    return [residents, unrated, sampled]


def _count(row: CallBackRow, reached: bool, solved, satisfaction: str) -> None:
    row.count += 1
    if not reached:
        return
    row.reached += 1
    row.solved += bool(solved)
    if satisfaction in (Satisfaction.SATISFIED, Satisfaction.BASICALLY, Satisfaction.UNSATISFIED):
        setattr(row, satisfaction, getattr(row, satisfaction) + 1)


# --- recording a call (services) ---------------------------------------------------------------------
def _refuse(actor, req: ServiceRequest) -> None:
    if caller_back(actor, req):
        return
    if (
        actor is not None
        and not scope_for(actor, PERM).is_empty
        and scope_for(actor, PERM).covers(req.path)
        and took_part(actor, req)
    ):
        raise PermissionDenied(
            _("You took part in handling this request: a colleague who did not handle it calls back.")
        )
    raise PermissionDenied(_("You may not call back this request."))


def _open_round(req: ServiceRequest, now: datetime) -> CallBack:
    """The call-back due now (locked): a sampled one, or this round's unrated one (made at the first try)."""
    sample = (
        CallBack.objects.select_for_update()
        .filter(request=req, reason=CallBackReason.SAMPLE, outcome=CallBackOutcome.PENDING)
        .first()
    )
    if sample is not None:
        if sample.due_at > now:
            when = timezone.localtime(sample.due_at).strftime("%Y-%m-%d %H:%M")
            raise ValidationError(_("No answer last time: try again after %(when)s.") % {"when": when})
        return sample
    rules = services.rules()
    resolved_at = req.resolved_at
    if req.state != State.RESOLVED or resolved_at is None:
        raise ValidationError(_("This request is not waiting for a call-back."))
    due = resolved_at + timedelta(days=rules.callback_days)
    row, _made = CallBack.objects.get_or_create(
        request=req, reason=CallBackReason.UNRATED, cycle=req.reopen_count, defaults={"due_at": due}
    )
    row = CallBack.objects.select_for_update().get(pk=row.pk)
    if row.due_at > now:
        when = timezone.localtime(row.due_at).strftime("%Y-%m-%d %H:%M")
        if row.attempts:
            raise ValidationError(_("No answer last time: try again after %(when)s.") % {"when": when})
        raise ValidationError(
            _("The requester has until %(when)s to rate it; call back after that.") % {"when": when}
        )
    return row


def record_callback(
    actor,
    req: ServiceRequest,
    *,
    reached: bool,
    solved: bool | None = None,
    satisfaction: str = "",
    words: str = "",
) -> CallBack:
    """One phone call to the requester of `req`: reached or not; if reached, solved or not, how satisfied
    and the words said. Checked first; one transaction; refused with a message and nothing written."""
    _refuse(actor, req)
    words = (words or "").strip()
    if reached:
        errors = {}
        if solved is None:
            errors["solved"] = _("Say whether it was solved.")
        if satisfaction not in Satisfaction.values:
            errors["satisfaction"] = _("Choose 满意, 基本满意 or 不满意.")
        if not words:
            errors["words"] = _("Write down what the requester said.")
        if errors:
            raise ValidationError(errors)
    rules = services.rules()
    now = timezone.now()
    with transaction.atomic():
        ServiceRequest.objects.select_for_update().filter(pk=req.pk).first()  # one call at a time
        req.refresh_from_db()
        row = _open_round(req, now)
        row.attempts += 1
        row.caller, row.called_at, row.words = actor, now, words
        data = {"reached": bool(reached), "attempt": row.attempts, "reason": row.reason}
        if reached:
            row.outcome, row.solved, row.satisfaction = CallBackOutcome.REACHED, bool(solved), satisfaction
            data |= {"solved": bool(solved), "satisfaction": satisfaction}
        elif row.attempts >= rules.callback_attempts:
            row.outcome = CallBackOutcome.UNREACHABLE
        else:
            row.due_at = now + timedelta(hours=rules.callback_retry_hours)
        row.save()
        services._event(req, "callback_call", actor, words, **data)
        audit.record(
            "request.callback_call",
            actor=actor,
            obj=req,
            after={k: v for k, v in data.items() if k != "reason"},
            reason=words[:500],
        )
        if row.reason == CallBackReason.UNRATED and reached:
            services.rate_request(actor, req, solved=bool(solved), satisfaction=satisfaction, comment=words)
        elif row.reason == CallBackReason.UNRATED and row.outcome == CallBackOutcome.UNREACHABLE:
            services._move(actor, req, "close_unreachable", note=words, closed_at=now)
            notices.settle(req)
        elif row.reason == CallBackReason.SAMPLE and reached:
            if not solved or satisfaction == Satisfaction.UNSATISFIED:
                _sample_not_satisfied(actor, req, words, rules)
    return row


def _sample_not_satisfied(actor, req: ServiceRequest, words: str, rules) -> None:
    """A sampled call-back found it not solved or 不满意: 重办 up to the maximum, then 督办 (the rating the
    resident gave stays; the call-back's answer is beside it)."""
    if req.state == State.CLOSED and req.reopen_count < rules.max_reopen:
        services._move(
            actor,
            req,
            "callback_reopen",
            note=words,
            reopen_count=req.reopen_count + 1,
            resolved_at=None,
            closed_at=None,
        )
        notices.tell(
            notices.owners(req),
            req,
            "request.reopened",
            gettext_lazy("Request %(number)s was reopened: the call-back found it not solved"),
            words[:500],
            actor=actor,
        )
        return
    services.supervise_unsatisfied(
        actor,
        req,
        words,
        gettext_lazy("Request %(number)s is under supervision (督办): the call-back found it not solved"),
    )


# --- the monthly sample (the beat runs it daily; a month is sampled once) ----------------------------
def _month_bounds(today: date) -> tuple[date, datetime, datetime]:
    first = today.replace(day=1)
    previous = (first - timedelta(days=1)).replace(day=1)
    tz = timezone.get_current_timezone()
    start = datetime(previous.year, previous.month, 1, tzinfo=tz)
    end = datetime(first.year, first.month, 1, tzinfo=tz)
    return previous, start, end


def sample_key(number: str, month: date) -> str:
    """The deterministic order of the draw: a hash of the request's number and the month."""
    return hashlib.sha256(f"{number}:{month.isoformat()}".encode()).hexdigest()


def sample_month(now: datetime | None = None) -> int:
    """Pick `callback_sample_percent` % (rounded up) of the requests closed last month with the
    resident's own rating into the call-back queue. A month already sampled is not sampled again.
    Returns how many were picked now."""
    now = now or timezone.now()
    month, start, end = _month_bounds(timezone.localdate(now))
    percent = services.rules().callback_sample_percent
    if percent <= 0 or CallBack.objects.filter(reason=CallBackReason.SAMPLE, month=month).exists():
        return 0
    called = CallBack.objects.filter(
        request=OuterRef("pk"), reason=CallBackReason.UNRATED, outcome=CallBackOutcome.REACHED
    )
    rated = (
        ServiceRequest.objects.filter(state=State.CLOSED, closed_at__gte=start, closed_at__lt=end)
        .exclude(satisfaction="")
        .exclude(Exists(called))  # rated on the phone, not by the resident
        .only("pk", "number", "path")
    )
    rows = sorted(rated, key=lambda r: sample_key(r.number, month))
    picked = rows[: math.ceil(len(rows) * min(percent, 100) / 100)]
    if not picked:
        return 0
    with transaction.atomic():
        CallBack.objects.bulk_create(
            [CallBack(request=r, reason=CallBackReason.SAMPLE, month=month, due_at=now) for r in picked],
            ignore_conflicts=True,
        )
        RequestEvent.objects.bulk_create(
            [
                RequestEvent(request=r, kind="callback_sampled", at=now, data={"month": month.isoformat()})
                for r in picked
            ]
        )
        audit.record_many(
            [
                {"action": "request.callback_sampled", "obj": r, "after": {"month": month.isoformat()}}
                for r in picked
            ]
        )
    return len(picked)


def may_call_back(actor, req: ServiceRequest) -> bool:
    return caller_back(actor, req)
