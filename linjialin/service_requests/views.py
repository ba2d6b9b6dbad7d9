"""Phone pages for requests: a resident submits, follows and rates; a 楼门长 / handler works the queue.

Reads go through `ServiceRequest.objects.visible_to(user, "requests.view")` plus the user's own
requests (as requester or submitter); anything else is a 404. Writes go through services.py.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from linjialin.accounts.roles import ROLES, Perm, Role
from linjialin.accounts.scope import current_grants
from linjialin.core.errors import Conflict
from linjialin.core.scope import scope_for
from linjialin.notifications.services import mark_subject_read, subject_of
from linjialin.places import picker
from linjialin.places.models import Level, Place

from . import callbacks, duplicates, intake, services
from .desk_views import desk_context
from .duplicate_views import co_rate_context
from .forms import STAFF_CHANNELS, ActionForm, RateForm, RequestForm, StaffRequestForm
from .labels import event_label
from .models import OPEN_STATES, Channel, RequestPhoto, ServiceRequest, State, Urgency
from .photos import check_photos, photo_response, photo_rules
from .selectors import due_at, get_request_for_user, joined_request_ids, queue_buckets, requester_contact
from .workflow import workflow

# transition → (service, the keyword its text goes to, is the text required)
ACTIONS = {
    "accept": (services.accept_request, "note"),
    "contact": (services.record_contact, "note"),
    "resolve": (services.resolve_request, "result"),
    "escalate": (services.escalate_request, "reason"),
    "return": (services.return_request, "reason"),
    "withdraw": (services.withdraw_request, "reason"),
}


ACTION_DONE = {
    "accept": gettext_lazy("You accepted the request: it is yours now."),
    "contact": gettext_lazy("The contact is recorded."),
    "resolve": gettext_lazy("The request is marked resolved; the requester is asked to rate it."),
    "escalate": gettext_lazy("The request is escalated."),
    "return": gettext_lazy("The request is returned to the dispatcher."),
    "withdraw": gettext_lazy("Your request is withdrawn."),
}


def _home_household(user) -> Place | None:
    for grant in current_grants(user):
        if grant.role == Role.RESIDENT and grant.place.level == Level.HOUSEHOLD:
            return grant.place
    return None


def _staff_submitter(user) -> bool:
    """Holds requests.submit through a grant other than a resident's (楼门长, 网格员, community workers …):
    may use the staff entry page (代报, phone calls, patrol findings)."""
    grants = current_grants(user)
    return any(g.role != Role.RESIDENT and Perm.SUBMIT_REQUEST in ROLES[Role(g.role)].perms for g in grants)


def _behalf_households(user):
    """The households the staff page accepts (a queryset, never listed whole: the page has a picker)."""
    if not _staff_submitter(user):
        return Place.objects.none()
    return picker.picker_households(user, "requests")


# --- where a request is filed when the place is not a household ------------------------------------
@dataclass(frozen=True)
class Target:
    """A shared place on the staff page: the Place the request is filed at and, for a building or a
    compound's public area (not places of the tree), the 【prefix】 its description starts with."""

    value: str
    label: str
    place: Place
    prefix: str = ""


def building_target(entrance: Place) -> tuple[Place, str]:
    """A building is not a place of the tree: a request about it goes to the entrance's grid, and its
    description starts with 【the building's number】 (the resident page and the staff page alike)."""
    return entrance.parent, entrance.building.number if entrance.building_id else entrance.name


def public_area_prefix(compound) -> str:
    """What a request about a compound's public area (filed at its community) starts with, in the
    site's language (the stored text is read by the people who handle it)."""
    with translation.override(settings.LANGUAGE_CODE):
        return _("%(compound)s public area") % {"compound": compound.name}


def with_prefix(prefix: str, description: str) -> str:
    return f"【{prefix}】{description}" if prefix else description


def _community_path(path: str) -> str | None:
    parts = path.rstrip(".").split(".")
    return ".".join(parts[:2]) + "." if len(parts) >= 2 else None


def _shared_targets(user) -> list[tuple[str, list[Target]]]:
    """The shared places the user may file at (requests.submit): the communities of their scope, each
    compound's public area, the buildings and the entrances, grouped for the page's select."""
    visible = Place.objects.visible_to(user, "requests.submit")
    entrances = list(
        visible.filter(level=Level.ENTRANCE).select_related(
            "parent", "building__compound", "compound__community"
        )
    )
    scope = scope_for(user, "requests.submit")
    paths = {p for p in map(_community_path, [*scope.prefixes, *(e.path for e in entrances)]) if p}
    communities = Place.objects.filter(level=Level.COMMUNITY).filter(
        Q(path__in=paths) | Q(pk__in=visible.filter(level=Level.COMMUNITY).values("pk"))
    )
    compounds, buildings = {}, {}
    for e in entrances:
        if e.compound_id and e.compound.community_id:
            compounds.setdefault(e.compound_id, e.compound)
        if e.building_id:
            buildings.setdefault(e.building_id, e)
    return [
        (
            _("Community"),
            [Target(f"p:{c.pk}", _("%(c)s (whole community)") % {"c": c.name}, c) for c in communities],
        ),
        (
            _("Public areas"),
            [
                Target(f"c:{pk}", public_area_prefix(c), c.community, public_area_prefix(c))
                for pk, c in sorted(compounds.items(), key=lambda i: i[1].name)
            ],
        ),
        (
            _("Buildings"),
            [
                Target(f"b:{pk}", str(e.building), *building_target(e))
                for pk, e in sorted(buildings.items(), key=lambda i: str(i[1].building))
            ],
        ),
        (_("Entrances"), [Target(f"p:{e.pk}", e.name, e) for e in entrances]),
    ]


def _errors_into(form, exc: ValidationError) -> None:
    items = exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]
    for field, field_errors in items:
        for error in field_errors:
            form.add_error(field if field in form.fields else None, error)


def _submit(request, form, *, place, description, channel, contact_name="", contact_mobile=""):
    """Photos checked first, then the request and its photos in one transaction (nothing on error).
    The text is screened (docs/intake.md): returns the request, or None with the form's errors, or
    raises intake.PossibleRepeat (nothing written) so that the page asks whether there is anything new."""
    user = request.user
    data = form.cleaned_data
    token = data.get("client_token", "")
    if token:
        existing = ServiceRequest.objects.filter(submitted_by=user, client_token=token).first()
        if existing:  # a double tap: the first submission is the request
            return existing
    try:
        check_photos(data["photos"])
        with transaction.atomic():
            req = services.submit_request(
                user,
                place=place,
                request_type=data["request_type"],
                description=description,
                category=data["category"],
                urgency=data["urgency"],
                channel=channel,
                client_token=token,
                board_consent=data["board_consent"],
                contact_name=contact_name,
                contact_mobile=contact_mobile,
                screen=True,
                not_diverted=data.get("not_diverted", False),
                repeat=data.get("repeat_answer") or "ask",
            )
            services.attach_submission_photos(user, req, data["photos"])
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            exc = ValidationError({"photos": exc.messages})
        _errors_into(form, exc)
        return None
    return req


def _render_form(request, template, form, status, **context):
    form.mark_invalid()
    context.update(form=form, rules=photo_rules(), max_description=services.MAX_DESCRIPTION)
    return render(request, template, context, status=status)


# --- intake: what the page says after screening (service_requests/intake.py, docs/intake.md) ----------
def _after_submit(request, req: ServiceRequest):
    """Where the submitter goes: a diversion or a risk to life or property → the notice page; a repeat
    → the open request it was linked to (its progress); otherwise the new request."""
    if req.diversion or req.urgency == Urgency.RISK:
        return redirect("requests:outcome", pk=req.pk)
    if req.repeat_of_id:
        messages.info(
            request,
            _("Request %(n)s about this is still open: your message is added to it. Here is its progress.")
            % {"n": req.repeat_of.number},
        )
        try:
            target = get_request_for_user(request.user, req.repeat_of_id)
        except Http404:  # another household member's request: show the linked record instead
            target = req
        return redirect("requests:detail", pk=target.pk)
    messages.success(request, _("Request %(n)s is submitted.") % {"n": req.number})
    return redirect("requests:detail", pk=req.pk)


def _repeat_context(user, existing: ServiceRequest) -> dict:
    """The open request's progress for the question "anything new?". Its text only to those who may see
    the request (their own); for another household member's request, the state and dates only."""
    try:
        visible = get_request_for_user(user, existing.pk)
    except Http404:
        visible = None
    # intake.find_repeat reads only a few columns of it: the page shows more (dates, deadlines)
    existing = visible or ServiceRequest.objects.get(pk=existing.pk)
    last = existing.events.exclude(kind="repeat").order_by("-at", "-id").first()
    return {
        "req": existing,
        "visible": visible is not None,
        "last": event_label(last.kind) if last else "",
        "last_at": last.at if last else None,
        "due": due_at(existing),
    }


def _again(user, pk) -> ServiceRequest | None:
    """A diverted request of this user's (requester or submitter), submitted again as a normal one."""
    if not pk:
        return None
    return (
        ServiceRequest.objects.filter(pk=pk)
        .filter(Q(requester=user) | Q(submitted_by=user))
        .exclude(diversion="")
        .first()
    )


def _again_initial(req: ServiceRequest) -> dict:
    return {
        "request_type": req.request_type,
        "description": req.description,
        "category": req.category_id,
        "urgency": req.urgency,
        "board_consent": req.board_consent,
        "again": req.pk,
    }


def _form_page(request, form_class, template, *, form_kwargs, place_of, channel, picker_for="", **context):
    """The submit and 代报 pages: screening outcomes, the repeat question and the 'not about that' box.
    `picker_for`: the page chooses a household with the picker (places/picker.py)."""
    user = request.user
    status = 200
    repeat = None
    again = None
    if request.method == "POST" and picker_for and picker.is_round_trip(request.POST):
        # a search or a pick without JavaScript: the page again, with what was typed, nothing submitted
        form = form_class(initial=picker.round_trip_initial(request.POST), **form_kwargs)
    elif request.method == "POST":
        form = form_class(request.POST, request.FILES, **form_kwargs)
        if form.is_valid():
            place, description, extra = place_of(form.cleaned_data)
            try:
                extra = {"channel": channel, **extra}
                req = _submit(request, form, place=place, description=description, **extra)
            except intake.PossibleRepeat as found:
                req, repeat = None, _repeat_context(user, found.existing)
                if request.POST.get("repeat_asked"):  # asked already, and not answered
                    form.add_error("repeat_answer", _("Say whether there are new facts."))
            if req is not None:
                return _after_submit(request, req)
        if repeat is None:
            status = 422
            form.data = form.data.copy()
            form.data["client_token"] = uuid.uuid4().hex
        elif form.errors:  # the question asked again: not answered
            status = 422
        again = _again(user, form.data.get("again"))
    else:
        again = _again(user, request.GET.get("again"))
        initial = {"client_token": uuid.uuid4().hex, **(_again_initial(again) if again else {})}
        form = form_class(initial=initial, **form_kwargs)
        if again is not None:
            form.initial.update(_again_place(again, form))
    match = intake.diversion_of(again) if again else None
    if picker_for:
        data = request.POST if request.method == "POST" else {}
        context["picker"] = picker.picker_context(user, picker_for, form, data=data)
    return _render_form(request, template, form, status, repeat=repeat, again=again, match=match, **context)


def _again_place(req: ServiceRequest, form) -> dict:
    if "household" in form.fields:  # the staff page
        initial = {
            "channel": req.channel if req.channel in dict(STAFF_CHANNELS) else Channel.ON_BEHALF,
            "contact_name": req.contact_name,
            "contact_mobile": req.contact_mobile,
        }
        if req.place.level == Level.HOUSEHOLD:
            return {**initial, "household": req.place_id}
        targets = [t for t in form.targets.values() if t.place.pk == req.place_id]
        for t in sorted(targets, key=lambda t: not t.prefix):  # a 【building】 first, then the place itself
            if not t.prefix or req.description.startswith(f"【{t.prefix}】"):
                description = req.description[len(t.prefix) + 2 :] if t.prefix else req.description
                return {**initial, "where": t.value, "description": description}
        return initial
    level = req.place.level
    if level == Level.HOUSEHOLD:
        return {"place": "household"}
    if level == Level.ENTRANCE:
        return {"place": "entrance"}
    # the building: the stored text starts with 【building】, which the page adds again
    description = req.description
    if description.startswith("【") and "】" in description:
        description = description.split("】", 1)[1]
    return {"place": "building", "description": description}


@login_required
def submit(request):
    """A resident's request for their household, entrance or building."""
    user = request.user
    household = _home_household(user)
    if household is None:
        if not _staff_submitter(user):
            raise PermissionDenied
        return redirect("requests:behalf")

    def place_of(data):
        entrance = household.parent
        where = data["place"]
        place, description = household, data["description"]
        if where == "entrance":
            place = entrance
        elif where == "building":
            place, building = building_target(entrance)
            description = with_prefix(building, description)
        return place, description, {}

    return _form_page(
        request,
        RequestForm,
        "service_requests/submit.html",
        form_kwargs={},
        place_of=place_of,
        channel=Channel.RESIDENT,
        household=household,
    )


@login_required
def behalf(request):
    """The staff entry page (docs/intake.md §5): 代报 for a resident in person, a phone call (电话受理) or a
    patrol finding (巡查发现, no requester), at a household or a shared place in the submit scope.
    Screened like every page submission; residents (whose only submit grant is their home) get 403."""
    user = request.user
    if not _staff_submitter(user):
        raise PermissionDenied

    def place_of(data):
        extra = {
            "channel": data["channel"],
            "contact_name": data["contact_name"],
            "contact_mobile": data["contact_mobile"],
        }
        if data["household"] is not None:
            return data["household"], data["description"], extra
        target = data["where"]
        return target.place, with_prefix(target.prefix, data["description"]), extra

    channel = request.GET.get("channel")
    return _form_page(
        request,
        StaffRequestForm,
        "service_requests/behalf.html",
        form_kwargs={
            "households": _behalf_households(user),
            "targets": _shared_targets(user),
            "channel": channel,
        },
        place_of=place_of,
        channel=Channel.ON_BEHALF,
        picker_for="requests",
    )


@login_required
def outcome(request, pk):
    """After a diversion or a submission at risk to life or property: the emergency numbers, or the
    channel the matter belongs to, and (for a diversion) a way to say "this is not about that"."""
    user = request.user
    req = get_request_for_user(user, pk)
    match = intake.diversion_of(req) if req.diversion else None
    if match is None and req.urgency != Urgency.RISK:
        return redirect("requests:detail", pk=req.pk)
    own = user.pk in (req.requester_id, req.submitted_by_id)
    again_url = ""
    if match is not None and own:
        name = "requests:behalf" if req.channel in dict(STAFF_CHANNELS) else "requests:submit"
        again_url = f"{reverse(name)}?again={req.pk}"
    context = {
        "req": req,
        "match": match,
        "emergency": req.urgency == Urgency.RISK or (match is not None and match.emergency),
        "again_url": again_url,
    }
    return render(request, "service_requests/outcome.html", context)


@login_required
def mine(request):
    user = request.user
    reqs = ServiceRequest.objects.filter(
        Q(requester=user) | Q(submitted_by=user) | Q(pk__in=joined_request_ids(user))
    ).select_related("place")
    return render(
        request,
        "service_requests/mine.html",
        {
            "reqs": reqs,
            "can_submit": _home_household(user) is not None,
            "can_behalf": _staff_submitter(user),
        },
    )


TABS = [
    ("new", gettext_lazy("New")),
    ("mine", gettext_lazy("Mine")),
    ("due", gettext_lazy("Due soon")),
    ("overdue", gettext_lazy("Overdue")),
]


@login_required
def queue(request):
    """The handler's queue over their places: new (to accept at their level), mine, due soon, overdue."""
    user = request.user
    if scope_for(user, "requests.view").is_empty:
        raise PermissionDenied
    tab = request.GET.get("tab", "new")
    if tab not in dict(TABS):
        tab = "new"
    rows = queue_buckets(user)
    open_reqs = rows.pop("open")
    tabs = [(key, label, len(rows[key])) for key, label in TABS]
    hints = duplicates.queue_hints(rows[tab], open_reqs)
    for r in rows[tab]:
        r.due = due_at(r)
        r.voices = 1 + r.co_count
        r.duplicate_of = hints.get(r.pk)
    context = {"tab": tab, "tabs": tabs, "reqs": rows[tab], "can_behalf": _staff_submitter(user)}
    return render(request, "service_requests/queue.html", context)


def _detail(
    request,
    req: ServiceRequest,
    *,
    status=200,
    errors=None,
    rate_form=None,
    photo_errors=None,
    desk_errors=None,
):
    user = request.user
    photos, rules = list(req.photos.all()), photo_rules()
    available = {t.name for t in workflow.available(req, user)}
    own = user.pk in (req.requester_id, req.submitted_by_id)
    # the requester identity through the one selector the API uses: in full for the handler, the
    # dispatchers, the requester and whoever submitted it for them — and every such view by someone
    # other than the requester is audited (request.contact_viewed), on the page as in the API
    contact = requester_contact(user, req)
    sees_contact = not contact.masked
    events = list(req.events.all())
    for e in events:
        e.label = event_label(e.kind, e.data)
        if e.actor_id and e.actor_id == req.requester_id and not sees_contact:
            e.actor_name = _("the requester")
    context = {
        "req": req,
        "events": events,
        "photos": photos,
        "before_photos": [p for p in photos if not p.after],
        "after_photos": [p for p in photos if p.after],
        "actions": [name for name in ACTIONS if name in available],
        "can_rate": "call_back" in available and req.requester_id == user.pk,
        "rate_form": rate_form or RateForm(),
        "errors": errors or {},
        "contact": {"name": contact.name, "mobile": contact.mobile, "full": sees_contact},
        "overdue": services.is_overdue(req),
        "due": due_at(req) if req.state in OPEN_STATES else None,
        "is_requester": own,
        "can_add_photos": services.may_attach_photos(user, req) and len(photos) < rules.max_photos,
        "photo_errors": photo_errors or [],
        "rules": rules,
    }
    context.update(desk_context(user, req, desk_errors))  # the staff panel (units, 吹哨, dispatch …)
    context["co"] = co_rate_context(user, req)  # a co-requester's own rating (docs/duplicates.md)
    context["callback_due"] = callbacks.is_due_for_user(user, req)  # a link to the call page
    return render(request, "service_requests/detail.html", context, status=status)


@login_required
def detail(request, pk):
    req = get_request_for_user(request.user, pk)
    mark_subject_read(request.user, subject_of(req))  # opening it reads the viewer's notices about it
    return _detail(request, req)


@login_required
@require_POST
def act(request, pk, name):
    user = request.user
    req = get_request_for_user(user, pk)
    if name not in ACTIONS:
        raise Http404
    service, keyword = ACTIONS[name]
    form = ActionForm(request.POST)
    text = form.data.get("text", "")[:2000]
    extra = {"photos": request.FILES.getlist("photos")} if name == "resolve" else {}
    try:
        service(user, req, **{keyword: text}, **extra)
    except ValidationError as exc:
        return _detail(request, req, status=422, errors={name: exc.messages})
    except Conflict as exc:
        messages.error(request, str(exc))
        return redirect("requests:detail", pk=req.pk)
    messages.success(request, ACTION_DONE[name])
    return redirect("requests:detail", pk=req.pk)


@login_required
@require_POST
def rate(request, pk):
    user = request.user
    req = get_request_for_user(user, pk)
    if req.requester_id != user.pk:
        raise PermissionDenied
    form = RateForm(request.POST)
    if not form.is_valid():
        form.mark_invalid()
        return _detail(request, req, status=422, rate_form=form)
    try:
        services.rate_request(
            user,
            req,
            solved=form.cleaned_data["solved"],
            satisfaction=form.cleaned_data["satisfaction"],
            comment=form.cleaned_data["comment"],
        )
    except ValidationError as exc:
        _errors_into(form, exc)
        form.mark_invalid()
        return _detail(request, req, status=422, rate_form=form)
    except Conflict as exc:
        messages.error(request, str(exc))
        return redirect("requests:detail", pk=req.pk)
    if req.state == State.CLOSED:
        messages.success(request, _("Thank you. The request is closed."))
    else:
        messages.info(request, _("Thank you. The request goes back to be handled again."))
    return redirect("requests:detail", pk=req.pk)


@login_required
@require_POST
def add_photos(request, pk):
    """More photos on an open request (the requester, the submitter or a handler)."""
    user = request.user
    req = get_request_for_user(user, pk)
    files = request.FILES.getlist("photos")
    if not files:
        return _detail(request, req, status=422, photo_errors=[_("Choose at least one photo.")])
    try:
        added = services.attach_photos(user, req, files)
    except ValidationError as exc:
        return _detail(request, req, status=422, photo_errors=exc.messages)
    messages.success(request, _("%(n)d photo(s) added.") % {"n": len(added)})
    return redirect("requests:detail", pk=req.pk)


@login_required
def photo(request, pk, photo_id):
    """A request's photo, only after the request's visibility check (no public media URL)."""
    req = get_request_for_user(request.user, pk)
    item = get_object_or_404(RequestPhoto, pk=photo_id, request=req)
    return photo_response(item)
