"""楼门长 coverage pages: which entrances have a current 楼门长 (and 楼长 / 层长), and assign / replace /
end them with history.

Pages (permission accounts.manage_coverage):
- `coverage`: per community in the user's scope, entrances with and without a 楼门长, %, 楼长 and 层长.
- `coverage_community(place_id)`: a community → its entrance list (filter "uncovered only") and
  buildings; an entrance → its posts (楼门长, 层长 per floor) with history and the assign form;
  a community with `?building=<id>` → that building's 楼长.
- `coverage_assign(place_id)` (POST): entrance → 楼门长 / 层长; community + building → 楼长.
- `coverage_end(grant_id)` (POST): end with a reason.

A place outside the user's view scope answers 404; visible but not manageable answers 403. Writes go
through accounts.services (assign_leader, end_grant, create_user). Every form is a plain POST that
redirects back (works without JavaScript); htmx swaps only the panel (hx-select) when present.
If someone changed the post since the page was shown, the assignment is refused with a message
instead of silently replacing a holder the user never saw.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linjialin.core.errors import Conflict
from linjialin.core.masking import mask_mobile
from linjialin.core.scope import scope_for, under
from linjialin.places import selectors as place_selectors
from linjialin.places import services as place_services
from linjialin.places.models import Building, Level, Place, Resident

from . import selectors, services
from .forms import AssignLeaderForm, EndGrantForm
from .models import RoleGrant, User
from .roles import LEADER_ROLES, Perm, Role

SEARCH_LIMIT = 20


# --- access ---------------------------------------------------------------------------------------
def _managed_place(user, place_id) -> Place:
    """The place if the user may manage coverage there; 404 when not visible, 403 when only visible."""
    place = place_selectors.get_place_for_user(user, place_id)
    if not scope_for(user, Perm.MANAGE_COVERAGE).covers(place.path):
        raise PermissionDenied
    return place


def _community_of(place: Place) -> Place:
    if place.level == Level.COMMUNITY:
        return place
    return Place.objects.get(path=place.ancestor_paths[Level.COMMUNITY - 1])


def _building_in(community: Place, building_id) -> Building:
    try:
        return Building.objects.select_related("compound").get(
            pk=int(building_id), compound__community=community
        )
    except (Building.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


# --- the overview ---------------------------------------------------------------------------------
@login_required
def coverage(request):
    user = request.user
    tops = place_selectors.top_places_for_user(user, Perm.MANAGE_COVERAGE)
    if not tops:
        raise PermissionDenied
    rows = [row for top in tops for row in selectors.coverage_by_community(top)]
    total = selectors.CommunityCoverage(community=None)
    for r in rows:
        total.entrances += r.entrances
        total.covered += r.covered
        total.buildings += r.buildings
        total.buildings_covered += r.buildings_covered
        total.floor_leaders += r.floor_leaders
    return render(request, "accounts/coverage.html", {"rows": rows, "total": total, "tops": tops})


# --- one community, entrance or building ----------------------------------------------------------
@login_required
def coverage_community(request, place_id):
    place = _managed_place(request.user, place_id)
    if place.level == Level.ENTRANCE:
        return _render_post(request, place)
    if place.level != Level.COMMUNITY:
        raise Http404
    if request.GET.get("building"):
        return _render_post(request, place, building=_building_in(place, request.GET["building"]))
    return _render_community(request, place)


def _render_community(request, community: Place):
    uncovered_only = request.GET.get("uncovered") == "1"
    rows = selectors.entrance_coverage(community, uncovered_only=uncovered_only)
    floor_counts = dict(
        RoleGrant.objects.current()
        .filter(under(community.path), role=Role.FLOOR_LEADER)
        .values_list("place_id")
        .annotate(n=Count("id"))
    )
    for row in rows:
        row.floor_leaders = floor_counts.get(row.entrance.id, 0)
        for g in row.leaders:
            g.mobile_masked = mask_mobile(g.user.mobile)
    buildings = list(place_selectors.buildings_in(community).order_by("compound__name", "number"))
    holders: dict[int, list[RoleGrant]] = {}
    for g in (
        RoleGrant.objects.current().filter(role=Role.BUILDING_LEADER, place=community).select_related("user")
    ):
        holders.setdefault(g.building_id, []).append(g)
    for b in buildings:
        b.leaders = holders.get(b.id, [])
    summary = selectors.coverage_by_community(community)
    context = {
        "community": community,
        "crumbs": place_selectors.breadcrumbs(request.user, community),
        "summary": summary[0] if summary else None,
        "rows": rows,
        "uncovered_only": uncovered_only,
        "buildings": buildings,
    }
    return render(request, "accounts/coverage_community.html", context)


@dataclass
class Candidate:
    value: str  # "user:<id>" or "resident:<id>"
    name: str
    mobile_masked: str
    where: str


def _candidates(user, community: Place, query: str) -> list[Candidate]:
    """People a coverage manager may pick: residents they can see in the community (by name or
    part of the mobile number), and accounts holding a post there. Never the whole user table."""
    query = query.strip()
    if not query:
        return []
    residents = Resident.objects.visible_to(user, Perm.VIEW_HOUSEHOLD).filter(under(community.path))
    if query.isdigit():
        residents = residents.filter(mobile__contains=query) if len(query) >= 4 else residents.none()
    else:
        residents = residents.filter(name__icontains=query)
    found: list[Candidate] = []
    seen_users: set[int] = set()
    for r in residents.select_related("household", "user")[:SEARCH_LIMIT]:
        if r.user_id:
            seen_users.add(r.user_id)
            found.append(
                Candidate(
                    f"user:{r.user_id}", r.user.display_name, mask_mobile(r.user.mobile), r.household.name
                )
            )
        else:
            found.append(Candidate(f"resident:{r.pk}", r.name, mask_mobile(r.mobile), r.household.name))
    grants = RoleGrant.objects.current().filter(under(community.path)).select_related("user", "place")
    if query.isdigit():
        grants = grants.filter(user__mobile__contains=query) if len(query) >= 4 else grants.none()
    else:
        grants = grants.filter(user__display_name__icontains=query)
    for g in grants[:SEARCH_LIMIT]:
        if g.user_id not in seen_users:
            seen_users.add(g.user_id)
            found.append(
                Candidate(
                    f"user:{g.user_id}",
                    g.user.display_name,
                    mask_mobile(g.user.mobile),
                    f"{g.get_role_display()} · {g.place.name}",
                )
            )
    return found[:SEARCH_LIMIT]


def _post_roles(place: Place, building: Building | None) -> list[tuple[str, str]]:
    if building is not None:
        return [(Role.BUILDING_LEADER.value, Role.BUILDING_LEADER.label)]
    return [
        (Role.ENTRANCE_LEADER.value, Role.ENTRANCE_LEADER.label),
        (Role.FLOOR_LEADER.value, Role.FLOOR_LEADER.label),
    ]


def _floors(entrance: Place) -> list[int]:
    return sorted(
        {
            f
            for f in Place.objects.filter(parent=entrance, level=Level.HOUSEHOLD).values_list(
                "floor", flat=True
            )
            if f is not None
        }
    )


def _current_posts(place: Place, building: Building | None) -> list[RoleGrant]:
    if building is not None:
        grants = RoleGrant.objects.current().filter(role=Role.BUILDING_LEADER, building=building)
    else:
        grants = RoleGrant.objects.current().filter(
            place=place, role__in=[Role.ENTRANCE_LEADER, Role.FLOOR_LEADER]
        )
    return list(grants.select_related("user").order_by("role", "floor", "valid_from"))


def _history(place: Place, building: Building | None) -> list[RoleGrant]:
    if building is None:
        return selectors.leader_history(place)
    return list(
        RoleGrant.objects.filter(role=Role.BUILDING_LEADER, building=building)
        .select_related("user", "granted_by", "ended_by")
        .order_by("-valid_from", "-id")
    )


def _render_post(request, place: Place, *, building: Building | None = None, form=None, status=200):
    community = _community_of(place)
    current = _current_posts(place, building)
    for g in current:
        g.mobile_masked = mask_mobile(g.user.mobile)
    query = request.GET.get("q", "") if request.method == "GET" else request.POST.get("q", "")
    floors = _floors(place) if building is None else []
    if form is None:
        form = AssignLeaderForm(
            initial={
                "seen": ",".join(str(g.pk) for g in current),
                "role": _post_roles(place, building)[0][0],
            },
            roles=_post_roles(place, building),
            floors=floors,
        )
    context = {
        "place": place,
        "community": community,
        "building": building,
        "crumbs": place_selectors.breadcrumbs(request.user, place),
        "entrance_leaders": [g for g in current if g.role == Role.ENTRANCE_LEADER],
        "floor_leaders": [g for g in current if g.role == Role.FLOOR_LEADER],
        "building_leaders": [g for g in current if g.role == Role.BUILDING_LEADER],
        "history": _history(place, building),
        "query": query,
        "candidates": _candidates(request.user, community, query),
        "form": form,
        "end_form": EndGrantForm(),
        "floors": floors,
    }
    return render(request, "accounts/coverage_post.html", context, status=status)


def _post_url(place: Place, building: Building | None) -> str:
    if building is not None:
        return reverse("accounts:coverage_community", args=[place.pk]) + f"?building={building.pk}"
    return reverse("accounts:coverage_community", args=[place.pk])


# --- writes ---------------------------------------------------------------------------------------
def _initial_password() -> str:
    """A one-time password the worker hands over in person: 10 chars, mixed classes, unambiguous."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"
    body = "".join(secrets.choice(alphabet) for _ in range(7))
    return f"{secrets.choice(string.ascii_uppercase.replace('O', ''))}{body}{secrets.choice('23456789')}#"


def _person(actor, community: Place, form: AssignLeaderForm) -> tuple[User, str | None]:
    """The chosen account, creating one when needed. Returns (user, initial password if created)."""
    data = form.cleaned_data
    if data["candidate"]:
        kind, pk = data["candidate"]
        if kind == "user":
            reachable = Q(grants__in=RoleGrant.objects.current().filter(under(community.path))) | Q(
                resident_records__in=Resident.objects.visible_to(actor, Perm.VIEW_HOUSEHOLD).filter(
                    under(community.path)
                )
            )
            user = User.objects.filter(reachable, pk=pk, is_active=True).distinct().first()
            if user is None:
                raise ValidationError({"candidate": _("That person is not available here; search again.")})
            return user, None
        resident = (
            Resident.objects.visible_to(actor, Perm.VIEW_HOUSEHOLD)
            .filter(under(community.path), pk=pk)
            .first()
        )
        if resident is None:
            raise ValidationError({"candidate": _("That person is not available here; search again.")})
        if resident.user_id:
            return resident.user, None
        if not resident.mobile:
            raise ValidationError(
                {
                    "candidate": _(
                        "%(name)s has no mobile number on record. "
                        "Enter their mobile number and name below instead."
                    )
                    % {"name": resident.name}
                }
            )
        mobile, name = resident.mobile, resident.name
    else:
        resident = None
        mobile, name = data["mobile"], data["name"]
    existing = User.objects.filter(mobile=mobile).first()
    if existing is not None:
        if not existing.is_active:
            raise ValidationError({"mobile": _("The account with this mobile number is disabled.")})
        return existing, None
    password = _initial_password()
    user = services.create_user(actor, mobile=mobile, display_name=name, password=password)
    if resident is not None:
        place_services.link_resident_account(actor, resident, user=user)
    return user, password


@login_required
@require_POST
def coverage_assign(request, place_id):
    actor = request.user
    place = _managed_place(actor, place_id)
    building = None
    if place.level == Level.COMMUNITY:
        building = _building_in(place, request.POST.get("building"))
    elif place.level != Level.ENTRANCE:
        raise Http404
    community = _community_of(place)
    floors = _floors(place) if building is None else []
    form = AssignLeaderForm(request.POST, roles=_post_roles(place, building), floors=floors)
    if not form.is_valid():
        return _render_post(request, place, building=building, form=form, status=422)
    role = Role(form.cleaned_data["role"])
    floor = form.cleaned_data["floor"] if role == Role.FLOOR_LEADER else None
    try:
        with transaction.atomic():  # a new account for the person and the assignment, or neither
            user, password = _person(actor, community, form)
            grant = services.assign_leader(
                actor,
                role=role,
                place=place,
                user=user,
                building=building,
                floor=floor,
                reason=form.cleaned_data["reason"],
                expected_holders=form.cleaned_data["seen"],
            )
    except ValidationError as exc:
        errors = exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]
        for field, field_errors in errors:
            for error in field_errors:
                form.add_error(field if field in form.fields else None, error)
        return _render_post(request, place, building=building, form=form, status=422)
    except Conflict as exc:
        messages.error(request, str(exc))
        return redirect(_post_url(place, building))
    post_name = (
        Role(role).label
        if floor is None
        else _("%(role)s of floor %(floor)s") % {"role": Role(role).label, "floor": floor}
    )
    if grant.replaced:
        messages.success(
            request,
            _("%(new)s replaces %(old)s as %(post)s.")
            % {
                "new": user.display_name,
                "old": ", ".join(g.user.display_name for g in grant.replaced),
                "post": post_name,
            },
        )
    else:
        messages.success(
            request, _("%(new)s is now %(post)s.") % {"new": user.display_name, "post": post_name}
        )
    if password:
        messages.warning(
            request,
            _(
                "A new account was created for %(name)s (login %(mobile)s). Initial password: %(password)s — "
                "give it to them in person; it is shown only once."
            )
            % {"name": user.display_name, "mobile": user.mobile, "password": password},
        )
    return redirect(_post_url(place, building))


@login_required
@require_POST
def coverage_end(request, grant_id):
    actor = request.user
    grant = (
        RoleGrant.objects.visible_to(actor, Perm.VIEW_PLACE)
        .select_related("user", "place", "building")
        .filter(pk=grant_id, role__in=list(LEADER_ROLES))
        .first()
    )
    if grant is None:
        raise Http404
    if not scope_for(actor, Perm.MANAGE_COVERAGE).covers(grant.path):
        raise PermissionDenied
    back = _post_url(grant.place, grant.building)
    form = EndGrantForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["reason"][0])
        return redirect(back)
    try:
        services.end_grant(actor, grant, reason=form.cleaned_data["reason"])
    except Conflict as exc:
        messages.error(request, _("%(message)s Nothing was changed.") % {"message": exc})
        return redirect(back)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back)
    messages.success(
        request,
        _("%(name)s no longer holds the post of %(role)s.")
        % {"name": grant.user.display_name, "role": grant.get_role_display()},
    )
    return redirect(back)
