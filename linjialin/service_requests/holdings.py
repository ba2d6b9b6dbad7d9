"""Who held a request, and the acceptance window each holder had (RequestHolding), plus the 报到 and
report-back windows of the units called to it (RequestAssist.check_in_by / report_by).

The response rate is read from these rows (metrics.py, docs/rates.md): a 楼门 that let its window pass
is charged with the miss even after the request was escalated to the 网格 with a fresh window.

Called by services.py and sweep.py inside their transactions, right after the request moved:
`start` when a request gets its first holder, `hand_over` when it moves to another level or unit
(escalation, dispatch, reassignment, unmerge), `accepted` on acceptance, `end` when it leaves a holder
without a new one (退单 back to the dispatcher, merge). These write no audit events of their own: the
change of holder they mirror is audited by the caller.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import BooleanField, Case, F, Value, When
from django.utils import timezone

from linjialin.core.bulk import insert_rows
from linjialin.core.calendar import deadline

from .models import AssistKind, RequestHolding, RequestRules, ServiceRequest


def new_holding(req: ServiceRequest, at: datetime) -> RequestHolding | None:
    """The holding that starts now for the request's current level, unit and acceptance window (None
    when it has no window: diverted or linked submissions are not queued)."""
    if req.accept_by is None:
        return None
    return RequestHolding(
        request=req,
        level=req.level,
        unit_id=req.unit_id,
        path=req.path,
        started_at=at,
        accept_by=req.accept_by,
    )


def start(req: ServiceRequest, *, at: datetime | None = None) -> None:
    holding = new_holding(req, at or timezone.now())
    if holding is not None:
        insert_rows(RequestHolding, [holding])


def _met_at(at: datetime) -> Case:
    """`met` of an open holding that ends at `at`: accepted → whether in time; not accepted → a miss if
    its window had passed, else neither (it passed the request on in time)."""
    return Case(
        When(accepted_at__isnull=False, accepted_at__lte=F("accept_by"), then=Value(True)),
        When(accepted_at__isnull=False, then=Value(False)),
        When(accept_by__lt=at, then=Value(False)),
        default=Value(None),
        output_field=BooleanField(null=True),
    )


def _close(request_ids: list[int], how: str, at: datetime) -> None:
    RequestHolding.objects.filter(request_id__in=request_ids, ended_at__isnull=True).update(
        ended_at=at, ended_how=how, met=_met_at(at)
    )


def end(req: ServiceRequest, how: str, *, at: datetime | None = None) -> None:
    """The holder lets go without a new one (退单 to the dispatcher, merge)."""
    _close([req.pk], how, at or timezone.now())


def hand_over(req: ServiceRequest, how: str, *, at: datetime | None = None) -> None:
    """The request moved (already saved) to its current level/unit with a fresh window: the open
    holding ends `how`, a new one starts."""
    hand_over_many([req], how, at=at or timezone.now())


def hand_over_many(reqs: list[ServiceRequest], how: str, *, at: datetime) -> None:
    """hand_over for many requests (the sweep's escalations): one UPDATE, one INSERT."""
    if not reqs:
        return
    _close([r.pk for r in reqs], how, at)
    insert_rows(RequestHolding, [h for h in (new_holding(r, at) for r in reqs) if h is not None])


def accepted(req: ServiceRequest) -> None:
    """The current holder accepted it (首接负责) at `req.accepted_at`."""
    at = req.accepted_at or timezone.now()
    RequestHolding.objects.filter(request=req, ended_at__isnull=True, accepted_at__isnull=True).update(
        accepted_at=at,
        met=Case(When(accept_by__gte=at, then=Value(True)), default=Value(False)),
    )


def assist_deadlines(req: ServiceRequest, kind: str, at: datetime, rules: RequestRules) -> dict:
    """The windows of a unit called to `req` at `at`: 报到 within the rules' window for its kind, and
    report back by the request's resolution deadline (Art. 14: co-units report within the set time);
    when that has passed already, a fresh resolution limit from the call."""
    if kind == AssistKind.WHISTLE:
        check_in_by = at + timedelta(minutes=rules.whistle_checkin_minutes)
    else:
        check_in_by = at + timedelta(hours=rules.co_handle_checkin_hours)
    report_by = req.resolve_by
    if report_by is None or report_by <= at:
        from .services import policy_for

        policy = policy_for(req.request_type, req.category, req.urgency)
        report_by = deadline(at, policy.resolve_amount, policy.resolve_unit)
    return {"check_in_by": check_in_by, "report_by": max(report_by, check_in_by)}
