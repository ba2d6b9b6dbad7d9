"""Reads of requests that depend on who asks. Missing and forbidden both answer 404.

A user sees the requests in their requests.view scope, and always their own (as requester).
The requester's contact is masked except for the owning handler and the dispatchers (and the
requester themselves); showing it unmasked leaves an audit event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import Count, Q
from django.http import Http404
from django.utils import timezone

from linjialin.core import audit
from linjialin.core.masking import mask_mobile
from linjialin.core.scope import scope_for, under

from .models import OPEN_STATES, HandlingLevel, HandlingUnit, ServiceRequest, State
from .workflow import dispatcher, unit_roles


def joined_request_ids(user):
    """The requests the user joined as a co-requester (我也遇到, or their own request merged into it)."""
    from .models import CoRequester

    return CoRequester.objects.filter(user=user).values("request_id")


def _visible(user):
    """The requests.view scope, plus the user's own: as requester, as a co-requester, as the one who
    submitted it (代报, a patrol finding) or as its owning handler."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ServiceRequest.objects.none()
    scope = scope_for(user, "requests.view")
    own = Q(requester=user) | Q(submitted_by=user) | Q(handler=user) | Q(pk__in=joined_request_ids(user))
    units = list(unit_roles(user))
    if units:  # a unit's members see what their unit owns or helps with
        own |= Q(unit_id__in=units) | Q(assists__unit_id__in=units)
    qs = ServiceRequest.objects.filter(own if scope.is_empty else scope.q() | own)
    return qs.distinct() if units else qs


def visible_requests(user):
    """Every request the user may open (the same rule as get_request_for_user)."""
    return _visible(user)


def overdue_q(now: datetime | None = None) -> Q:
    """The same rule as services.is_overdue, as a query."""
    now = now or timezone.now()
    return Q(state__in=[State.SUBMITTED, State.ESCALATED], accept_by__lt=now) | Q(
        state__in=[State.ACCEPTED, State.IN_PROGRESS, State.EXTENSION_REQUESTED], resolve_by__lt=now
    )


def list_requests_for_user(
    user,
    *,
    state: str | None = None,
    level: int | None = None,
    overdue: bool | None = None,
    place_path: str | None = None,
    mine: bool = False,
):
    """The requests the user may see, newest first, filtered."""
    qs = _visible(user).select_related("place", "category", "handler")
    if mine:
        qs = qs.filter(requester=user)
    if state:
        qs = qs.filter(state=state)
    if level is not None:
        qs = qs.filter(level=level)
    if overdue is not None:
        qs = qs.filter(overdue_q()) if overdue else qs.exclude(overdue_q())
    if place_path:
        qs = qs.filter(under(place_path))
    return qs


def get_request_for_user(user, request_id) -> ServiceRequest:
    """The request, or 404 when it is missing or the user may not see it."""
    try:
        return _visible(user).select_related("place", "category", "handler").get(pk=request_id)
    except (ServiceRequest.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def timeline(req: ServiceRequest):
    return req.events.all()


@dataclass(frozen=True)
class Contact:
    name: str
    mobile: str
    masked: bool


def may_see_contact(user, req: ServiceRequest) -> bool:
    """The owning handler, a dispatcher over the request's place, the requester themselves, or whoever
    submitted it for them (代报: they wrote the contact down)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return (
        (req.handler_id is not None and req.handler_id == user.pk)
        or (req.requester_id is not None and req.requester_id == user.pk)
        or (req.submitted_by_id is not None and req.submitted_by_id == user.pk)
        or dispatcher(user, req)
    )


def _mask_name(name: str) -> str:
    # the first character and one star: the length of a name says something about who it is
    return f"{name[0]}*" if name else ""


def requester_contact(user, req: ServiceRequest) -> Contact:
    """The requester's name and mobile: in full (audited as request.contact_viewed) for the owning
    handler and the dispatchers, masked for everyone else. The requester's own view is not audited."""
    name = req.contact_name or (req.requester.display_name if req.requester_id else "")
    mobile = req.contact_mobile or (req.requester.mobile if req.requester_id else "")
    if not may_see_contact(user, req):
        return Contact(_mask_name(name), mask_mobile(mobile), masked=True)
    if req.requester_id != user.pk:
        audit.record("request.contact_viewed", actor=user, obj=req)
    return Contact(name, mobile, masked=False)


# --- handling units -----------------------------------------------------------------------------------
def handlers_of(req: ServiceRequest) -> list:
    """Who is on duty to accept the request now: the owning unit's members at the department level,
    else the holders of requests.handle at the request's level over its place."""
    from linjialin.accounts.selectors import holders

    if req.level == HandlingLevel.DEPARTMENT and req.unit_id:
        return unit_members(req.unit_id)
    return holders("requests.handle", req.path, levels={req.level})


def unit_members(unit_id: int) -> list:
    """The active members of a unit, by id (`unit.members.filter(is_active=True).order_by("pk")`, read
    as one plain statement: asked at every step of a department's request)."""
    from linjialin.accounts.models import User
    from linjialin.core import rows

    from .models import UnitMember

    members = connection.ops.quote_name(UnitMember._meta.db_table)
    # a table name only: the unit is a parameter
    where = f"t.is_active = %s AND t.id IN (SELECT m.user_id FROM {members} m WHERE m.unit_id = %s)"  # noqa: S608
    return rows.fetch(User, where, [True, unit_id], order_by="t.id")


def units_serving(path: str):
    """The active units that serve a place (for dispatch and 吹哨 choices)."""
    return [
        u
        for u in HandlingUnit.objects.filter(active=True).order_by("kind", "code")
        if path.startswith(u.path)
    ]


def my_assists(user, req: ServiceRequest) -> list:
    """The assists on `req` that the user may act on (报到, report back) as a member of the unit."""
    units = unit_roles(user) if user is not None and user.is_authenticated else {}
    return [a for a in req.assists.select_related("unit") if a.unit_id in units]


# --- the handler's queue and the home page --------------------------------------------------------------
def due_at(req: ServiceRequest) -> datetime | None:
    """The deadline the request runs against now: acceptance while waiting, resolution once taken on."""
    return req.accept_by if req.state in (State.SUBMITTED, State.ESCALATED) else req.resolve_by


def handles_requests(user) -> bool:
    """Whether the user handles requests somewhere (requests.handle, or a handling unit's member)."""
    return not scope_for(user, "requests.handle").is_empty or bool(unit_roles(user))


def queue_buckets(user, now: datetime | None = None) -> dict[str, list[ServiceRequest]]:
    """The handler's queue over their places: new (to accept at their level), mine, due soon, overdue
    — the open requests the user handles at their level or owns, oldest first (one query), each with
    `co_count` (its co-requesters); "open" holds them all. Someone who sees requests but handles none
    (a 楼长 or 层长) follows every open request in their view instead."""
    from .due import DueSoon
    from .services import is_overdue
    from .workflow import handler

    now = now or timezone.now()
    due_soon = DueSoon(now)
    watcher = not handles_requests(user) and scope_for(user, "requests.dispatch").is_empty  # desk has its own
    open_reqs = [
        r
        for r in ServiceRequest.objects.visible_to(user, "requests.view")
        .filter(state__in=OPEN_STATES)
        .select_related("place", "category")
        .annotate(co_count=Count("co_requesters"))  # voices: the requester and the co-requesters
        .order_by("submitted_at")
        if watcher or handler(user, r) or r.handler_id == user.pk
    ]
    return {
        "open": open_reqs,
        "new": [r for r in open_reqs if r.state in (State.SUBMITTED, State.ESCALATED)],
        "mine": [r for r in open_reqs if r.handler_id == user.pk],
        "due": [r for r in open_reqs if due_soon(r)],
        "overdue": [r for r in open_reqs if is_overdue(r, now)],
    }


def desk_tab_q(tab: str, now: datetime) -> Q:
    """The dispatcher desk's tabs as queries (the desk page and the home page count the same)."""
    return {
        "incoming": Q(state__in=[State.SUBMITTED, State.ESCALATED], level=HandlingLevel.SUBDISTRICT),
        "returned": Q(state=State.RETURNED),
        "open": Q(state__in=OPEN_STATES),
        "overdue": overdue_q(now),
        "supervised": Q(supervised=True, state__in=OPEN_STATES),
    }[tab]


@dataclass
class RequestHome:
    """What the home page shows of requests: counts, and the oldest overdue item to open at once."""

    my_open: int = 0  # the user's own requests (as requester, co-requester or submitter) still open
    my_to_rate: int = 0  # resolved and waiting for the user's rating
    queue: dict[str, int] | None = None  # new / mine / due / overdue, for handlers
    first_overdue: ServiceRequest | None = None
    desk: dict[str, int] | None = None  # to dispatch / returned / overdue / supervised, for dispatchers


def home_counts_for_user(user, now: datetime | None = None) -> RequestHome:
    """The request figures of the user's home page (a few aggregate queries, no list of requests)."""
    now = now or timezone.now()
    out = RequestHome()
    own = ServiceRequest.objects.filter(
        Q(requester=user) | Q(submitted_by=user) | Q(pk__in=joined_request_ids(user))
    )
    mine = own.aggregate(
        open=Count("pk", filter=Q(state__in=OPEN_STATES)),
        to_rate=Count("pk", filter=Q(state=State.RESOLVED, requester=user)),
    )
    out.my_open, out.my_to_rate = mine["open"], mine["to_rate"]
    dispatcher_only = not scope_for(user, "requests.dispatch").is_empty and not handles_requests(user)
    if not scope_for(user, "requests.view").is_empty and not dispatcher_only:
        buckets = queue_buckets(user, now)
        out.queue = {key: len(rows) for key, rows in buckets.items() if key != "open"}
        out.first_overdue = buckets["overdue"][0] if buckets["overdue"] else None
    if not scope_for(user, "requests.dispatch").is_empty:
        base = ServiceRequest.objects.visible_to(user, "requests.dispatch")
        tabs = ("incoming", "returned", "overdue", "supervised")
        out.desk = base.aggregate(**{tab: Count("pk", filter=desk_tab_q(tab, now)) for tab in tabs})
    return out
