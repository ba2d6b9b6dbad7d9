"""Reads of emergency mode: who is on the team or may join it, the area's entrances, the tasks, the
coverage board and the banner.

Who sees an episode: the staff running it (`mutual_aid.emergency` over the community), the members of its
team, and — while it is active — the community's volunteers (to join). Anyone else: 404. Residents only
see the banner (context_processors.emergency_banner).

Coverage: an entrance counts as reached when a door-to-door check of the entrance itself is done; a
care-list household when its own door check is done. Totals are the area's entrances (the community, or
the compound in emergency mode) and the care-list households in them now.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from linjialin.accounts.models import RoleGrant, User
from linjialin.accounts.roles import Role
from linjialin.accounts.scope import current_grants
from linjialin.core.scope import scope_for, under
from linjialin.places.models import Level, Place, ResidentTag

from . import care_selectors
from .models import EmergencyTask, Episode, EpisodeMember, EpisodeState, TaskKind, TaskState

EMERGENCY = "mutual_aid.emergency"


def community_path(path: str) -> str:
    """The community's path of any path at or below a community (subdistrict.community.)."""
    parts = path.split(".")
    return ".".join(parts[:2]) + "." if len(parts) > 2 else ""


# --- people ------------------------------------------------------------------------------------------------
def _grants_in(user, episode_or_path) -> list:
    path = episode_or_path if isinstance(episode_or_path, str) else episode_or_path.path
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    return [g for g in current_grants(user) if g.path.startswith(path)]


def eligible(user, episode: Episode) -> bool:
    """A volunteer or anyone holding a role in the episode's community (residents, leaders, staff)."""
    return bool(_grants_in(user, episode))


def is_volunteer(user, episode: Episode) -> bool:
    return any(g.role == Role.VOLUNTEER for g in _grants_in(user, episode))


def is_member(user, episode_id: int) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return EpisodeMember.objects.filter(episode_id=episode_id, user_id=user.pk).exists()


def volunteers_of(community: Place):
    grants = RoleGrant.objects.current(timezone.localdate()).filter(
        under(community.path), role=Role.VOLUNTEER
    )
    return User.objects.filter(is_active=True, pk__in=grants.values("user_id")).order_by("pk")


def candidates_for(episode: Episode) -> list[User]:
    """Whom the staff can add to the team: the community's volunteers, its residents tagged as party
    members (a linked account), and the people holding a non-resident role there; not yet members."""
    today = timezone.localdate()
    grants = RoleGrant.objects.current(today).filter(under(episode.path)).exclude(role=Role.RESIDENT)
    party = ResidentTag.objects.filter(
        under(episode.path), tag_id="party_member", resident__user__isnull=False
    ).values("resident__user_id")
    members = EpisodeMember.objects.filter(episode=episode).values("user_id")
    return list(
        User.objects.filter(is_active=True)
        .filter(Q(pk__in=grants.values("user_id")) | Q(pk__in=party))
        .exclude(pk__in=members)
        .order_by("display_name", "pk")[:500]
    )


def team_of(episode: Episode) -> list[EpisodeMember]:
    return list(
        EpisodeMember.objects.filter(episode=episode).select_related("user").order_by("role", "joined_at")
    )


# --- episodes ----------------------------------------------------------------------------------------------
def active_episode(community: Place) -> Episode | None:
    return Episode.objects.filter(community=community, state=EpisodeState.ACTIVE).first()


def _visible_q(user) -> Q | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    scope = scope_for(user, EMERGENCY)
    q = Q(pk__in=EpisodeMember.objects.filter(user_id=user.pk).values("episode_id"))
    if not scope.is_empty:
        q |= scope.q()
    volunteer_at = [
        community_path(g.path) or g.path for g in current_grants(user) if g.role == Role.VOLUNTEER
    ]
    if volunteer_at:
        q |= Q(state=EpisodeState.ACTIVE, path__in=volunteer_at)
    return q


def list_episodes_for_user(user):
    q = _visible_q(user)
    if q is None:
        return Episode.objects.none()
    return Episode.objects.filter(q).select_related("community", "compound").order_by("-started_at", "-id")


def get_episode_for_user(user, episode_id) -> Episode:
    q = _visible_q(user)
    if q is None:
        raise Http404
    try:
        return Episode.objects.filter(q).select_related("community", "compound").get(pk=episode_id)
    except (Episode.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def get_task_for_user(user, episode: Episode, task_id) -> EmergencyTask:
    try:
        task = EmergencyTask.objects.select_related("episode", "entrance", "household").get(
            pk=task_id, episode=episode
        )
    except (EmergencyTask.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    return task


# --- the area and its tasks --------------------------------------------------------------------------------
def area_entrances(episode: Episode) -> list[Place]:
    """The entrances in emergency mode: the community's, or only the compound's."""
    qs = Place.objects.filter(under(episode.path), level=Level.ENTRANCE)
    if episode.compound_id:
        qs = qs.filter(compound_id=episode.compound_id)
    return list(qs.select_related("parent", "building", "building__compound", "compound").order_by("path"))


def task_counts(episode: Episode) -> dict[str, int]:
    counts = Counter(EmergencyTask.objects.filter(episode=episode).values_list("state", flat=True))
    return {s: counts.get(s, 0) for s in TaskState.values}


def tasks_of(episode: Episode) -> list[EmergencyTask]:
    return list(
        EmergencyTask.objects.filter(episode=episode)
        .select_related("entrance", "household", "claimed_by")
        .order_by("path", "kind", "id")
    )


@dataclass
class EntranceTasks:
    entrance: Place
    tasks: list[EmergencyTask] = field(default_factory=list)

    @property
    def open(self) -> int:
        return sum(1 for t in self.tasks if t.state == TaskState.OPEN)


def tasks_by_entrance(episode: Episode) -> list[EntranceTasks]:
    groups: dict[int, EntranceTasks] = {}
    for t in tasks_of(episode):
        groups.setdefault(t.entrance_id, EntranceTasks(entrance=t.entrance)).tasks.append(t)
    return sorted(groups.values(), key=lambda g: g.entrance.path)


# --- the coverage board ------------------------------------------------------------------------------------
@dataclass
class CoverageRow:
    label: str
    entrances: int = 0
    entrances_reached: int = 0
    care: int = 0
    care_reached: int = 0

    @staticmethod
    def _percent(part: int, whole: int) -> int:
        return round(100 * part / whole) if whole else 0

    @property
    def entrances_percent(self) -> int:
        return self._percent(self.entrances_reached, self.entrances)

    @property
    def care_percent(self) -> int:
        return self._percent(self.care_reached, self.care)


@dataclass
class Coverage:
    total: CoverageRow
    by_grid: list[CoverageRow]
    by_building: list[CoverageRow]
    counts: dict[str, int]
    unreached_entrances: list[Place]


def coverage(episode: Episode) -> Coverage:
    """Which entrances and care-list households of the area have been reached (a done door-to-door
    check), in total, per grid and per building, and the open / claimed / done task counts."""
    entrances = area_entrances(episode)
    care = care_selectors.care_households_under([e.path for e in entrances])
    done = EmergencyTask.objects.filter(episode=episode, kind=TaskKind.DOOR_CHECK, state=TaskState.DONE)
    reached_entrances = set(done.filter(household__isnull=True).values_list("entrance_id", flat=True))
    reached_households = set(done.filter(household__isnull=False).values_list("household_id", flat=True))
    care_by_entrance = Counter(h.parent_id for h in care)
    care_reached_by_entrance = Counter(h.parent_id for h in care if h.pk in reached_households)

    total = CoverageRow(label="")
    grids: dict[int, CoverageRow] = {}
    buildings: dict[object, CoverageRow] = {}
    for e in entrances:
        grid = grids.setdefault(e.parent_id, CoverageRow(label=e.parent.name))
        key = e.building_id or f"entrance-{e.pk}"
        building = buildings.setdefault(key, CoverageRow(label=str(e.building) if e.building_id else e.name))
        for row in (total, grid, building):
            row.entrances += 1
            row.entrances_reached += e.pk in reached_entrances
            row.care += care_by_entrance[e.pk]
            row.care_reached += care_reached_by_entrance[e.pk]
    return Coverage(
        total=total,
        by_grid=list(grids.values()),
        by_building=sorted(buildings.values(), key=lambda r: r.label),
        counts=task_counts(episode),
        unreached_entrances=[e for e in entrances if e.pk not in reached_entrances],
    )


# --- the banner --------------------------------------------------------------------------------------------
def banner_episodes_for_user(user) -> list[Episode]:
    """Active episodes of the user's community (any role they hold there: residents and staff); a grant
    above the community (the subdistrict) sees those under it. An episode limited to a compound shows to
    the people of that compound's entrances and to those working above them."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    grants = current_grants(user)
    if not grants:
        return []
    q = Q()
    for g in grants:
        c = community_path(g.path)
        q |= Q(path=c) if c else under(g.path)
    episodes = list(Episode.objects.filter(q, state=EpisodeState.ACTIVE).order_by("started_at", "id"))
    limited = [e for e in episodes if e.compound_id]
    if not limited:
        return episodes
    # below the community (entrance, household): only the compound's own people
    low = {".".join(g.path.split(".")[:4]) + "." for g in grants if g.place.level >= Level.ENTRANCE}
    high = [g.path for g in grants if g.place.level < Level.ENTRANCE]
    compounds = (
        set(Place.objects.filter(path__in=low).values_list("compound_id", flat=True)) if low else set()
    )
    return [
        e
        for e in episodes
        if not e.compound_id or e.compound_id in compounds or any(e.path.startswith(p) for p in high)
    ]
