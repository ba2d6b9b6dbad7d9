"""The request's states and transitions: one table read by services, pages, API, tests and docs.

`docs/service_requests.md` renders it (`make docs`). Who may make a transition is a function of the
actor and the request: the requester (their own request), a handler (holds requests.handle with a
grant at the request's current handling level covering its place; at the department level also a
member of the request's owning unit), the dispatcher desk (requests.dispatch), a supervisor
(requests.supervise, or a supervisor of the owning unit), a caller-back (requests.callback, and no part
in the handling: callbacks.py), or the system (actor None: the deadline sweep).
"""

from __future__ import annotations

from linjialin.accounts.scope import grant_levels
from linjialin.core.scope import scope_for
from linjialin.core.workflow import Transition, Workflow

from .models import Channel, HandlingLevel, ServiceRequest, State, UnitMember

S = State


def requester(actor, req) -> bool:
    return actor is not None and req.requester_id is not None and req.requester_id == actor.pk


def unit_roles(user) -> dict[int, bool]:
    """The user's handling units → whether they supervise it (cached on the user object)."""
    cache = user.__dict__.setdefault("_scope_cache", {})
    if "units" not in cache:
        cache["units"] = dict(UnitMember.objects.filter(user=user).values_list("unit_id", "supervisor"))
    return cache["units"]


def _in_unit(actor, req) -> bool:
    """At the department level the owning unit's members handle it (a system admin anywhere)."""
    return (
        req.unit_id is None
        or req.unit_id in unit_roles(actor)
        or scope_for(actor, "requests.handle").everywhere
    )


def handler(actor, req) -> bool:
    if actor is None or req.level not in grant_levels(actor, "requests.handle", req.path):
        return False
    return req.level != HandlingLevel.DEPARTMENT or _in_unit(actor, req)


def came_through_dispatch(req) -> bool:
    """Did the request reach its owners through the dispatcher (a dispatch or a reassignment, a hotline
    work order, the department level)? Only then is there a dispatcher to send it back to (退单): a
    request a neighbour filed directly at the entrance has none; its handler escalates instead."""
    if req.level == HandlingLevel.DEPARTMENT or req.channel == Channel.HOTLINE:
        return True
    return req.pk is not None and req.events.filter(kind__in=("dispatch", "reassign")).exists()


def within_return_window(req) -> bool:
    """退单 is for a wrongly dispatched request, seen as such at once: only within the return window
    after it reached its present owners (time_limits.give_back_until; RequestRules, 2 working days)."""
    from django.utils import timezone

    from .time_limits import may_still_give_back

    return may_still_give_back(req, timezone.now())


def returning_handler(actor, req) -> bool:
    return handler(actor, req) and came_through_dispatch(req) and within_return_window(req)


def may_return_but_for_the_window(actor, req) -> bool:
    """The return is refused only because its window has closed (the service then says until when)."""
    return (
        req.state in workflow["return"].sources
        and handler(actor, req)
        and came_through_dispatch(req)
        and not within_return_window(req)
    )


def dispatcher(actor, req) -> bool:
    return actor is not None and scope_for(actor, "requests.dispatch").covers(req.path)


def supervisor(actor, req) -> bool:
    if actor is None:
        return False
    if req.level == HandlingLevel.DEPARTMENT and unit_roles(actor).get(req.unit_id):
        return True
    return scope_for(actor, "requests.supervise").covers(req.path)


# Timeline steps that make someone part of a request's handling: they may not call it back (回访 is
# independent of the work it checks). Dispatching, deciding an extension or 督办 is not handling.
HANDLING_STEPS = (
    "accept",
    "contact",
    "resolve",
    "escalate",
    "return",
    "request_extension",
    "whistle",
    "co_handle",
    "check_in",
    "report_back",
)


def took_part(actor, req) -> bool:
    """The handler, the requester, or an actor of a handling step (filing or dispatching is none)."""
    return (
        req.handler_id == actor.pk
        or req.requester_id == actor.pk
        or req.events.filter(actor=actor, kind__in=HANDLING_STEPS).exists()
    )


def caller_back(actor, req) -> bool:
    """Staff with requests.callback over the request's place who took no part in handling it."""
    if actor is None or not scope_for(actor, "requests.callback").covers(req.path):
        return False
    return not took_part(actor, req)


def system(actor, req) -> bool:
    return actor is None


def either(*rules):
    def may(actor, req) -> bool:
        return any(rule(actor, req) for rule in rules)

    return may


OPEN_BEFORE_WORK = {S.SUBMITTED, S.ESCALATED, S.RETURNED}
IN_HAND = {S.ACCEPTED, S.IN_PROGRESS, S.EXTENSION_REQUESTED}

workflow = Workflow(
    model=ServiceRequest,
    states=State,
    transitions=[
        Transition(
            "accept", {S.SUBMITTED, S.ESCALATED}, S.ACCEPTED, handler, "accept", "handler at the level"
        ),
        Transition("contact", {S.ACCEPTED}, S.IN_PROGRESS, handler, "record contact", "handler"),
        Transition("resolve", {S.IN_PROGRESS}, S.RESOLVED, handler, "resolve", "handler"),
        Transition(
            "escalate",
            {S.SUBMITTED, S.ESCALATED, S.ACCEPTED, S.IN_PROGRESS},
            S.ESCALATED,
            either(handler, system),
            "escalate",
            "handler; the sweep when acceptance times out",
        ),
        Transition(
            "return",
            {S.SUBMITTED, S.ESCALATED, S.ACCEPTED},
            S.RETURNED,
            returning_handler,
            "return (退单)",
            "handler of a request the dispatcher sent",
        ),
        Transition("dispatch", OPEN_BEFORE_WORK, S.SUBMITTED, dispatcher, "dispatch", "dispatcher"),
        Transition(
            "reassign",
            IN_HAND,
            S.SUBMITTED,
            dispatcher,
            "reassign",
            "dispatcher, with a reason: ownership moves to another unit",
        ),
        Transition(
            "not_accept",
            OPEN_BEFORE_WORK,
            S.NOT_ACCEPTED,
            either(dispatcher, handler),
            "not accept (不予受理)",
            "dispatcher or handler",
        ),
        Transition(
            "request_extension",
            {S.IN_PROGRESS},
            S.EXTENSION_REQUESTED,
            handler,
            "request extension",
            "handler",
        ),
        Transition(
            "grant_extension",
            {S.EXTENSION_REQUESTED},
            S.IN_PROGRESS,
            supervisor,
            "grant extension",
            "supervisor",
        ),
        Transition(
            "refuse_extension",
            {S.EXTENSION_REQUESTED},
            S.IN_PROGRESS,
            supervisor,
            "refuse extension",
            "supervisor",
        ),
        Transition(
            "call_back",
            {S.RESOLVED},
            S.CALLED_BACK,
            either(requester, caller_back),
            "call back / rate",
            "requester (rating) or staff who did not handle it (phone call-back)",
        ),
        Transition(
            "close",
            {S.CALLED_BACK},
            S.CLOSED,
            either(requester, caller_back, handler, system),
            "close",
            "after a good rating",
        ),
        Transition(
            "close_unreachable",
            {S.RESOLVED},
            S.CLOSED,
            caller_back,
            "close: requester unreachable",
            "call-back staff, after the last unanswered try",
        ),
        Transition(
            "reopen",
            {S.CALLED_BACK},
            S.IN_PROGRESS,
            either(requester, caller_back, handler, supervisor),
            "reopen (重办)",
            "after 'not solved' or 不满意, up to the maximum",
        ),
        Transition(
            "callback_reopen",
            {S.CLOSED},
            S.IN_PROGRESS,
            caller_back,
            "reopen after a call-back (重办)",
            "call-back staff: a sampled call-back found it not solved, up to the maximum",
        ),
        Transition("merge", OPEN_BEFORE_WORK, S.MERGED, dispatcher, "merge", "dispatcher"),
        Transition(
            "unmerge", {S.MERGED}, S.SUBMITTED, dispatcher, "unmerge", "dispatcher, while the other is open"
        ),
        Transition(
            "withdraw",
            {S.SUBMITTED, S.ACCEPTED, S.IN_PROGRESS, S.EXTENSION_REQUESTED, S.ESCALATED, S.RETURNED},
            S.WITHDRAWN,
            requester,
            "withdraw",
            "requester",
        ),
    ],
)
