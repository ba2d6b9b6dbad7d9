"""Reads of the place tree that depend on who asks. Everything governed goes through visible_to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q
from django.db.models.functions import Substr
from django.http import Http404
from django.utils import timezone

from linjialin.core import rows
from linjialin.core.scope import scope_for, under

from .models import Building, EntranceProfile, Level, Place, Resident, ResidentTag

# Age bands used by the computed entrance profile (data a deployment may want to change lives here).
ELDERLY_AGE = 60
SCHOOL_AGES = range(6, 18)


def building_entrance_paths(building_id: int) -> list[str]:
    return list(
        Place.objects.filter(building_id=building_id, level=Level.ENTRANCE).values_list("path", flat=True)
    )


def floor_household_paths(entrance: Place, floor: int) -> list[str]:
    return list(
        Place.objects.filter(under(entrance.path), level=Level.HOUSEHOLD, floor=floor).values_list(
            "path", flat=True
        )
    )


def place_by_id(place_id) -> Place | None:
    """The place with this id, or None. No scope check: for a service that checks what the user may do
    there (a submission checks the submit scope). One plain statement (core/rows.py): every submission
    reads it."""
    return rows.first(Place, "t.id = %s", [place_id])


def get_place_for_user(user, place_id, perm: str = "places.view_place") -> Place:
    """The place, or 404 when it is missing or outside the user's scope for `perm`."""
    try:
        return Place.objects.visible_to(user, perm).select_related("building", "compound").get(pk=place_id)
    except (Place.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def get_resident_for_user(user, resident_id, perm: str = "places.view_household") -> Resident:
    try:
        return Resident.objects.visible_to(user, perm).select_related("household").get(pk=resident_id)
    except (Resident.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def top_places_for_user(user, perm: str = "places.view_place") -> list[Place]:
    """The highest places the user can see (their grants' places, narrowed to what the scope covers)."""
    scope = scope_for(user, perm)
    if scope.is_empty:
        return []
    if scope.everywhere:
        return list(Place.objects.filter(parent__isnull=True))
    return list(Place.objects.filter(path__in=scope.prefixes).order_by("path"))


def breadcrumbs(user, place: Place) -> list[tuple[Place, bool]]:
    """(ancestor, linkable) from the top down; ancestors outside the scope are shown without links."""
    scope = scope_for(user, "places.view_place")
    ancestors = {p.path: p for p in Place.objects.filter(path__in=place.ancestor_paths)}
    return [(ancestors[p], scope.covers(p)) for p in place.ancestor_paths if p in ancestors]


@dataclass
class ChildRow:
    place: Place
    households: int = 0
    occupied: int = 0
    residents: int = 0
    entrances: int = 0
    openable: bool = True  # its page opens for this user (a household needs places.view_household)


def children_with_counts(user, place: Place) -> list[ChildRow]:
    """The visible children of `place` with household, resident and entrance counts below each.

    One grouped query per count: rows under `place` grouped by the fixed-width path prefix of the
    child level, so the cost does not grow with the number of children.
    """
    children = list(
        Place.objects.visible_to(user, "places.view_place")
        .filter(parent=place)
        .select_related("building", "compound")
    )
    if not children:
        return []
    households = scope_for(user, "places.view_household")
    rows = {
        c.path: ChildRow(c, openable=c.level != Level.HOUSEHOLD or households.covers(c.path))
        for c in children
    }
    width = len(children[0].path)
    below = Place.objects.filter(under(place.path)).annotate(prefix=Substr("path", 1, width))
    if place.level < Level.ENTRANCE:
        for r in (
            below.filter(level=Level.HOUSEHOLD)
            .values("prefix")
            .annotate(n=Count("id"), occ=Count("id", filter=Q(is_occupied=True)))
        ):
            if r["prefix"] in rows:
                rows[r["prefix"]].households, rows[r["prefix"]].occupied = r["n"], r["occ"]
    if place.level < Level.GRID:
        for r in below.filter(level=Level.ENTRANCE).values("prefix").annotate(n=Count("id")):
            if r["prefix"] in rows:
                rows[r["prefix"]].entrances = r["n"]
    residents = (
        Resident.objects.filter(under(place.path), moved_out_at__isnull=True)  # who lives there now
        .annotate(prefix=Substr("path", 1, width))
        .values("prefix")
        .annotate(n=Count("id"))
    )
    for r in residents:
        if r["prefix"] in rows:
            rows[r["prefix"]].residents = r["n"]
    return list(rows.values())


def place_totals(place: Place) -> dict[str, int]:
    households = Place.objects.filter(under(place.path), level=Level.HOUSEHOLD)
    return {
        "entrances": Place.objects.filter(under(place.path), level=Level.ENTRANCE).count(),
        "households": households.count(),
        "occupied": households.filter(is_occupied=True).count(),
        "residents": Resident.objects.filter(under(place.path), moved_out_at__isnull=True).count(),
    }


@dataclass
class EntranceFigures:
    households: int
    resident_households: int
    empty_nest_elderly_households: int
    school_children: int
    ebikes: int
    wechat_group: str
    wechat_members: int | None
    spare_keys: int
    notes: str


def entrance_figures(entrance: Place, today: date | None = None) -> EntranceFigures:
    """The 楼门 profile: computed from household and resident records where possible, else entered.

    An empty-nest elderly household (空巢老人户) is an occupied household whose residents are all
    aged ELDERLY_AGE or over; school children are residents aged 6–17.
    """
    year = (today or timezone.localdate()).year
    households = list(Place.objects.filter(parent=entrance, level=Level.HOUSEHOLD).only("id", "is_occupied"))
    ages: dict[int, list[int | None]] = {}
    for household_id, birth_year in Resident.objects.filter(
        under(entrance.path), moved_out_at__isnull=True
    ).values_list("household_id", "birth_year"):
        ages.setdefault(household_id, []).append(year - birth_year if birth_year else None)
    empty_nest = sum(
        1
        for h in households
        if h.is_occupied and ages.get(h.id) and all(a is not None and a >= ELDERLY_AGE for a in ages[h.id])
    )
    children = sum(1 for group in ages.values() for a in group if a is not None and a in SCHOOL_AGES)
    profile = EntranceProfile.objects.filter(entrance=entrance).first() or EntranceProfile(entrance=entrance)
    return EntranceFigures(
        households=len(households),
        resident_households=sum(1 for h in households if h.is_occupied),
        empty_nest_elderly_households=empty_nest,
        school_children=children,
        ebikes=profile.ebikes,
        wechat_group=profile.wechat_group,
        wechat_members=profile.wechat_members,
        spare_keys=profile.spare_keys,
        notes=profile.notes,
    )


def household_residents(user, household: Place) -> list[Resident]:
    """Residents of a household with their tags; sensitive tags only for users allowed to see them."""
    residents = list(
        Resident.objects.visible_to(user, "places.view_household")
        .filter(household=household, moved_out_at__isnull=True)  # who left is anonymous: not listed
        .order_by("id")
    )
    show_sensitive = scope_for(user, "places.view_sensitive").covers(household.path)
    tags = ResidentTag.objects.filter(resident__in=residents).select_related("tag")
    if not show_sensitive:
        tags = tags.filter(tag__sensitive=False)
    by_resident: dict[int, list[ResidentTag]] = {}
    for t in tags:
        by_resident.setdefault(t.resident_id, []).append(t)
    for r in residents:
        r.visible_tags = by_resident.get(r.id, [])
    return residents


def buildings_in(place: Place):
    return Building.objects.filter(under(place.path)).select_related("compound")


# --- the household picker (代报, mutual-aid posts): a search, never the whole list ---------------------
PICKER_LIMIT = 20
PICKER_QUERY_MAX = 50
# which permission each picker serves: the endpoint answers only for these
PICKER_PERMS = {"requests": "requests.submit", "aid": "mutual_aid.post"}


def picker_households(user, purpose: str):
    """The households the user may choose for `purpose` (a queryset: validating one pick is one query)."""
    perm = PICKER_PERMS.get(purpose)
    if perm is None:
        return Place.objects.none()
    return Place.objects.visible_to(user, perm).filter(level=Level.HOUSEHOLD)


def search_households_for_user(user, purpose: str, query: str, limit: int = PICKER_LIMIT) -> list[Place]:
    """At most `limit` households in the user's scope for `purpose` matching every word of `query`: a
    word matches the household's name (compound, building, unit, room) or the name of a resident the
    user may see. Separators people type between building, unit and room ("5-1-101", "5/1/101") count
    as spaces. An empty query finds nothing: the picker never lists a whole scope."""
    words = query[:PICKER_QUERY_MAX].replace("-", " ").replace("/", " ").split()
    if not words:
        return []
    residents = Resident.objects.visible_to(user, "places.view_household")
    households = picker_households(user, purpose)
    for word in words[:5]:
        by_name = residents.filter(name__icontains=word).values("household_id")
        households = households.filter(Q(name__icontains=word) | Q(room=word) | Q(pk__in=by_name))
    return list(households.order_by("path")[:limit])
