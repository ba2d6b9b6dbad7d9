"""Notices of the request loop (docs/notifications.md): who is told of each step, in the caller's
transaction. Titles are lazy translations filled with params, so that each recipient reads them in their
own language; user text (a description, a result) goes in as a param, never as a format string."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from . import intake
from .models import OPEN_STATES, AssistKind, Category, HandlingLevel, ServiceRequest

# "Please act" kinds: once the request moves on, those of people who no longer act are marked read.
ACT_KINDS = (
    "request.new",
    "request.joined",
    "request.escalated",
    "request.returned",
    "request.reopened",
    "request.reminder",
    "request.overdue",
    "request.supervised",
    "request.extension_to_decide",
    f"request.{AssistKind.WHISTLE}",
    f"request.{AssistKind.CO_HANDLE}",
)


def category_name(category: Category | None):
    """The category's name in the language of the message being rendered (lazy: once per recipient)."""
    from django.utils.functional import lazy
    from django.utils.translation import get_language

    if category is None:
        return ""

    def name() -> str:
        english = (get_language() or "").startswith("en")
        return category.name_en if english and category.name_en else category.name_zh

    return lazy(name, str)()


def tell(
    users, req: ServiceRequest, kind: str, title, body: str = "", *, actor=None, link: str = "", **params
):
    """Tell `users` (not the actor: they know) about `req`, in each one's language."""
    from django.urls import reverse

    from linjialin.notifications.services import notify, subject_of

    skip = actor.pk if actor is not None else None
    notify(
        [u for u in users if u is not None and u.pk != skip],
        kind=kind,
        title=title,
        body="%(text)s" if body else "",
        params={"number": req.number, "text": body or "", "category": category_name(req.category), **params},
        link=link or reverse("requests:detail", args=[req.pk]),
        path=req.path,
        subject=subject_of(req),
        actor=actor,
    )


def settle(req: ServiceRequest, keep=()) -> None:
    """The request moved on: the "please act" notices of everyone not in `keep` are read."""
    from linjialin.notifications.services import settle, subject_of

    settle(subject_of(req), kinds=ACT_KINDS, keep=keep)


def owners(req: ServiceRequest) -> list:
    """Who has to act on it now: the owning handler once accepted, else everyone on duty at its level."""
    from .selectors import handlers_of

    return [req.handler] if req.handler_id else handlers_of(req)


def entrance_leaders(req: ServiceRequest) -> list:
    """The 楼门长 of the entrance the request is at (none for a place above an entrance)."""
    from linjialin.accounts.selectors import holders

    if req.place.level < HandlingLevel.ENTRANCE:
        return []
    return holders("requests.handle", req.path, levels={HandlingLevel.ENTRANCE})


def on_duty(req: ServiceRequest) -> list:
    """The entrance's 楼门长 and whoever owns the request (may repeat a user: notify de-dups)."""
    return [*entrance_leaders(req), *owners(req)]


def co_requesters(req: ServiceRequest) -> list:
    """Everyone who joined the request (我也遇到, merged requests)."""
    from linjialin.core import rows

    from .models import CoRequester

    # CoRequester.objects.filter(request=req).select_related("user"), in its order, as one plain statement:
    # read at nearly every step (each step tells the requesters)
    joined = rows.fetch(
        CoRequester, "t.request_id = %s", [req.pk], related=("user",), order_by="t.joined_at, t.id"
    )
    return [row.user for row in joined]


def requesters(req: ServiceRequest) -> list:
    """The requester and every co-requester."""
    return [req.requester, *co_requesters(req)]


def nearest_supervisors(req: ServiceRequest, start: int, holding=None) -> list:
    """Supervisors (requests.supervise) of the nearest level from `start` up to the subdistrict that has
    any, else []. `holding(level)` looks them up (the sweep passes its per-run cache)."""
    if holding is None:
        from linjialin.accounts.selectors import holders

        def holding(level):
            return holders("requests.supervise", req.path, levels={level})

    for level in range(start, HandlingLevel.SUBDISTRICT - 1, -1):
        users = holding(level)
        if users:
            return users
    return []


def supervisors_above(req: ServiceRequest) -> list:
    """Supervisors of the nearest level above the handling level that has any."""
    return nearest_supervisors(req, req.level - 1)


def extension_deciders(req: ServiceRequest) -> list:
    """Who may grant the extension: the owning unit's supervisors, else the nearest supervisors at or
    above the handling level."""
    if req.level == HandlingLevel.DEPARTMENT and req.unit_id:
        deciders = [
            m.user
            for m in req.unit.memberships.filter(supervisor=True, user__is_active=True).select_related("user")
        ]
        if deciders:
            return deciders
    return nearest_supervisors(req, req.level)


def told_of_new(req: ServiceRequest, actor) -> list:
    """Who is told of a new request: the entrance's 楼门长 and whoever owns it at its handling level
    (not the submitter). Known before the request is written (its place, level and unit)."""
    if req.state not in OPEN_STATES:
        return []  # diverted or linked to an open request by intake: nobody is to accept it
    skip = actor.pk if actor is not None else None
    users = on_duty(req)
    return list({u.pk: u for u in users if u is not None and u.is_active and u.pk != skip}.values())


def tell_submitted(req: ServiceRequest, actor, users: list | None = None) -> None:
    """A new request: `users` (default told_of_new) are told at once."""
    users = told_of_new(req, actor) if users is None else users
    if not users:
        return
    title = (
        gettext_lazy("New request %(number)s to accept: %(category)s")
        if req.category_id
        else gettext_lazy("New request %(number)s to accept")
    )
    tell(users, req, "request.new", title, req.description[:200], actor=actor)


def tell_new_owner(req: ServiceRequest, actor=None) -> None:
    new = owners(req)
    settle(req, keep=new)
    tell_submitted(req, actor, new)


def tell_requesters(req: ServiceRequest, kind: str, title, body: str = "", *, actor=None, **params) -> None:
    tell(requesters(req), req, kind, title, body, actor=actor, **params)


def notify_emergency(actor, req: ServiceRequest, match: intake.Match) -> None:
    """An emergency is not queued: the grid and community handlers over the place (or, with nobody
    there, the dispatchers) are told at once so that a person follows it up."""
    from django.urls import reverse

    from linjialin.accounts.selectors import holders
    from linjialin.notifications.services import notify, subject_of

    levels = {HandlingLevel.GRID, HandlingLevel.COMMUNITY}
    users = holders("requests.handle", req.path, levels=levels) or holders("requests.dispatch", req.path)
    notify(
        users,
        kind="request.emergency",
        title=gettext_lazy("Emergency reported at %(place)s (request %(number)s): follow it up now"),
        body="%(text)s\n%(referred_to)s",
        params={
            "place": req.place.name,
            "number": req.number,
            "text": req.description[:300],
            "referred_to": match.referred_to,
        },
        link=reverse("requests:detail", args=[req.pk]),
        path=req.path,
        dedupe_key=f"emergency:{req.pk}",
        actor=actor,
        subject=subject_of(req),
    )


def tell_co_requesters(req: ServiceRequest, result: str, *, actor=None) -> None:
    """When the work order is resolved: each co-requester is asked for their own rating."""
    from django.urls import reverse

    tell(
        co_requesters(req),
        req,
        "request.co_resolved",
        gettext_lazy("Request %(number)s you joined is resolved: please rate it"),
        result[:500],
        actor=actor,
        link=reverse("requests:co_rate", args=[req.pk]),
    )


def tell_returned(req: ServiceRequest, reason: str, actor) -> None:
    """退单: the dispatchers over the place are the new owners."""
    from linjialin.accounts.selectors import holders

    dispatchers = holders("requests.dispatch", req.path)
    settle(req, keep=dispatchers)
    tell(
        dispatchers,
        req,
        "request.returned",
        gettext_lazy("Request %(number)s was returned (退单): please dispatch it again"),
        reason[:500],
        actor=actor,
    )
