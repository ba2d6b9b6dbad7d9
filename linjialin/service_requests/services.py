"""The only write path for requests. Each function: check, then one transaction that moves the state
with compare-and-set (core.workflow), writes the timeline event and the audit event."""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linjialin.core import audit
from linjialin.core.bulk import insert_one, insert_rows
from linjialin.core.calendar import deadline
from linjialin.core.scope import scope_for
from linjialin.core.workflow import TransitionNotAllowed

from . import holdings, intake, notices, time_limits
from .models import (
    OPEN_STATES,
    AssistKind,
    Category,
    Channel,
    HandlingLevel,
    HandlingUnit,
    HoldingEnd,
    RequestAssist,
    RequestEvent,
    RequestRules,
    RequestType,
    Satisfaction,
    ServiceRequest,
    State,
    TimeLimitPolicy,
    Urgency,
)
from .workflow import may_return_but_for_the_window, workflow

MAX_DESCRIPTION = 2000


def rules() -> RequestRules:
    return RequestRules.objects.first() or RequestRules()


def policy_for(request_type: str, category: Category | None, urgency: str) -> TimeLimitPolicy:
    """The time limits of a request: among the rows that apply, the most urgent value of each limit
    (time_limits.pick). The rows are cached per process (policy_cache.py: a minute, cleared on save)."""
    from .policy_cache import policies

    own = category.pk if category else None
    field = category.parent_id if category else None
    return time_limits.pick(policies(), request_type, own, field, urgency)


def _event(req: ServiceRequest, kind: str, actor, note: str = "", **data) -> RequestEvent:
    event = _new_event(req, kind, actor, note, **data)
    insert_one(RequestEvent, event)  # a plain INSERT: one at every step of every request
    return event


def _new_event(req: ServiceRequest, kind: str, actor, note: str = "", **data) -> RequestEvent:
    """A timeline event, not yet written (several are written with one bulk INSERT)."""
    return RequestEvent(
        request=req,
        kind=kind,
        at=timezone.now(),
        actor=actor,
        actor_name=actor.display_name if actor else "",
        note=note,
        data=data,
    )


def _check(actor, req: ServiceRequest, name: str) -> None:
    """Refuse early (before computing anything) when the state or the actor does not allow `name`."""
    try:
        workflow.check(req, name, actor)
    except TransitionNotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc


def _move(
    actor,
    req: ServiceRequest,
    name: str,
    *,
    note: str = "",
    data: dict | None = None,
    expected=None,
    **changes,
):
    """Apply transition `name` (compare-and-set on the state and `expected`), then write its timeline
    and audit events."""
    before = req.state
    _check(actor, req, name)
    workflow.apply(req, name, actor, expected=expected, **changes)
    _event(req, name, actor, note, **(data or {}))
    audit.record(
        f"request.{name}",
        actor=actor,
        obj=req,
        before={"state": before},
        after={"state": req.state},
        reason=note[:500],
    )


def _require_text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    return value


# --- intake -----------------------------------------------------------------------------------------
def submit_request(
    actor,
    *,
    place,
    request_type: str,
    description: str,
    category: Category | None = None,
    urgency: str = Urgency.NORMAL,
    channel: str = Channel.RESIDENT,
    client_token: str = "",
    board_consent: bool = False,
    contact_name: str = "",
    contact_mobile: str = "",
    screen: bool = False,
    not_diverted: bool = False,
    repeat: str = "ask",
) -> ServiceRequest:
    """A new request at `place`. The same `client_token` from the same person returns the first
    request (a double tap or a flaky network makes one request).

    With `screen` (the resident and 代报 pages; docs/intake.md) the text is screened first
    (service_requests/intake.py). A diversion (emergency, court, arbitration, 信访) is recorded as not
    accepted with the reason and not queued — an emergency also tells the people on duty at once —
    unless `not_diverted` (the submitter confirmed it is not about that: queued, the match on the
    timeline). An open request it repeats raises intake.PossibleRepeat with `repeat="ask"` (nothing
    written); `repeat="link"` records it as merged into that request (repeat_of), `repeat="new"` queues
    it as new. The caller reads the outcome from the returned request: `diversion`, `repeat_of`."""
    errors = {}
    description = (description or "").strip()
    if not description:
        errors["description"] = _("Please describe the problem.")
    elif len(description) > MAX_DESCRIPTION:
        errors["description"] = _("The description may have at most %(n)d characters.") % {
            "n": MAX_DESCRIPTION
        }
    if request_type not in RequestType.values:
        errors["request_type"] = _("Choose a type: consultation, help, complaint, report or suggestion.")
    if urgency not in Urgency.values:
        errors["urgency"] = _("Unknown urgency.")
    if category is not None and not category.active:
        errors["category"] = _("This category is no longer in use.")
    if errors:
        raise ValidationError(errors)
    if not _may_submit_at(actor, place):
        raise PermissionDenied(_("You may not submit a request for this place."))
    # The same client token again (a double tap, a retry) is the first request: the unique constraint
    # one_request_per_token stops the INSERT below (no lookup of its own on the way of every new
    # submission), or screening, before it would ask about a repeat, finds the token used.
    screening = (
        _screen(actor, place, category, description, channel, not_diverted, repeat, client_token)
        if screen
        else None
    )
    if screening and screening.replay:
        return screening.replay
    now = timezone.now()
    level = category.level if category else min(place.level, HandlingLevel.ENTRANCE)
    policy = policy_for(request_type, category, urgency)
    on_behalf = channel in (Channel.ON_BEHALF, Channel.PATROL, Channel.HOTLINE, Channel.PHONE)
    req = ServiceRequest(
        number=uuid.uuid4().hex[:20],
        request_type=request_type,
        description=description,
        category=category,
        place=place,
        path=place.path,
        level=level,
        unit=category.unit if category and level == HandlingLevel.DEPARTMENT else None,
        urgency=urgency,
        channel=channel,
        requester=None if on_behalf else actor,
        submitted_by=actor,
        contact_name=contact_name,
        contact_mobile=contact_mobile,
        board_consent=board_consent,
        client_token=client_token,
        submitted_at=now,
        accept_by=deadline(now, policy.accept_amount, policy.accept_unit),
        contact_by=deadline(now, policy.contact_amount, policy.contact_unit),
        resolve_by=deadline(now, policy.resolve_amount, policy.resolve_unit),
    )
    if screening:
        screening.shape(req)
    submitted = audit.prepare(
        "request.submitted", actor=actor, obj=req, after={"channel": channel, "level": level}
    )
    # One transaction (in a caller's, a savepoint: a replayed token's IntegrityError must leave the
    # caller's usable), the same statements on SQLite and PostgreSQL.
    told = notices.told_of_new(req, actor)  # their notices commit with the request
    try:
        with transaction.atomic():
            events = [_new_event(req, "submitted", actor, description[:200], channel=channel)]
            if screening:
                events += _screening_events(actor, req, screening)
            _insert_submitted(req, now, events, submitted)
            if screening and screening.link:
                insert_rows(RequestEvent, [_asked_again(req, screening.repeat)])
            if screening:
                _record_screening(actor, req, screening)
            notices.tell_submitted(req, actor, told)
    except IntegrityError:
        # this token was sent before (or a moment ago, by a request racing this one): that is the request
        existing = _replayed(actor, client_token) if client_token else None
        if existing is None:
            raise
        return existing
    return req


def _replayed(actor, client_token: str) -> ServiceRequest | None:
    """The request this person sent with this token, marked as replayed (the caller can tell it from a
    new one), or None."""
    existing = ServiceRequest.objects.filter(submitted_by=actor, client_token=client_token).first()
    if existing is not None:
        existing.replayed = True
    return existing


def _insert_submitted(req: ServiceRequest, now: datetime, events: list[RequestEvent], submitted) -> None:
    """INSERT the request, give it its number (the day and the id, e.g. 20261128000021: the id is known
    only after the INSERT), write its first timeline `events` and its first holder, then append its
    audit event `submitted` (audit.prepare'd before the request had an id) — the last write, as the
    chain head stays locked until the commit."""
    insert_one(ServiceRequest, req)
    req.number = f"{timezone.localtime(now):%Y%m%d}{req.pk:06d}"
    ServiceRequest.objects.filter(pk=req.pk).update(number=req.number)
    for event in events:
        event.request = req
    insert_rows(RequestEvent, events)
    holdings.start(req, at=now)
    submitted.object_id, submitted.object_repr = str(req.pk), str(req)[:200]
    audit.append(submitted)


def _may_submit_at(actor, place) -> bool:
    """Anywhere in the submit scope (a leader's entrance, 代报); and a resident, whose scope is their
    flat, also for the places above it up to the community (the entrance, a public area)."""
    scope = scope_for(actor, "requests.submit")
    if scope.covers(place.path):
        return True
    return place.level >= HandlingLevel.COMMUNITY and any(p.startswith(place.path) for p in scope.prefixes)


# intake screening (service_requests/intake.py decides; these record): diversions and repeats
ON_BEHALF_CHANNELS = (Channel.ON_BEHALF, Channel.PATROL, Channel.HOTLINE, Channel.PHONE)


@dataclass
class _Screening:
    replay: ServiceRequest | None = None  # the same submission sent before (same person, same token)
    match: intake.Match | None = None  # a diversion rule matched the text
    diverted: bool = False  # … and the submitter did not confirm otherwise: recorded, not queued
    repeat: ServiceRequest | None = None  # the open request this one repeats
    link: bool = False  # … and there are no new facts: recorded as merged into it

    @property
    def writes_more(self) -> bool:
        """Whether recording it writes after the request (_asked_again, _record_screening)."""
        return self.match is not None or self.link

    def shape(self, req: ServiceRequest) -> None:
        """A diverted submission is recorded as not accepted; a linked repeat as merged into the open
        request. Neither is due for anything (no deadlines), so neither is queued or swept."""
        if self.diverted:
            req.state, req.diversion, req.closed_at = State.NOT_ACCEPTED, self.match.kind, req.submitted_at
        elif self.link:
            req.state, req.merged_into, req.repeat_of = State.MERGED, self.repeat, self.repeat
        else:
            return
        req.accept_by = req.contact_by = req.resolve_by = None


def _screen(actor, place, category, description, channel, not_diverted, repeat, client_token) -> _Screening:
    if repeat not in ("ask", "link", "new"):
        raise ValidationError({"repeat": _("Say whether there are new facts.")})
    match = intake.match_diversion(description)
    if match and not not_diverted:
        return _Screening(match=match, diverted=True)
    requester = None if channel in ON_BEHALF_CHANNELS else actor
    existing = intake.find_repeat(
        actor=actor, requester=requester, place=place, category=category, description=description
    )
    if existing is not None and repeat == "ask":
        # not when it is this very submission sent again (its first sending may be the open request
        # found): then that is the answer. Otherwise the INSERT tells a replay (one_request_per_token).
        replay = _replayed(actor, client_token) if client_token else None
        if replay is not None:
            return _Screening(replay=replay)
        raise intake.PossibleRepeat(existing)
    return _Screening(match=match, repeat=existing, link=existing is not None and repeat == "link")


def _screening_events(actor, req: ServiceRequest, s: _Screening) -> list[RequestEvent]:
    """The request's own timeline events of the screening (written with its "submitted" event; the note
    on a linked open request is _asked_again)."""
    events = []
    if s.match and s.diverted:
        note = f"{s.match.message}\n→ {s.match.referred_to}" if s.match.referred_to else s.match.message
        events.append(_new_event(req, "diverted", actor, note, **s.match.data()))
    elif s.match:
        note = _("Matched “%(keyword)s” (%(kind)s); the submitter confirmed it is not about that.") % {
            "keyword": s.match.keyword,
            "kind": s.match.kind_label,
        }
        events.append(_new_event(req, "diversion_overridden", actor, note, **s.match.data()))
    if s.repeat is None:
        return events
    if s.link:
        note = _("Linked to request %(number)s, which is still open: no new facts.")
        events.append(
            _new_event(
                req, "repeat_linked", actor, note % {"number": s.repeat.number}, repeat_of=s.repeat.number
            )
        )
    else:
        note = _("Submitted as new: the submitter has new facts beyond request %(number)s.")
        events.append(
            _new_event(req, "repeat_new_facts", actor, note % {"number": s.repeat.number}, of=s.repeat.number)
        )
    return events


def _asked_again(req: ServiceRequest, other: ServiceRequest) -> RequestEvent:
    """On the open request a submission was linked to, without the submitter's name (others may read
    its timeline): written once `req` has its number."""
    note = _("Asked about again (request %(number)s), with no new facts.")
    return _new_event(other, "repeat", None, note % {"number": req.number}, repeat=req.number)


def _record_screening(actor, req: ServiceRequest, s: _Screening) -> None:
    """The audit events of the screening, and an emergency's notices (in the submission's transaction;
    the timeline events are written by _screening_events)."""
    if s.match and s.diverted:
        audit.record(
            "request.diverted",
            actor=actor,
            obj=req,
            after={"diversion": s.match.kind, "keyword": s.match.keyword, "referred_to": s.match.referred_to},
        )
        if s.match.emergency:
            notices.notify_emergency(actor, req, s.match)
    elif s.match:
        audit.record(
            "request.diversion_overridden",
            actor=actor,
            obj=req,
            after={"diversion": s.match.kind, "keyword": s.match.keyword},
        )
    if s.repeat is not None and s.link:
        audit.record("request.repeat_linked", actor=actor, obj=req, after={"repeat_of": s.repeat.number})


def attach_submission_photos(actor, req: ServiceRequest, files) -> list:
    """The photos sent with a submission. An open request: attach_photos. One that intake recorded
    without queuing (diverted, or linked to an open request) keeps them too, for whoever follows it up
    — but only for the person who just submitted it."""
    files = list(files)
    if req.state in OPEN_STATES or not files:
        return attach_photos(actor, req, files)
    if actor is None or req.submitted_by_id != actor.pk:
        raise PermissionDenied(_("You may not add photos to this request."))
    from . import photos

    cleaned = photos.check_photos(files, already=req.photos.count())
    stored: list = []
    with _removed_on_error(stored), transaction.atomic():
        _store_photos(actor, req, cleaned, stored)
    return stored


def import_hotline_orders(actor, rows) -> tuple[list[ServiceRequest], list[tuple]]:
    """Hotline work orders (12345), each already checked by hotline.check_table (place, category,
    times): one request per new external id, all in one transaction, channel HOTLINE, submitted by the
    importer, no requester. An external id imported before is left exactly as it is and reported as
    (row, request) — a changed row never overwrites a request that is being handled. Only a dispatcher
    (requests.dispatch) over every order's place may import. Returns (created, already imported)."""
    scope = scope_for(actor, "requests.dispatch")
    if scope.is_empty or any(not scope.covers(row.place.path) for row in rows):
        raise PermissionDenied(_("Only the dispatcher desk may import hotline work orders for these places."))
    now = timezone.now()
    created: list[ServiceRequest] = []
    already: list[tuple] = []
    with transaction.atomic():
        stored = {
            r.external_id: r
            for r in ServiceRequest.objects.filter(external_id__in=[row.external_id for row in rows])
        }
        for row in rows:
            if row.external_id in stored:
                already.append((row, stored[row.external_id]))
                continue
            category = row.category
            level = min(category.level, place_level(row.place))
            policy = policy_for(row.request_type, category, Urgency.NORMAL)
            req = ServiceRequest(
                number=uuid.uuid4().hex[:20],
                request_type=row.request_type,
                description=row.content,
                category=category,
                place=row.place,
                path=row.place.path,
                level=level,
                unit=category.unit if level == HandlingLevel.DEPARTMENT else None,
                channel=Channel.HOTLINE,
                submitted_by=actor,
                contact_name=row.contact_name,
                contact_mobile=row.contact_phone,
                external_id=row.external_id,
                submitted_at=row.received_at,
                # the clocks run from the moment the order reaches us; its own deadline wins
                accept_by=deadline(now, policy.accept_amount, policy.accept_unit),
                contact_by=deadline(now, policy.contact_amount, policy.contact_unit),
                resolve_by=row.deadline or deadline(now, policy.resolve_amount, policy.resolve_unit),
            )
            req.save()
            req.number = f"{timezone.localtime(now):%Y%m%d}{req.pk:06d}"
            ServiceRequest.objects.filter(pk=req.pk).update(number=req.number)
            stored[row.external_id] = req
            holdings.start(req, at=now)
            _event(
                req,
                "submitted",
                actor,
                row.content[:200],
                channel=Channel.HOTLINE,
                external_id=row.external_id,
            )
            audit.record(
                "request.submitted",
                actor=actor,
                obj=req,
                after={"channel": Channel.HOTLINE, "level": level, "external_id": row.external_id},
            )
            notices.tell_submitted(req, actor)
            created.append(req)
        audit.record(
            "request.hotline_import",
            actor=actor,
            path=_common_path([row.place.path for row in rows]),
            object_type="service_requests.hotline_import",
            object_id=now.isoformat(),
            after={"rows": len(rows), "created": len(created), "already_imported": len(already)},
        )
    return created, already


def place_level(place) -> int:
    """The lowest handling level a request at this place can have (a household is its entrance's)."""
    return min(place.level, HandlingLevel.ENTRANCE)


def _common_path(paths: list[str]) -> str:
    if not paths:
        return ""
    first, last = min(paths), max(paths)
    i = 0
    while i < min(len(first), len(last)) and first[i] == last[i]:
        i += 1
    return first[: first.rfind(".", 0, i) + 1] if "." in first[:i] else ""


# --- handling ---------------------------------------------------------------------------------------
def accept_request(actor, req: ServiceRequest, *, note: str = "") -> ServiceRequest:
    """首接负责: the accepting handler owns the request from now on."""
    with transaction.atomic():
        _move(actor, req, "accept", note=note, handler=actor, accepted_at=timezone.now())
        holdings.accepted(req)
        notices.settle(req)
        notices.tell_requesters(
            req,
            "request.accepted",
            gettext_lazy("Request %(number)s was accepted and is being handled"),
            actor=actor,
        )
    return req


def record_contact(actor, req: ServiceRequest, *, note: str) -> ServiceRequest:
    note = _require_text(note, "note", _("Say how and when you reached the requester."))
    with transaction.atomic():
        _move(actor, req, "contact", note=note, contacted_at=timezone.now())
        notices.tell_requesters(
            req,
            "request.contacted",
            gettext_lazy("Request %(number)s: the handler has been in touch about it"),
            actor=actor,
        )
    return req


def resolve_request(actor, req: ServiceRequest, *, result: str, photos=()) -> ServiceRequest:
    """Resolved, with what was done and, optionally, "after" photos of the result (checked before
    anything is written; stored in the same transaction)."""
    result = _require_text(result, "result", _("Describe what was done."))
    after = _check_after_photos(actor, req, photos)
    stored: list = []
    with transaction.atomic(), _removed_on_error(stored):
        _move(actor, req, "resolve", note=result, result=result, resolved_at=timezone.now())
        _store_photos(actor, req, after, stored, after=True)
        notices.settle(req)
        notices.tell(
            [req.requester],
            req,
            "request.resolved",
            gettext_lazy("Request %(number)s is resolved: please rate it"),
            result[:500],
            actor=actor,
        )
        notices.tell_co_requesters(req, result, actor=actor)
    return req


def escalate_request(actor, req: ServiceRequest, *, reason: str) -> ServiceRequest:
    """Up one level of the chain (楼门 → 网格 → 社区 → 街道), with a fresh acceptance window."""
    _check(actor, req, "escalate")
    reason = _require_text(reason, "reason", _("Say why it cannot be solved at this level."))
    if req.level <= HandlingLevel.SUBDISTRICT:
        raise ValidationError(
            _("This request is already at the subdistrict; the dispatcher sends it to a department.")
        )
    now = timezone.now()
    policy = policy_for(req.request_type, req.category, req.urgency)
    with transaction.atomic():
        _move(
            actor,
            req,
            "escalate",
            note=reason,
            data={"from_level": req.level, "to_level": req.level - 1},
            expected={"level": req.level},
            level=req.level - 1,
            handler=None,
            accept_by=deadline(now, policy.accept_amount, policy.accept_unit),
            contact_by=deadline(now, policy.contact_amount, policy.contact_unit),
        )
        holdings.hand_over(req, HoldingEnd.ESCALATED, at=now)
        notices.tell_new_owner(req, actor)
    return req


def return_request(actor, req: ServiceRequest, *, reason: str) -> ServiceRequest:
    """退单: the unit sends the request back to the dispatcher with a reason, for review — only within
    the return window (time_limits.give_back_until); after it the unit handles the request or asks the
    dispatcher to reassign it."""
    try:
        _check(actor, req, "return")
    except PermissionDenied:
        if may_return_but_for_the_window(actor, req):
            raise time_limits.late_return_error(req) from None
        raise
    reason = _require_text(reason, "reason", _("Say why this request is not yours."))
    with transaction.atomic():
        _move(actor, req, "return", note=reason, handler=None)
        holdings.end(req, HoldingEnd.RETURNED)
        notices.tell_returned(req, reason, actor)
    return req


def _check_unit(req: ServiceRequest, level: int, unit: HandlingUnit | None) -> HandlingUnit | None:
    """At the department level a request belongs to one active unit that serves its place."""
    if level not in HandlingLevel.values:
        raise ValidationError({"level": _("Unknown handling level.")})
    if level != HandlingLevel.DEPARTMENT:
        return None
    if unit is None:
        raise ValidationError({"unit": _("Choose the unit that is to handle it.")})
    if not unit.active or not req.path.startswith(unit.path):
        raise ValidationError({"unit": _("%(unit)s does not serve this place.") % {"unit": unit}})
    return unit


def dispatch_request(
    actor, req: ServiceRequest, *, level: int, unit: HandlingUnit | None = None, note: str = ""
) -> ServiceRequest:
    """The dispatcher sends a new, escalated or returned request to a level (and, at the department
    level, to one unit), with a fresh acceptance window."""
    _check(actor, req, "dispatch")
    unit = _check_unit(req, level, unit)
    now = timezone.now()
    policy = policy_for(req.request_type, req.category, req.urgency)
    with transaction.atomic():
        _move(
            actor,
            req,
            "dispatch",
            note=note,
            data={"to_level": level, "to_unit": unit.name_zh if unit else ""},
            level=level,
            unit=unit,
            handler=None,
            accept_by=deadline(now, policy.accept_amount, policy.accept_unit),
            contact_by=deadline(now, policy.contact_amount, policy.contact_unit),
        )
        holdings.hand_over(req, HoldingEnd.DISPATCHED, at=now)
        notices.tell_new_owner(req, actor)
    return req


def reassign_request(
    actor, req: ServiceRequest, *, level: int, unit: HandlingUnit | None = None, reason: str
) -> ServiceRequest:
    """首接负责 holds until the dispatcher moves ownership, with a reason: the request goes to the new
    level/unit as new work (a fresh acceptance window); the old owner is told."""
    _check(actor, req, "reassign")
    reason = _require_text(reason, "reason", _("Say why the request moves to another unit."))
    unit = _check_unit(req, level, unit)
    if level == req.level and (unit.pk if unit else None) == req.unit_id:
        raise ValidationError({"unit": _("The request is already there: choose another unit or level.")})
    now = timezone.now()
    policy = policy_for(req.request_type, req.category, req.urgency)
    old_handler = req.handler
    with transaction.atomic():
        _move(
            actor,
            req,
            "reassign",
            note=reason,
            data={
                "from_level": req.level,
                "from_unit": req.unit.name_zh if req.unit_id else "",
                "to_level": level,
                "to_unit": unit.name_zh if unit else "",
            },
            expected={"handler_id": req.handler_id},
            level=level,
            unit=unit,
            handler=None,
            accepted_at=None,
            accept_by=deadline(now, policy.accept_amount, policy.accept_unit),
            contact_by=deadline(now, policy.contact_amount, policy.contact_unit),
        )
        holdings.hand_over(req, HoldingEnd.REASSIGNED, at=now)
        notices.tell_new_owner(req, actor)
        notices.tell(
            [old_handler],
            req,
            "request.reassigned",
            gettext_lazy("Request %(number)s was moved to another unit"),
            actor=actor,
        )
    return req


def not_accept_request(actor, req: ServiceRequest, *, reason: str, referred_to: str = "") -> ServiceRequest:
    """不予受理: outside the duty list; the reason and where it was sent are recorded."""
    reason = _require_text(reason, "reason", _("Give the reason."))
    with transaction.atomic():
        _move(
            actor, req, "not_accept", note=reason, data={"referred_to": referred_to}, closed_at=timezone.now()
        )
        notices.settle(req)
        notices.tell_requesters(
            req,
            "request.not_accepted",
            gettext_lazy("Request %(number)s was not taken on"),
            reason[:500],
            actor=actor,
        )
    return req


def request_extension(actor, req: ServiceRequest, *, days: int, reason: str) -> ServiceRequest:
    _check(actor, req, "request_extension")
    reason = _require_text(reason, "reason", _("Say why more time is needed."))
    policy = policy_for(req.request_type, req.category, req.urgency)
    time_limits.check_extension_cap(req, policy, int(days))
    with transaction.atomic():
        _move(actor, req, "request_extension", note=reason, extension_days=int(days), extension_reason=reason)
        notices.tell_requesters(
            req,
            "request.extension_requested",
            gettext_lazy("Request %(number)s needs more time: %(days)s more days were asked for"),
            reason[:500],
            actor=actor,
            days=int(days),
        )
        notices.tell(
            notices.extension_deciders(req),
            req,
            "request.extension_to_decide",
            gettext_lazy("Request %(number)s: an extension of %(days)s days to decide"),
            reason[:500],
            actor=actor,
            days=int(days),
        )
    return req


def decide_extension(actor, req: ServiceRequest, *, grant: bool, note: str = "") -> ServiceRequest:
    """The owning unit's supervisor grants (new deadline) or refuses. Either way the handler, the
    requester and the co-requesters are told the deadline in force and why (条例 Art. 15(2): an
    extension is explained to the requester)."""
    _check(actor, req, "grant_extension" if grant else "refuse_extension")
    if not grant:
        _require_text(note, "note", _("Say why the extension is refused."))
    policy = policy_for(req.request_type, req.category, req.urgency)
    if grant:  # the maximum may have been lowered since the ask: a grant never goes past it
        time_limits.check_extension_cap(req, policy, req.extension_days or 0)
    with transaction.atomic():
        if grant:
            new_deadline = deadline(
                req.resolve_by or timezone.now(), req.extension_days, policy.max_extension_unit
            )
            _move(
                actor,
                req,
                "grant_extension",
                note=note,
                data={"resolve_by": new_deadline.isoformat(), "days": req.extension_days},
                expected={"extension_granted": req.extension_granted},
                resolve_by=new_deadline,
                extension_granted=req.extension_granted + req.extension_days,
            )
            title = gettext_lazy("Request %(number)s has more time: the new deadline is %(due)s")
            # the handler's reason is what the requester is owed; the supervisor's note follows it
            body = "\n".join(t for t in (req.extension_reason, note.strip()) if t)
        else:
            _move(actor, req, "refuse_extension", note=note, extension_days=None)
            title = gettext_lazy("Request %(number)s: no extension, the deadline stays %(due)s")
            body = note
        notices.settle(req, keep=[req.handler])
        due = timezone.localtime(req.resolve_by).strftime("%Y-%m-%d %H:%M") if req.resolve_by else "—"
        notices.tell(
            [req.handler, *notices.requesters(req)],
            req,
            "request.extension_granted" if grant else "request.extension_refused",
            title,
            body[:500],
            actor=actor,
            due=due,
        )
    return req


# --- after resolution -------------------------------------------------------------------------------
def supervise_unsatisfied(actor, req: ServiceRequest, note: str, title) -> None:
    """Past the maximum of reopens a 不满意 puts the request under 督办: its owners and the level above
    are told (`title`). Called in the caller's transaction (a rating or a call-back)."""
    ServiceRequest.objects.filter(pk=req.pk).update(supervised=True)
    req.supervised = True
    _event(req, "supervised", actor, note)
    audit.record("request.supervised", actor=actor, obj=req, reason=note[:500])
    notices.tell(
        [*notices.owners(req), *notices.supervisors_above(req)],
        req,
        "request.supervised",
        title,
        note[:500],
        actor=actor,
    )


def rate_request(
    actor, req: ServiceRequest, *, solved: bool, satisfaction: str, comment: str = ""
) -> ServiceRequest:
    """The requester's answer (or the handler's phone call-back). A good answer closes the request;
    'not solved' or 不满意 reopens it up to the maximum, then puts it under supervision (督办)."""
    if satisfaction not in Satisfaction.values:
        raise ValidationError({"satisfaction": _("Choose 满意, 基本满意 or 不满意.")})
    now = timezone.now()
    with transaction.atomic():
        _move(
            actor,
            req,
            "call_back",
            note=comment,
            data={"solved": solved, "satisfaction": satisfaction},
            solved=solved,
            satisfaction=satisfaction,
        )
        if solved and satisfaction != Satisfaction.UNSATISFIED:
            _move(actor, req, "close", closed_at=now)
            notices.settle(req)
        elif req.reopen_count < rules().max_reopen:
            _move(actor, req, "reopen", note=comment, reopen_count=req.reopen_count + 1, resolved_at=None)
            notices.tell(
                notices.owners(req),
                req,
                "request.reopened",
                gettext_lazy("Request %(number)s was reopened: the requester is not satisfied"),
                comment[:500],
                actor=actor,
            )
        else:
            supervise_unsatisfied(
                actor,
                req,
                comment,
                gettext_lazy(
                    "Request %(number)s is under supervision (督办): the requester is still not satisfied"
                ),
            )
        from linjialin.notifications.services import mark_subject_read, subject_of

        mark_subject_read(actor, subject_of(req))  # the rater's own "please rate" is done
    return req


def withdraw_request(actor, req: ServiceRequest, *, reason: str = "") -> ServiceRequest:
    with transaction.atomic():
        _move(actor, req, "withdraw", note=reason, closed_at=timezone.now())
        notices.settle(req)
    return req


def merge_request(actor, req: ServiceRequest, *, into: ServiceRequest) -> ServiceRequest:
    if into.pk == req.pk or into.state in (State.MERGED, State.WITHDRAWN, State.NOT_ACCEPTED):
        raise ValidationError({"into": _("Choose another open request to merge into.")})
    with transaction.atomic():
        _move(actor, req, "merge", data={"into": into.number}, merged_into=into)
        holdings.end(req, HoldingEnd.MERGED)
        _merge_voices(actor, req, into)
        notices.settle(req)
    return req


def is_overdue(req: ServiceRequest, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    if req.state in (State.SUBMITTED, State.ESCALATED):
        return bool(req.accept_by and req.accept_by < now)
    if req.state in (State.ACCEPTED, State.IN_PROGRESS, State.EXTENSION_REQUESTED):
        return bool(req.resolve_by and req.resolve_by < now)
    return False


# --- photos (added by the pages work: service_requests/photos.py checks and re-encodes) ----------------
def may_attach_photos(actor, req: ServiceRequest) -> bool:
    """The requester, whoever submitted it (代报), or a handler of the request, while it is open."""
    from .models import OPEN_STATES
    from .workflow import handler

    if req.state not in OPEN_STATES or actor is None:
        return False
    return actor.pk in (req.requester_id, req.submitted_by_id) or handler(actor, req)


def _check_after_photos(actor, req: ServiceRequest, files) -> list:
    from . import photos

    files = list(files or [])
    if not files:
        return []
    _check(actor, req, "resolve")
    try:
        return photos.check_photos(files, already=req.photos.count())
    except ValidationError as exc:
        raise ValidationError({"photos": exc.messages}) from exc


def _store_photos(actor, req: ServiceRequest, cleaned: list, stored: list, *, after: bool = False) -> None:
    """Store checked photos, with one timeline event and one audit event. Call it inside
    _removed_on_error(stored): each file goes into `stored` as soon as it is written, so a failure
    later in the caller's transaction removes it too. Only "after" photos say so in the event data."""
    from . import photos

    if not cleaned:
        return
    for photo in cleaned:
        stored.append(photos.store(req, photo, actor, after=after))
    marked = {"after": True} if after else {}
    _event(req, "photos", actor, count=len(stored), **marked)
    audit.record("request.photos", actor=actor, obj=req, after={"count": len(stored), **marked})


@contextmanager
def _removed_on_error(stored: list):
    """Files written in a transaction that fails are removed again (the rows roll back by themselves)."""
    try:
        yield
    except Exception:
        for p in stored:
            p.file.storage.delete(p.file.name)
        raise


def attach_photos(actor, req: ServiceRequest, files) -> list:
    """Check every file first (type by content, size, count); store nothing unless all are good.
    The photos are re-encoded (EXIF/GPS dropped) and written to the default storage."""
    from . import photos

    files = list(files)
    if not files:
        return []
    if not may_attach_photos(actor, req):
        raise PermissionDenied(_("You may not add photos to this request."))
    cleaned = photos.check_photos(files, already=req.photos.count())
    stored: list = []
    with _removed_on_error(stored), transaction.atomic():
        _store_photos(actor, req, cleaned, stored)
    return stored


# --- co-handling units and 吹哨 ------------------------------------------------------------------------
def may_summon(actor, req: ServiceRequest, kind: str) -> bool:
    """Co-handling units: the owning handler (or a dispatcher) while the request is in hand.
    吹哨: a dispatcher, or the owning handler at the community level or above, while it is open."""
    from .workflow import IN_HAND, dispatcher

    if actor is None or req.state not in OPEN_STATES:
        return False
    owner = req.handler_id is not None and req.handler_id == actor.pk
    if kind == AssistKind.CO_HANDLE:
        return req.state in IN_HAND and (owner or dispatcher(actor, req))
    return dispatcher(actor, req) or (owner and req.level <= HandlingLevel.COMMUNITY)


def summon_units(actor, req: ServiceRequest, *, units, kind: str, note: str = "") -> list[RequestAssist]:
    """Add co-handling units, or 吹哨: summon several units to a joint handling. Each unit's members
    are told; each unit reports for duty (报到) and reports back to the owner, who stays responsible."""
    if kind not in AssistKind.values:
        raise ValidationError({"kind": _("Unknown kind of help.")})
    if not may_summon(actor, req, kind):
        raise PermissionDenied(_("You may not call other units to this request now."))
    units = list(dict.fromkeys(units))
    if not units:
        raise ValidationError({"units": _("Choose at least one unit.")})
    if kind == AssistKind.WHISTLE:
        note = _require_text(note, "note", _("Say what the units are summoned for and where to report."))
    taken = set(req.assists.values_list("unit_id", flat=True)) | {req.unit_id}
    errors = []
    for unit in units:
        if unit.pk in taken:
            errors.append(_("%(unit)s is already on this request.") % {"unit": unit})
        elif not unit.active or not req.path.startswith(unit.path):
            errors.append(_("%(unit)s does not serve this place.") % {"unit": unit})
    if errors:
        raise ValidationError({"units": errors})
    now = timezone.now()
    names = [u.name_zh for u in units]
    windows = holdings.assist_deadlines(req, kind, now, rules())  # 报到 and report back, scored
    with transaction.atomic():
        rows = RequestAssist.objects.bulk_create(
            [
                RequestAssist(
                    request=req, unit=u, kind=kind, note=note, added_by=actor, added_at=now, **windows
                )
                for u in units
            ]
        )
        _event(req, kind, actor, note, units=names)
        audit.record(f"request.{kind}", actor=actor, obj=req, after={"units": names}, reason=note[:500])
        members = [m for u in units for m in u.members.filter(is_active=True)]
        title = (
            gettext_lazy("吹哨: you are summoned to request %(number)s")
            if kind == AssistKind.WHISTLE
            else gettext_lazy("Your unit is asked to help with request %(number)s")
        )
        notices.tell(members, req, f"request.{kind}", title, note[:200], actor=actor)
    return rows


def _assist_member(actor, assist: RequestAssist) -> None:
    from .workflow import unit_roles

    if actor is None or assist.unit_id not in unit_roles(actor):
        raise PermissionDenied(_("Only a member of %(unit)s may do this.") % {"unit": assist.unit})
    if assist.request.state not in OPEN_STATES:
        raise PermissionDenied(_("The request is no longer open."))


def check_in(actor, assist: RequestAssist, *, note: str = "") -> RequestAssist:
    """报到: a summoned (or co-handling) unit reports for duty; the first member's time counts."""
    from linjialin.core.errors import Conflict

    _assist_member(actor, assist)
    now = timezone.now()
    with transaction.atomic():
        done = RequestAssist.objects.filter(pk=assist.pk, checked_in_at__isnull=True).update(
            checked_in_at=now, checked_in_by=actor
        )
        if not done:
            assist.refresh_from_db()
            raise Conflict(
                _("%(unit)s already reported at %(at)s.")
                % {
                    "unit": assist.unit,
                    "at": timezone.localtime(assist.checked_in_at).strftime("%Y-%m-%d %H:%M"),
                }
            )
        assist.checked_in_at, assist.checked_in_by = now, actor
        _event(assist.request, "check_in", actor, note, unit=assist.unit.name_zh)
        audit.record("request.check_in", actor=actor, obj=assist.request, after={"unit": assist.unit.name_zh})
    return assist


def report_back(actor, assist: RequestAssist, *, report: str) -> RequestAssist:
    """A helping unit reports what it did to the owning handler (once; it counts as 报到 too)."""
    from linjialin.core.errors import Conflict

    _assist_member(actor, assist)
    report = _require_text(report, "report", _("Say what your unit did."))
    now = timezone.now()
    with transaction.atomic():
        done = RequestAssist.objects.filter(pk=assist.pk, reported_at__isnull=True).update(
            report=report, reported_at=now, reported_by=actor
        )
        if not done:
            raise Conflict(_("%(unit)s has already reported back.") % {"unit": assist.unit})
        RequestAssist.objects.filter(pk=assist.pk, checked_in_at__isnull=True).update(
            checked_in_at=now, checked_in_by=actor
        )
        assist.refresh_from_db()
        req = assist.request
        _event(req, "report_back", actor, report, unit=assist.unit.name_zh)
        audit.record("request.report_back", actor=actor, obj=req, after={"unit": assist.unit.name_zh})
        notices.tell(
            [req.handler],
            req,
            "request.report_back",
            gettext_lazy("A unit reported back on request %(number)s"),
            report[:500],
            actor=actor,
        )
    return assist


# --- co-requesters and merging (issue 4) ------------------------------------------------------------
# docs/duplicates.md. A co-requester (CoRequester) is one more voice on an open work order: a resident
# who joined it (我也遇到), or the requester of a request merged into it. Told when it is resolved,
# rating separately; the timeline never names them (others read it), the audit does.
AFTER_RESOLUTION = (State.RESOLVED, State.CALLED_BACK, State.CLOSED)


def join_request(actor, req: ServiceRequest, *, note: str = ""):
    """我也遇到: a resident whose home is in the compound of a request at a shared place (docs/duplicates.md)
    joins it instead of opening a new work order. Idempotent: joining again returns the same row."""
    from . import duplicates
    from .models import CoRequester

    household = duplicates.home_household(actor)
    if household is None or not duplicates.may_see_for_joining(actor, req):
        raise PermissionDenied(_("Only residents of the same compound may join this request."))
    if actor.pk in (req.requester_id, req.submitted_by_id):
        raise PermissionDenied(_("This is your own request."))
    existing = CoRequester.objects.filter(request=req, user=actor).first()
    if existing is not None:
        return existing
    if req.state not in OPEN_STATES:
        raise PermissionDenied(_("This request is no longer open: submit a new one if the problem is back."))
    note = (note or "").strip()[:500]
    try:
        with transaction.atomic():
            row = CoRequester.objects.create(
                request=req, user=actor, household=household, note=note, joined_at=timezone.now()
            )
            voices = 1 + CoRequester.objects.filter(request=req).count()
            _event(
                req,
                "co_requester_joined",
                None,
                _("A neighbour has the same problem (我也遇到): %(n)d voices now.") % {"n": voices},
                voices=voices,
            )
            audit.record("request.co_requester_joined", actor=actor, obj=req, after={"voices": voices})
            notices.tell(
                notices.on_duty(req),
                req,
                "request.joined",
                gettext_lazy("A neighbour has the same problem as request %(number)s: %(voices)s voices now"),
                actor=actor,
                voices=voices,
            )
    except IntegrityError:  # a double tap raced us: the other one joined
        return CoRequester.objects.get(request=req, user=actor)
    return row


def may_rate_as_co_requester(row, req: ServiceRequest) -> bool:
    """After resolution, once per resolution (a reopened and resolved again request is rated again)."""
    if req.state not in AFTER_RESOLUTION or req.resolved_at is None:
        return False
    return row.rated_at is None or row.rated_at < req.resolved_at


def rate_as_co_requester(actor, req: ServiceRequest, *, solved: bool, satisfaction: str, comment: str = ""):
    """A co-requester's own call-back: recorded on their row and counted in the satisfaction rate as one
    voice (docs/rates.md). It does not close or reopen the work order (that is the requester's answer);
    an unsatisfied voice is told to the handler."""
    from linjialin.core.errors import Conflict

    from .models import CoRequester

    row = CoRequester.objects.filter(request=req, user=actor).first() if actor is not None else None
    if row is None:
        raise PermissionDenied(_("Only a co-requester of this request may rate it here."))
    if satisfaction not in Satisfaction.values:
        raise ValidationError({"satisfaction": _("Choose 满意, 基本满意 or 不满意.")})
    if not may_rate_as_co_requester(row, req):
        raise ValidationError(
            {"satisfaction": _("There is nothing to rate now: the request is not resolved, or you rated it.")}
        )
    comment = (comment or "").strip()[:2000]
    now = timezone.now()
    with transaction.atomic():
        done = CoRequester.objects.filter(pk=row.pk, rated_at=row.rated_at).update(
            solved=solved, satisfaction=satisfaction, comment=comment, rated_at=now
        )
        if not done:
            raise Conflict(_("You have just rated it."))
        row.refresh_from_db()
        _event(req, "co_rating", None, comment, solved=solved, satisfaction=satisfaction)
        audit.record(
            "request.co_rated", actor=actor, obj=req, after={"solved": solved, "satisfaction": satisfaction}
        )
        if not solved or satisfaction == Satisfaction.UNSATISFIED:
            notices.tell(
                [req.handler],
                req,
                "request.co_unsatisfied",
                gettext_lazy("A co-requester of request %(number)s is not satisfied"),
                comment[:500],
                actor=actor,
            )
    return row


def _merge_voices(actor, req: ServiceRequest, into: ServiceRequest) -> None:
    """In merge_request's transaction: the merged request's requester and its co-requesters become
    co-requesters of `into` (each remembered with `source`, for unmerge); no one twice, and not the
    requester of `into`."""
    from . import duplicates
    from .models import CoRequester

    present = set(CoRequester.objects.filter(request=into).values_list("user_id", flat=True))
    present.add(into.requester_id)
    moved = 0
    for row in CoRequester.objects.filter(request=req).order_by("pk"):
        if row.user_id in present:
            row.delete()
            continue
        CoRequester.objects.filter(pk=row.pk).update(request=into, source=row.source or req)
        present.add(row.user_id)
        moved += 1
    if req.requester_id and req.requester_id not in present:
        from linjialin.places.models import Level

        household = req.place if req.place.level == Level.HOUSEHOLD else None
        CoRequester.objects.create(
            request=into,
            user=req.requester,
            household=household or duplicates.home_household(req.requester),
            source=req,
            joined_at=timezone.now(),
        )
        moved += 1
    voices = 1 + CoRequester.objects.filter(request=into).count()
    note = _("Request %(number)s was merged into this one: %(n)d voices now.")
    _event(
        into, "merged_in", actor, note % {"number": req.number, "n": voices}, merged=req.number, voices=voices
    )
    audit.record("request.merged_in", actor=actor, obj=into, after={"merged": req.number, "voices": moved})


def unmerge_request(actor, req: ServiceRequest, *, reason: str) -> ServiceRequest:
    """The dispatcher takes a merged request out again: it becomes its own work order (submitted, with
    fresh time limits, at its handling level), and the voices it brought go back with it. Only while the
    request it was merged into is still open (after that, submit it again)."""
    from django.db.models import Q

    from .models import CoRequester

    _check(actor, req, "unmerge")
    reason = _require_text(reason, "reason", _("Say why this is a different matter."))
    parent = req.merged_into
    if parent is None or parent.state not in OPEN_STATES:
        raise ValidationError(
            {"reason": _("Only a request merged into one that is still open can be unmerged.")}
        )
    now = timezone.now()
    policy = policy_for(req.request_type, req.category, req.urgency)
    with transaction.atomic():
        _move(
            actor,
            req,
            "unmerge",
            note=reason,
            data={"from": parent.number},
            expected={"merged_into": parent.pk},
            merged_into=None,
            repeat_of=None,
            handler=None,
            accept_by=deadline(now, policy.accept_amount, policy.accept_unit),
            contact_by=deadline(now, policy.contact_amount, policy.contact_unit),
            resolve_by=deadline(now, policy.resolve_amount, policy.resolve_unit),
        )
        holdings.hand_over(req, HoldingEnd.MERGED, at=now)  # a holder again, with a fresh window
        rows = CoRequester.objects.filter(request=parent).filter(Q(source=req) | Q(source__merged_into=req))
        rows.filter(user_id=req.requester_id).delete()
        rows.filter(source=req).update(request=req, source=None)
        rows.update(request=req)
        voices = 1 + CoRequester.objects.filter(request=parent).count()
        note = _("Request %(number)s was taken out again (a different matter): %(n)d voices now.")
        _event(parent, "unmerged_out", actor, note % {"number": req.number, "n": voices}, unmerged=req.number)
        audit.record("request.unmerged_out", actor=actor, obj=parent, after={"unmerged": req.number})
        notices.tell_new_owner(req, actor)
    return req


# --- category corrections (the router learns from them: linjialin.routing) ------------------------------
def may_recategorise(actor, req: ServiceRequest) -> bool:
    from .workflow import dispatcher

    if actor is None or req.state not in OPEN_STATES:
        return False
    return dispatcher(actor, req) or (req.handler_id is not None and req.handler_id == actor.pk)


def recategorise_request(actor, req: ServiceRequest, *, category: Category, note: str = "") -> ServiceRequest:
    """A dispatcher (or the owning handler) corrects the category of an open request. The request stays
    where it is (moving it is a dispatch or reassignment); the deadlines stay. The correction is a
    timeline event with both codes, which the category router uses as a label."""
    if not may_recategorise(actor, req):
        raise PermissionDenied(_("You may not change the category of this request."))
    if category is None or not category.active:
        raise ValidationError({"category": _("Choose a category that is in use.")})
    if category.pk == req.category_id:
        raise ValidationError({"category": _("The request already has this category.")})
    before = req.category.code if req.category_id else ""
    with transaction.atomic():
        done = ServiceRequest.objects.filter(pk=req.pk, category_id=req.category_id).update(category=category)
        if not done:
            from linjialin.core.errors import Conflict

            raise Conflict(_("Someone else changed the category first."))
        req.category = category
        _event(req, "recategorise", actor, note, from_category=before, to_category=category.code)
        audit.record(
            "request.recategorise",
            actor=actor,
            obj=req,
            before={"category": before},
            after={"category": category.code},
            reason=note[:500],
        )
    return req
