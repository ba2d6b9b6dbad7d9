"""The dispatcher desk (subdistrict) and the staff actions on a request that take more than a text:
dispatch to a level or unit (one or many at once), reassignment with a reason, 不予受理 with where it was
sent, 吹哨 and co-handling units, a unit's 报到 and report back, merge, extensions.

Reads go through selectors (404 when missing or outside the caller's view); writes through services.
The desk needs requests.dispatch somewhere (403 otherwise: a logged-in user without the desk).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from linjialin.core.errors import Conflict
from linjialin.core.scope import scope_for
from linjialin.places.models import Level, Place

from . import selectors, services, time_limits
from .due import DueSoon
from .models import (
    OPEN_STATES,
    AssistKind,
    Category,
    HandlingLevel,
    HandlingUnit,
    RequestAssist,
    ServiceRequest,
    State,
)
from .workflow import dispatcher, workflow

DESK_TABS = [
    ("incoming", gettext_lazy("To dispatch")),
    ("returned", gettext_lazy("Returned (退单) to review")),
    ("open", gettext_lazy("All open")),
    ("overdue", gettext_lazy("Overdue")),
    ("supervised", gettext_lazy("Under supervision (督办)")),
]
PAGE_SIZE = 50


def _due_soon_q(base, now) -> Q:
    """Due soon (due.py: the last quarter of the window) among the rows of `base`, as a filter."""
    return Q(pk__in=DueSoon(now).ids(base))


def _desk_scope(user):
    scope = scope_for(user, "requests.dispatch")
    if scope.is_empty:
        raise PermissionDenied
    return scope


def _communities(user):
    return Place.objects.visible_to(user, "requests.dispatch").filter(level=Level.COMMUNITY).order_by("path")


def _units_for(user):
    scope = _desk_scope(user)
    return [
        u
        for u in HandlingUnit.objects.filter(active=True).order_by("kind", "code")
        if scope.everywhere or any(u.path.startswith(p) or p.startswith(u.path) for p in scope.prefixes)
    ]


def send_to_choices(units) -> list[tuple[str, str]]:
    """One list for "send to": the levels of the chain, then each unit (the department level)."""
    levels = [
        (f"level:{lv}", str(HandlingLevel(lv).label))
        for lv in (
            HandlingLevel.SUBDISTRICT,
            HandlingLevel.COMMUNITY,
            HandlingLevel.GRID,
            HandlingLevel.ENTRANCE,
        )
    ]
    return levels + [(f"unit:{u.pk}", u.label) for u in units]


def parse_send_to(value: str) -> tuple[int, HandlingUnit | None]:
    kind, _sep, ident = (value or "").partition(":")
    try:
        if kind == "level" and int(ident) in HandlingLevel.values:
            return int(ident), None
        if kind == "unit":
            return HandlingLevel.DEPARTMENT, HandlingUnit.objects.get(pk=int(ident))
    except (ValueError, HandlingUnit.DoesNotExist):
        pass
    raise ValidationError({"send_to": _("Choose where the request goes.")})


@login_required
def desk(request):
    """Queues of the subdistrict: to dispatch, returned, all open, overdue, supervised; per-unit counts;
    filters by state, category, community, unit, overdue / due soon, number; bulk dispatch."""
    user = request.user
    _desk_scope(user)
    now = timezone.now()
    tab = request.GET.get("tab", "incoming")
    if tab not in dict(DESK_TABS):
        tab = "incoming"
    base = ServiceRequest.objects.visible_to(user, "requests.dispatch")
    due_soon_q = _due_soon_q(base, now)
    counts = base.aggregate(
        **{key: Count("pk", filter=selectors.desk_tab_q(key, now)) for key, _label in DESK_TABS},
    )
    tabs = [(key, label, counts[key]) for key, label in DESK_TABS]
    units = _units_for(user)
    per_unit = {
        row["unit_id"]: row
        for row in base.filter(state__in=OPEN_STATES, unit__isnull=False)
        .values("unit_id")
        .annotate(
            open=Count("pk"),
            waiting=Count("pk", filter=Q(state=State.SUBMITTED)),
            overdue=Count("pk", filter=selectors.overdue_q(now)),
            due_soon=Count("pk", filter=due_soon_q),
        )
    }
    unit_rows = [(u, per_unit.get(u.pk, {})) for u in units]

    qs = base.filter(selectors.desk_tab_q(tab, now))
    f = request.GET
    filters = {key: f.get(key, "") for key in ("state", "category", "community", "unit", "when", "q")}
    if filters["state"] in State.values:
        qs = qs.filter(state=filters["state"])
    if filters["category"].isdigit():
        qs = qs.filter(category_id=int(filters["category"]))
    if filters["community"].isdigit():
        community = _communities(user).filter(pk=int(filters["community"])).first()
        if community:
            qs = qs.filter(path__startswith=community.path)
    if filters["unit"].isdigit():
        qs = qs.filter(Q(unit_id=int(filters["unit"])) | Q(assists__unit_id=int(filters["unit"]))).distinct()
    if filters["when"] == "overdue":
        qs = qs.filter(selectors.overdue_q(now))
    elif filters["when"] == "due_soon":
        qs = qs.filter(due_soon_q)
    if filters["q"].strip():
        qs = qs.filter(number__startswith=filters["q"].strip())
    qs = qs.select_related("place", "category", "unit", "handler").order_by("submitted_at")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    for r in page:
        r.due = r.accept_by if r.state in (State.SUBMITTED, State.ESCALATED) else r.resolve_by
        r.overdue = services.is_overdue(r, now)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "tab": tab,
        "tabs": tabs,
        "page": page,
        "filters": filters,
        "query": query.urlencode(),
        "states": State.choices,
        "categories": Category.objects.filter(active=True),
        "communities": _communities(user),
        "units": units,
        "unit_rows": unit_rows,
        "send_to": send_to_choices(units),
    }
    return render(request, "service_requests/desk.html", context)


@login_required
@require_POST
def bulk_dispatch(request):
    """Dispatch the ticked requests to one level or unit. Each request is checked on its own: the
    ones that cannot go (wrong state, someone acted first, the unit does not serve the place) are
    listed with the reason; the others are dispatched."""
    user = request.user
    _desk_scope(user)
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
    back = redirect(f"{reverse('requests:desk')}?{request.POST.get('query', '')}")
    if not ids:
        messages.error(request, _("Tick at least one request."))
        return back
    try:
        level, unit = parse_send_to(request.POST.get("send_to", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return back
    note = request.POST.get("note", "")[:500]
    done, failed = 0, []
    for pk in ids:
        try:
            req = selectors.get_request_for_user(user, pk)
            services.dispatch_request(user, req, level=level, unit=unit, note=note)
            done += 1
        except Http404:
            failed.append(f"#{pk}: {_('not found')}")
        except (ValidationError, PermissionDenied, Conflict) as exc:
            text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            failed.append(f"{req.number}: {text}")
    if done:
        messages.success(request, _("%(n)d request(s) dispatched.") % {"n": done})
    for line in failed:
        messages.error(request, line)
    return back


# --- the staff panel on a request's page --------------------------------------------------------------
def desk_context(user, req: ServiceRequest, errors: dict | None = None) -> dict:
    """What the request page shows staff beyond the phone actions: the owning unit, the helping units
    with their 报到 and reports, and the forms for the actions this user may take now."""
    available = {t.name for t in workflow.available(req, user)}
    is_dispatcher = dispatcher(user, req)
    units = selectors.units_serving(req.path) if (is_dispatcher or req.handler_id == user.pk) else []
    taken = {a.unit_id for a in req.assists.all()} | {req.unit_id}
    free_units = [u for u in units if u.pk not in taken]
    forms = [
        name
        for name in (
            "dispatch",
            "reassign",
            "not_accept",
            "merge",
            "request_extension",
            "grant_extension",
        )
        if name in available
    ]
    return {
        "assists": list(req.assists.select_related("unit", "checked_in_by", "reported_by")),
        "my_assists": selectors.my_assists(user, req),
        "desk_forms": forms,
        "may_whistle": bool(free_units) and services.may_summon(user, req, AssistKind.WHISTLE),
        "may_co_handle": bool(free_units) and services.may_summon(user, req, AssistKind.CO_HANDLE),
        "free_units": free_units,
        "send_to": send_to_choices(units) if {"dispatch", "reassign"} & available else [],
        "desk_errors": errors or {},
        "is_dispatcher": is_dispatcher,
        "may_recategorise": services.may_recategorise(user, req),
        "category_groups": category_groups() if services.may_recategorise(user, req) else [],
        # what may still be asked: the extensions granted add up to at most the policy's maximum
        "extension_left": (
            time_limits.extension_left(req, services.policy_for(req.request_type, req.category, req.urgency))
            if "request_extension" in forms
            else None
        ),
    }


def category_groups() -> list[tuple[Category, list[Category]]]:
    """The active categories as (field, its problems) for a grouped select."""
    active = list(Category.objects.filter(active=True).order_by("parent_id", "code"))
    fields = [c for c in active if c.parent_id is None]
    return [(f, [c for c in active if c.parent_id == f.pk]) for f in fields]


def _render_detail(request, req, errors):
    from .views import _detail

    return _detail(request, req, status=422, desk_errors=errors)


def _errors(exc: ValidationError, form: str) -> dict:
    if hasattr(exc, "error_dict"):
        return {form: [m for msgs in exc.message_dict.values() for m in msgs]}
    return {form: exc.messages}


@login_required
@require_POST
def desk_act(request, pk, name):
    """One staff action with its fields; a refused or conflicting action says why and changes nothing."""
    user = request.user
    req = selectors.get_request_for_user(user, pk)
    post = request.POST
    done_messages = {
        "dispatch": _("The request is dispatched."),
        "reassign": _("The request is reassigned."),
        "not_accept": _("The request is recorded as not accepted."),
        "merge": _("The request is merged."),
        "request_extension": _("The extension is requested."),
        "grant_extension": _("The extension is decided."),
        "whistle": _("The units are summoned (吹哨)."),
        "co_handle": _("The co-handling units are added."),
        "check_in": _("Your unit's 报到 is recorded."),
        "report_back": _("Your report is sent to the owner."),
        "recategorise": _("The category is changed."),
    }
    if name not in done_messages:
        raise Http404
    try:
        if name == "dispatch":
            level, unit = parse_send_to(post.get("send_to", ""))
            services.dispatch_request(user, req, level=level, unit=unit, note=post.get("note", "")[:500])
        elif name == "reassign":
            level, unit = parse_send_to(post.get("send_to", ""))
            services.reassign_request(user, req, level=level, unit=unit, reason=post.get("reason", "")[:500])
        elif name == "not_accept":
            services.not_accept_request(
                user, req, reason=post.get("reason", "")[:500], referred_to=post.get("referred_to", "")[:120]
            )
        elif name == "merge":
            into = (
                ServiceRequest.objects.visible_to(user, "requests.dispatch")
                .filter(number=post.get("into", "").strip())
                .first()
            )
            if into is None:
                raise ValidationError({"into": _("No open request with that number in your area.")})
            services.merge_request(user, req, into=into)
        elif name == "request_extension":
            days = post.get("days", "")
            if not days.isdigit():
                raise ValidationError({"days": _("Give the number of days.")})
            services.request_extension(user, req, days=int(days), reason=post.get("reason", "")[:500])
        elif name == "grant_extension":
            services.decide_extension(
                user, req, grant=post.get("decision") == "grant", note=post.get("note", "")[:500]
            )
        elif name == "recategorise":
            category = Category.objects.filter(code=post.get("category", "")).first()
            services.recategorise_request(user, req, category=category, note=post.get("note", "")[:500])
        elif name in ("whistle", "co_handle"):
            ids = [int(i) for i in post.getlist("units") if i.isdigit()]
            units = [u for u in selectors.units_serving(req.path) if u.pk in ids]
            services.summon_units(user, req, units=units, kind=name, note=post.get("note", "")[:500])
        else:  # check_in, report_back: one of the user's unit's assists on this request
            assist = get_object_or_404(RequestAssist, pk=post.get("assist", "0") or 0, request=req)
            if name == "check_in":
                services.check_in(user, assist, note=post.get("note", "")[:500])
            else:
                services.report_back(user, assist, report=post.get("report", "")[:2000])
    except ValidationError as exc:
        return _render_detail(request, req, _errors(exc, name))
    except Conflict as exc:
        messages.error(request, str(exc))
        return redirect("requests:detail", pk=req.pk)
    messages.success(request, done_messages[name])
    return redirect("requests:detail", pk=req.pk)
