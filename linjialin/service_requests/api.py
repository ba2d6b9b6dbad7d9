"""/api/v1/requests/…: thin endpoints over service_requests.selectors, .services and .metrics.

Reads go through selectors (404 when missing or outside the caller's view: their requests.view scope or
their own requests); 403 when the request is visible but the transition is not allowed (wrong state or
wrong person, with the reason); 409 when someone else moved it first; 422 for bad input, naming the field.
Authentication: the session cookie, or a bearer token for integrations (linjialin/api.py, docs/api.md).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from linjialin.accounts.scope import granted_place
from linjialin.core.api import BODY_ERRORS, ID_MAX, Day, Error, path_id
from linjialin.core.scope import scope_for
from linjialin.places.models import Place
from linjialin.places.selectors import get_place_for_user, place_by_id

from . import duplicates, intake, metrics, selectors, services
from .models import Category, Channel, HandlingUnit, RequestAssist, ServiceRequest
from .schemas import (
    CheckInIn,
    ContactIn,
    DecideExtensionIn,
    DispatchIn,
    DuplicatesOut,
    ExtensionIn,
    MergeIn,
    NotAcceptIn,
    NoteIn,
    RateIn,
    RatesReport,
    ReasonIn,
    ReassignIn,
    RecategoriseIn,
    RepeatFound,
    ReportBackIn,
    RequestDetailOut,
    RequestFilters,
    RequestPage,
    ResultIn,
    SimilarOut,
    SimilarQuery,
    SubmitIn,
    SubmitOut,
    SummonIn,
    UnitOut,
    WithdrawIn,
)
from .workflow import workflow

router = Router(tags=["requests"])

Id = path_id("request id")
AssistId = path_id("id of the called unit's assist")
LIST = {401: Error, 422: Error}
READ = {401: Error, 404: Error, 422: Error}
SUBMIT = {**BODY_ERRORS, 401: Error, 403: Error, 404: Error, 422: Error}
MOVE = {**BODY_ERRORS, 401: Error, 403: Error, 404: Error, 409: Error, 422: Error}


def _out(req: ServiceRequest) -> dict:
    return {
        "id": req.pk,
        "number": req.number,
        "request_type": req.request_type,
        "state": req.state,
        "level": req.level,
        "urgency": req.urgency,
        "channel": req.channel,
        "description": req.description,
        "place_id": req.place_id,
        "place_name": req.place.name,
        "path": req.path,
        "category": req.category.code if req.category_id else None,
        "supervised": req.supervised,
        "reopen_count": req.reopen_count,
        "overdue": services.is_overdue(req),
        "submitted_at": req.submitted_at,
        "accept_by": req.accept_by,
        "resolve_by": req.resolve_by,
        "accepted_at": req.accepted_at,
        "resolved_at": req.resolved_at,
        "closed_at": req.closed_at,
        "result": req.result,
        "solved": req.solved,
        "satisfaction": req.satisfaction,
    }


def _detail(user, req: ServiceRequest) -> dict:
    req.refresh_from_db()
    contact = selectors.requester_contact(user, req)
    return {
        **_out(req),
        "unit_id": req.unit_id,
        "assists": [
            {
                "id": a.pk,
                "unit_id": a.unit_id,
                "unit_name": a.unit.name_zh,
                "kind": a.kind,
                "note": a.note,
                "added_at": a.added_at,
                "checked_in_at": a.checked_in_at,
                "report": a.report,
                "reported_at": a.reported_at,
            }
            for a in req.assists.select_related("unit")
        ],
        "contact": vars(contact),
        "timeline": [
            {"kind": e.kind, "at": e.at, "actor_name": e.actor_name, "note": e.note, "data": e.data}
            for e in selectors.timeline(req)
        ],
        "transitions": [t.name for t in workflow.available(req, user)],
    }


# --- rates (before /{id} so "rates" is never read as an id) --------------------------------------
class RatesQuery(Schema):
    place: int = Field(..., ge=1, le=ID_MAX, description="place id: the rates there and per child place")
    from_: Day | None = Field(None, alias="from", description="first day (default: the 1st of this month)")
    to: Day | None = Field(None, description="last day, inclusive (default: today); from/to may be swapped")


def _rates_out(r: metrics.Rates) -> dict:
    def rate(x: metrics.Rate) -> dict:
        return {
            "numerator": x.numerator,
            "denominator": x.denominator,
            "value": x.value,
            "percent": x.percent,
            "formula": x.formula,
            "in_progress": x.pending,
        }

    return {
        "response": rate(r.response),
        "resolution": rate(r.resolution),
        "satisfaction": rate(r.satisfaction),
        "signoff": rate(r.signoff),
        "contact": rate(r.contact),
        "completion": rate(r.completion),
        "checkin": rate(r.checkin) if r.checkin else None,
        "report_back": rate(r.report_back) if r.report_back else None,
        "score": r.score.value,
        "score_formula": r.score.formula,
    }


@router.get("/rates", response={200: RatesReport, **READ}, summary="响应率, 解决率, 满意率 at a place")
def get_rates(request, q: Query[RatesQuery]):
    """The rates over the days [from, to] (Beijing time) of the requests the caller may see at the
    place, and per child place. Definitions: docs/rates.md."""
    user = request.auth
    place = get_place_for_user(user, q.place, "requests.view")
    today = timezone.localdate()
    first = q.from_ or today.replace(day=1)
    last = q.to or today
    first, last = min(first, last), max(first, last)  # a period given backwards is the same period
    tz = timezone.get_current_timezone()
    start = datetime.combine(first, time.min, tzinfo=tz)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz)
    table = metrics.rates_table(user, place, (start, end))
    return {
        "place_id": place.pk,
        "period_from": start,
        "period_to": end,
        "total": _rates_out(table.total),
        "children": [
            {
                "place_id": r.place.pk,
                "place_name": r.place.name,
                "level": r.place.level,
                "rates": _rates_out(r.rates),
            }
            for r in table.places
        ],
        "by_level": [
            {"level": r.level, "rates": _rates_out(r.rates)}
            for r in sorted(table.levels, key=lambda r: r.level)
        ],
        "by_unit": [
            {"unit_id": r.unit.pk, "unit_name": r.unit.name_zh, "rates": _rates_out(r.rates)}
            for r in table.units
        ],
    }


class UnitsQuery(Schema):
    place: int | None = Field(None, ge=1, le=ID_MAX, description="only the units serving this place (id)")


@router.get("/units", response={200: list[UnitOut], **READ}, summary="Handling units")
def list_units(request, q: Query[UnitsQuery]):
    """The active units (departments, offices, companies); with `place`, those serving that place
    (the choices for dispatch and 吹哨). A place outside your view answers 404."""
    if q.place is not None:
        return selectors.units_serving(get_place_for_user(request.auth, q.place, "requests.view").path)
    return list(HandlingUnit.objects.filter(active=True).order_by("kind", "code"))


# --- duplicates (docs/duplicates.md; before /{id}) ------------------------------------------------
@router.get(
    "/similar", response={200: list[SimilarOut], **LIST}, summary="Similar open requests near your home"
)
def similar(request, q: Query[SimilarQuery]):
    """For the submit form: open requests at the shared places of your compound (entrances, buildings,
    public area) in the last days, most similar to `text` first. Empty without a home household."""
    user = request.auth
    household = duplicates.home_household(user)
    items = duplicates.similar_open(household, q.text, user=user) if household is not None else []
    return [
        {
            "id": s.request.pk,
            "number": s.request.number,
            "text": s.text,
            "state": s.request.state,
            "submitted_at": s.request.submitted_at,
            "similarity": s.similarity,
            "near": s.near,
            "voices": s.voices,
            "joined": s.joined,
        }
        for s in items
    ]


@router.get(
    "/{request_id}/duplicates",
    response={200: DuplicatesOut, 401: Error, 403: Error, 404: Error, 422: Error},
    summary="Duplicate candidates (dispatchers)",
)
def list_duplicates(request, request_id: Id):
    """Similar open requests near this one with their similarity; dispatchers only (403 for others
    who may see it). Merge with /merge; a merged request follows its parent's state."""
    from .workflow import dispatcher

    req = selectors.get_request_for_user(request.auth, request_id)
    if not dispatcher(request.auth, req):
        raise HttpError(403, _("Only a dispatcher sees duplicate candidates."))
    return {
        "request_id": req.pk,
        "merged_into": req.merged_into_id,
        "followed_state": duplicates.followed(req).state,
        "candidates": [
            {
                "id": s.request.pk,
                "number": s.request.number,
                "description": s.request.description,
                "place_id": s.request.place_id,
                "place_name": s.request.place.name,
                "state": s.request.state,
                "submitted_at": s.request.submitted_at,
                "similarity": s.similarity,
                "near": s.near,
                "voices": s.voices,
            }
            for s in duplicates.candidates_for(req)
        ],
    }


# --- list, detail, submit ------------------------------------------------------------------------
@router.get("/", response={200: RequestPage, **LIST}, summary="Requests you may see (newest first)")
def list_requests(request, filters: Query[RequestFilters]):
    place_path = None
    if filters.place is not None:
        place = Place.objects.filter(pk=filters.place).first()
        # only a filter: the list holds only what the caller may see anyway; an unknown place has nothing
        place_path = place.path if place else "~"
    qs = selectors.list_requests_for_user(
        request.auth,
        state=filters.state,
        level=filters.level,
        overdue=filters.overdue,
        place_path=place_path,
        mine=filters.mine,
    )
    page = list(qs[filters.offset : filters.offset + filters.limit])
    return {
        "count": qs.count(),
        "limit": filters.limit,
        "offset": filters.offset,
        "items": [_out(r) for r in page],
    }


@router.get(
    "/{request_id}", response={200: RequestDetailOut, **READ}, summary="One request with its timeline"
)
def get_request(request, request_id: Id):
    """The requester's contact is masked unless you are the owning handler or a dispatcher (showing
    it in full is audited as request.contact_viewed)."""
    return _detail(request.auth, selectors.get_request_for_user(request.auth, request_id))


@router.post(
    "/",
    response={201: SubmitOut, 200: SubmitOut, 409: RepeatFound, **SUBMIT},
    summary="Submit a request",
)
def submit(request, payload: SubmitIn):
    """A new request. Sending the same `client_token` again returns the first request (200).

    The text is screened (docs/intake.md): an emergency or a court / arbitration / 信访 matter is
    recorded as not accepted (`diversion`, with the message and where it belongs) unless
    `not_diverted`; an open request like this one answers 409 with its number (nothing written):
    submit again with `repeat` = `link` (no new facts) or `new`."""
    user = request.auth
    # a resident's flat or entrance came with their grants (read for the scope check): no query for it
    place = granted_place(user, payload.place_id) or place_by_id(payload.place_id)
    if place is None:
        raise Http404
    category = None
    if payload.category:
        category = Category.objects.filter(code=payload.category).first()
        if category is None:
            raise HttpError(404, _("Unknown category."))
    try:
        req = services.submit_request(
            user,
            place=place,
            request_type=payload.request_type,
            description=payload.description,
            category=category,
            urgency=payload.urgency,
            channel=payload.channel,
            client_token=payload.client_token,
            board_consent=payload.board_consent,
            contact_name=payload.contact_name,
            contact_mobile=payload.contact_mobile,
            screen=payload.channel in (Channel.RESIDENT, Channel.ON_BEHALF),
            not_diverted=payload.not_diverted,
            repeat=payload.repeat,
        )
    except intake.PossibleRepeat as found:
        return Status(
            409,
            {
                "detail": _("Request %(number)s about this is still open. Is there anything new?")
                % {"number": found.existing.number},
                # the id only when the caller may open it (a household member's request: number only)
                "repeat_of": found.existing.pk
                if selectors.visible_requests(user).filter(pk=found.existing.pk).exists()
                else None,
                "repeat_of_number": found.existing.number,
                "repeat_of_state": found.existing.state,
            },
        )
    except PermissionDenied:
        if not scope_for(user, "places.view_place").covers(place.path):
            raise Http404 from None
        raise
    return Status(200 if getattr(req, "replayed", False) else 201, {**_out(req), **intake.outcome(req)})


# --- transitions ---------------------------------------------------------------------------------
def _get(request, request_id):
    return selectors.get_request_for_user(request.auth, request_id)


@router.post("/{request_id}/accept", response={200: RequestDetailOut, **MOVE}, summary="Accept (首接负责)")
def accept(request, request_id: Id, payload: NoteIn):
    req = services.accept_request(request.auth, _get(request, request_id), note=payload.note)
    return _detail(request.auth, req)


@router.post("/{request_id}/contact", response={200: RequestDetailOut, **MOVE}, summary="Record contact")
def contact(request, request_id: Id, payload: ContactIn):
    req = services.record_contact(request.auth, _get(request, request_id), note=payload.note)
    return _detail(request.auth, req)


@router.post("/{request_id}/resolve", response={200: RequestDetailOut, **MOVE}, summary="Resolve")
def resolve(request, request_id: Id, payload: ResultIn):
    req = services.resolve_request(request.auth, _get(request, request_id), result=payload.result)
    return _detail(request.auth, req)


@router.post("/{request_id}/escalate", response={200: RequestDetailOut, **MOVE}, summary="Escalate one level")
def escalate(request, request_id: Id, payload: ReasonIn):
    req = services.escalate_request(request.auth, _get(request, request_id), reason=payload.reason)
    return _detail(request.auth, req)


@router.post("/{request_id}/return", response={200: RequestDetailOut, **MOVE}, summary="Return (退单)")
def return_(request, request_id: Id, payload: ReasonIn):
    req = services.return_request(request.auth, _get(request, request_id), reason=payload.reason)
    return _detail(request.auth, req)


@router.post(
    "/{request_id}/dispatch", response={200: RequestDetailOut, **MOVE}, summary="Dispatch to a level"
)
def dispatch(request, request_id: Id, payload: DispatchIn):
    req = _get(request, request_id)
    unit = _unit(payload.unit_id)
    req = services.dispatch_request(request.auth, req, level=payload.level, unit=unit, note=payload.note)
    return _detail(request.auth, req)


def _unit(unit_id: int | None) -> HandlingUnit | None:
    if unit_id is None:
        return None
    unit = HandlingUnit.objects.filter(pk=unit_id).first()
    if unit is None:
        raise HttpError(422, _("Unknown unit."))
    return unit


@router.post(
    "/{request_id}/reassign",
    response={200: RequestDetailOut, **MOVE},
    summary="Reassign to another level or unit (dispatcher, with a reason)",
)
def reassign(request, request_id: Id, payload: ReassignIn):
    req = _get(request, request_id)
    req = services.reassign_request(
        request.auth, req, level=payload.level, unit=_unit(payload.unit_id), reason=payload.reason
    )
    return _detail(request.auth, req)


@router.post(
    "/{request_id}/summon",
    response={200: RequestDetailOut, **MOVE},
    summary="吹哨 or add co-handling units",
)
def summon(request, request_id: Id, payload: SummonIn):
    req = _get(request, request_id)
    units = [u for u in selectors.units_serving(req.path) if u.pk in set(payload.unit_ids)]
    if len(units) != len(set(payload.unit_ids)):
        raise HttpError(422, _("A unit does not exist or does not serve this place."))
    services.summon_units(request.auth, req, units=units, kind=payload.kind, note=payload.note)
    return _detail(request.auth, req)


@router.post(
    "/{request_id}/recategorise",
    response={200: RequestDetailOut, **MOVE},
    summary="Correct the category (dispatcher or owning handler)",
)
def recategorise(request, request_id: Id, payload: RecategoriseIn):
    req = _get(request, request_id)
    category = Category.objects.filter(code=payload.category).first()
    if category is None:
        raise HttpError(422, _("Unknown category."))
    services.recategorise_request(request.auth, req, category=category, note=payload.note)
    return _detail(request.auth, req)


def _assist(request, request_id, assist_id) -> RequestAssist:
    req = _get(request, request_id)
    assist = req.assists.select_related("unit", "request").filter(pk=assist_id).first()
    if assist is None:
        raise Http404
    return assist


@router.post(
    "/{request_id}/assists/{assist_id}/check_in",
    response={200: RequestDetailOut, **MOVE},
    summary="报到: your unit reports for duty",
)
def check_in(request, request_id: Id, assist_id: AssistId, payload: CheckInIn):
    assist = services.check_in(request.auth, _assist(request, request_id, assist_id), note=payload.note)
    return _detail(request.auth, assist.request)


@router.post(
    "/{request_id}/assists/{assist_id}/report_back",
    response={200: RequestDetailOut, **MOVE},
    summary="Your unit reports back to the owner",
)
def report_back(request, request_id: Id, assist_id: AssistId, payload: ReportBackIn):
    assist = services.report_back(
        request.auth, _assist(request, request_id, assist_id), report=payload.report
    )
    return _detail(request.auth, assist.request)


@router.post("/{request_id}/not_accept", response={200: RequestDetailOut, **MOVE}, summary="不予受理")
def not_accept(request, request_id: Id, payload: NotAcceptIn):
    req = services.not_accept_request(
        request.auth, _get(request, request_id), reason=payload.reason, referred_to=payload.referred_to
    )
    return _detail(request.auth, req)


@router.post(
    "/{request_id}/request_extension", response={200: RequestDetailOut, **MOVE}, summary="Ask for more time"
)
def request_extension(request, request_id: Id, payload: ExtensionIn):
    req = services.request_extension(
        request.auth, _get(request, request_id), days=payload.days, reason=payload.reason
    )
    return _detail(request.auth, req)


@router.post(
    "/{request_id}/decide_extension",
    response={200: RequestDetailOut, **MOVE},
    summary="Grant or refuse an extension",
)
def decide_extension(request, request_id: Id, payload: DecideExtensionIn):
    req = services.decide_extension(
        request.auth, _get(request, request_id), grant=payload.grant, note=payload.note
    )
    return _detail(request.auth, req)


@router.post("/{request_id}/rate", response={200: RequestDetailOut, **MOVE}, summary="Rate / call back")
def rate(request, request_id: Id, payload: RateIn):
    req = services.rate_request(
        request.auth,
        _get(request, request_id),
        solved=payload.solved,
        satisfaction=payload.satisfaction,
        comment=payload.comment,
    )
    return _detail(request.auth, req)


@router.post("/{request_id}/withdraw", response={200: RequestDetailOut, **MOVE}, summary="Withdraw")
def withdraw(request, request_id: Id, payload: WithdrawIn):
    req = services.withdraw_request(request.auth, _get(request, request_id), reason=payload.reason)
    return _detail(request.auth, req)


@router.post("/{request_id}/merge", response={200: RequestDetailOut, **MOVE}, summary="Merge into another")
def merge(request, request_id: Id, payload: MergeIn):
    req = _get(request, request_id)
    into = selectors.get_request_for_user(request.auth, payload.into)
    return _detail(request.auth, services.merge_request(request.auth, req, into=into))


@router.post(
    "/{request_id}/unmerge", response={200: RequestDetailOut, **MOVE}, summary="Unmerge (dispatcher)"
)
def unmerge(request, request_id: Id, payload: ReasonIn):
    """A merged request becomes its own work order again (fresh time limits); the voices it brought go
    back with it. Only while the request it was merged into is open."""
    req = services.unmerge_request(request.auth, _get(request, request_id), reason=payload.reason)
    return _detail(request.auth, req)
