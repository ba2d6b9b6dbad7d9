"""Reads about people and their grants that depend on who asks."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, Q
from django.db.models.functions import Substr
from django.utils import timezone

from linjialin.core import rows
from linjialin.core.scope import ancestor_paths, under
from linjialin.places.models import Building, Level, Place

from .models import RoleGrant
from .roles import ROLES, Role
from .scope import current_grants


def home_roles(user) -> list[RoleGrant]:
    """The user's current grants, the widest place first."""
    return sorted(current_grants(user), key=lambda g: (g.place.level, g.path, g.role))


def is_staff_user(user) -> bool:
    return any(ROLES[Role(g.role)].staff for g in current_grants(user))


@dataclass
class CommunityCoverage:
    community: Place
    entrances: int = 0
    covered: int = 0
    buildings: int = 0
    buildings_covered: int = 0
    floor_leaders: int = 0

    @property
    def uncovered(self) -> int:
        return self.entrances - self.covered

    @property
    def percent(self) -> float:
        return round(100 * self.covered / self.entrances, 1) if self.entrances else 0.0


def coverage_by_community(place: Place) -> list[CommunityCoverage]:
    """楼门长 / 楼长 / 层长 coverage for every community under `place` (itself if a community)."""
    communities = list(
        Place.objects.filter(under(place.path), level=Level.COMMUNITY).order_by("path")
        if place.level <= Level.COMMUNITY
        else []
    )
    rows = {c.path: CommunityCoverage(c) for c in communities}
    if not rows:
        return []
    width = len(communities[0].path)
    today = timezone.localdate()
    for r in (
        Place.objects.filter(under(place.path), level=Level.ENTRANCE)
        .annotate(prefix=Substr("path", 1, width))
        .values("prefix")
        .annotate(n=Count("id"))
    ):
        rows[r["prefix"]].entrances = r["n"]
    grants = (
        RoleGrant.objects.current(today).filter(under(place.path)).annotate(prefix=Substr("path", 1, width))
    )
    for r in (
        grants.filter(role=Role.ENTRANCE_LEADER).values("prefix").annotate(n=Count("place_id", distinct=True))
    ):
        rows[r["prefix"]].covered = r["n"]
    for r in grants.filter(role=Role.FLOOR_LEADER).values("prefix").annotate(n=Count("id")):
        rows[r["prefix"]].floor_leaders = r["n"]
    for r in (
        grants.filter(role=Role.BUILDING_LEADER)
        .values("prefix")
        .annotate(n=Count("building_id", distinct=True))
    ):
        rows[r["prefix"]].buildings_covered = r["n"]
    for r in Building.objects.filter(under(place.path)).values("path").annotate(n=Count("id")):
        if r["path"] in rows:
            rows[r["path"]].buildings = r["n"]
    return list(rows.values())


@dataclass
class EntranceCoverage:
    entrance: Place
    leaders: list[RoleGrant] = field(default_factory=list)


def entrance_coverage(community: Place, *, uncovered_only: bool = False) -> list[EntranceCoverage]:
    entrances = Place.objects.filter(under(community.path), level=Level.ENTRANCE).select_related(
        "building__compound"
    )
    current = (
        RoleGrant.objects.current()
        .filter(under(community.path), role=Role.ENTRANCE_LEADER)
        .select_related("user")
    )
    by_place: dict[int, list[RoleGrant]] = {}
    for g in current:
        by_place.setdefault(g.place_id, []).append(g)
    rows = [EntranceCoverage(e, by_place.get(e.id, [])) for e in entrances]
    return [r for r in rows if not r.leaders] if uncovered_only else rows


def leader_history(place: Place) -> list[RoleGrant]:
    """Every leader grant ever made on this place, newest first (the coverage history)."""
    return list(
        RoleGrant.objects.filter(place=place, role__in=[Role.ENTRANCE_LEADER, Role.FLOOR_LEADER])
        .select_related("user", "granted_by", "ended_by")
        .order_by("-valid_from", "-id")
    )


# --- who is on duty for a place (added for the deadline sweep's notifications) -----------------------
def _holder_roles(perm: str, roles: set[Role] | None) -> list[Role]:
    holders = [r for r, spec in ROLES.items() if perm in spec.perms and r != Role.SYSTEM_ADMIN]
    return holders if roles is None else [r for r in holders if r in roles]


def users_holding(perm: str, path: str, *, levels: set[int] | None = None, roles: set[Role] | None = None):
    """Active users with a current grant of `perm` on `path` or a place above it, optionally only
    grants at the given handling `levels` (place levels; 0 = department handlers, see
    scope.DEPARTMENT_LEVEL) or only grants of the given `roles` (e.g. the mediators among the centre's
    staff). System administrators are left out: they hold every permission but are not on duty.
    Building/floor grants (楼长, 层长) reach only parts of their place and are left out.
    A queryset; `holders` gives the same users as a list, read faster."""
    from .models import User
    from .scope import DEPARTMENT_LEVEL

    grants = RoleGrant.objects.current(timezone.localdate()).filter(
        role__in=_holder_roles(perm, roles),
        path__in=ancestor_paths(path),
        building__isnull=True,
        floor__isnull=True,
    )
    if levels is not None:
        place_levels = {lv for lv in levels if lv != DEPARTMENT_LEVEL}
        q = Q(place__level__in=place_levels) & ~Q(role=Role.DEPARTMENT_HANDLER)
        if DEPARTMENT_LEVEL in levels:
            q |= Q(role=Role.DEPARTMENT_HANDLER)
        grants = grants.filter(q)
    return User.objects.filter(is_active=True, pk__in=grants.values("user_id")).order_by("pk")


def holders(perm: str, path: str, *, levels: set[int] | None = None, roles: set[Role] | None = None) -> list:
    """The users of `users_holding`, in the same order, as a list read with one plain statement
    (core/rows.py): the request loop asks who is on duty at every step (the notices of each step, the
    sweep per place), and building the ORM query cost ten times more than running it."""
    from .models import User
    from .scope import DEPARTMENT_LEVEL

    holder_roles = _holder_roles(perm, roles)
    paths = ancestor_paths(path)
    if not holder_roles:
        return []
    today = timezone.localdate()
    qn = connection.ops.quote_name
    marks = lambda values: ", ".join(["%s"] * len(values))  # noqa: E731
    where = [
        f"g.role IN ({marks(holder_roles)})",
        f"g.path IN ({marks(paths)})",
        "g.building_id IS NULL AND g.floor IS NULL",
        "g.valid_from <= %s AND (g.valid_to IS NULL OR g.valid_to >= %s)",
    ]
    params = [*(str(r) for r in holder_roles), *paths, rows.param(today), rows.param(today)]
    if levels is not None:
        place_levels = sorted(lv for lv in levels if lv != DEPARTMENT_LEVEL)
        either = []
        if place_levels:
            either.append(f"(p.level IN ({marks(place_levels)}) AND g.role <> %s)")
            params += [*place_levels, str(Role.DEPARTMENT_HANDLER)]
        if DEPARTMENT_LEVEL in levels:
            either.append("g.role = %s")
            params.append(str(Role.DEPARTMENT_HANDLER))
        where.append(f"({' OR '.join(either) or '1 = 0'})")
    # table names and placeholders only: every value is a parameter
    grant_table, place_table = qn(RoleGrant._meta.db_table), qn(Place._meta.db_table)
    grants = f"SELECT g.user_id FROM {grant_table} g JOIN {place_table} p ON p.id = g.place_id WHERE "  # noqa: S608
    grants += " AND ".join(where)
    return rows.fetch(User, f"t.is_active = %s AND t.id IN ({grants})", [True, *params], order_by="t.id")


def personal_data_events(user, *, since) -> int | None:
    """How many "personal data seen or exported" events (full numbers shown, roster exports …) the
    user may audit since `since`; None when the user audits nothing."""
    from linjialin.core import audit, audit_labels

    events = audit.events_for_user(user, since=since)
    if events is None:
        return None
    return events.filter(action__in=list(audit_labels.personal())).count()
