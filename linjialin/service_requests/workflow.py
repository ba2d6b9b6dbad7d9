"""The request's states and transitions: one table read by services, pages, API, tests and docs.

`docs/service_requests.md` renders it (`make docs`). Who may make a transition is a function of the
actor and the request: the requester (their own request), a handler (holds requests.handle with a
grant at the request's current handling level covering its place), the dispatcher desk
(requests.dispatch), a supervisor (requests.supervise), or the system (actor None: the deadline sweep).
"""

from __future__ import annotations

from linjialin.accounts.scope import grant_levels
from linjialin.core.scope import scope_for
from linjialin.core.workflow import Transition, Workflow

from .models import ServiceRequest, State

S = State


def requester(actor, req) -> bool:
    return actor is not None and req.requester_id is not None and req.requester_id == actor.pk


def handler(actor, req) -> bool:
    return actor is not None and req.level in grant_levels(actor, "requests.handle", req.path)


def dispatcher(actor, req) -> bool:
    return actor is not None and scope_for(actor, "requests.dispatch").covers(req.path)


def supervisor(actor, req) -> bool:
    return actor is not None and scope_for(actor, "requests.supervise").covers(req.path)


def system(actor, req) -> bool:
    return actor is None


def either(*rules):
    def may(actor, req) -> bool:
        return any(rule(actor, req) for rule in rules)

    return may


OPEN_BEFORE_WORK = {S.SUBMITTED, S.ESCALATED, S.RETURNED}

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
            "return", {S.SUBMITTED, S.ESCALATED, S.ACCEPTED}, S.RETURNED, handler, "return (退单)", "handler"
        ),
        Transition("dispatch", OPEN_BEFORE_WORK, S.SUBMITTED, dispatcher, "dispatch", "dispatcher"),
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
            either(requester, handler),
            "call back / rate",
            "requester (rating) or handler (phone call-back)",
        ),
        Transition(
            "close",
            {S.CALLED_BACK},
            S.CLOSED,
            either(requester, handler, system),
            "close",
            "after a good rating",
        ),
        Transition(
            "reopen",
            {S.CALLED_BACK},
            S.IN_PROGRESS,
            either(requester, handler, supervisor),
            "reopen (重办)",
            "after 'not solved' or 不满意, up to the maximum",
        ),
        Transition("merge", OPEN_BEFORE_WORK, S.MERGED, dispatcher, "merge", "dispatcher"),
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
