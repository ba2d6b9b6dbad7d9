"""Reads for hotspots: the requests as detection rows (read-only), the boards, tasks and themes.

Governed reads go through `visible_to(user, perm)`; missing and forbidden both answer 404.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Prefetch, Q
from django.http import Http404

from linjialin.core.scope import ancestor_paths, scope_for, under
from linjialin.places.models import Level, Place
from linjialin.service_requests.models import Category, ServiceRequest, State

from . import detection
from .models import (
    DetectionRun,
    Hotspot,
    HotspotRules,
    MonthlyTheme,
    PlaceLevel,
    ProactiveTask,
    TaskState,
)

BUILDING_PREFIX = "【"  # a request "at my building" is filed at the entrance's grid as 【N号楼】…
SKIPPED_STATES = (State.WITHDRAWN,)


def rules() -> HotspotRules:
    return HotspotRules.objects.first() or HotspotRules()


def settings_from(r: HotspotRules) -> detection.Settings:
    return detection.Settings(
        window_days=r.window_days,
        trend_windows=r.trend_windows,
        similarity=r.similarity / 100,
        min_count=r.min_count,
        weight_count=float(r.weight_count),
        weight_growth=float(r.weight_growth),
        weight_households=float(r.weight_households),
        weight_spread=float(r.weight_spread),
        keep_per_level=r.keep_per_level,
        samples=r.samples,
    )


# --- places: each request's keys at the four levels ------------------------------------------------
class PlaceIndex:
    """Entrances, buildings, compounds and communities, read once, to place requests by their path."""

    def __init__(self, under_path: str | None = None):
        entrances = Place.objects.filter(level=Level.ENTRANCE)
        communities = Place.objects.filter(level=Level.COMMUNITY)
        if under_path:
            entrances, communities = (
                entrances.filter(under(under_path)),
                communities.filter(under(under_path)),
            )
        self.community = {p: n for p, n in communities.values_list("path", "name")}
        self.entrance: dict[str, tuple] = {}
        self.building_at_grid: dict[tuple[str, str], tuple] = {}
        for path, pk, name, b_id, b_no, c_id, c_name in entrances.values_list(
            "path", "pk", "name", "building_id", "building__number", "compound_id", "compound__name"
        ):
            grid = _prefix(path, 3)
            self.entrance[path] = (pk, name, b_id, b_no, c_id, c_name, grid)
            if b_id is not None:
                self.building_at_grid.setdefault((grid, b_no), (b_id, b_no, c_id, c_name))

    def places(self, path: str, description: str) -> tuple[tuple[detection.Place, ...], str, str]:
        """(the request's places at each level, its household key, its entrance path)."""
        depth = path.count(".")
        community = _prefix(path, 2) if depth >= 2 else ""
        places = []
        household = path if depth >= 5 else ""
        entrance_path = ""
        building = compound = None
        if depth >= 4:
            entrance_path = _prefix(path, 4)
            e = self.entrance.get(entrance_path)
            if e:
                pk, name, b_id, b_no, c_id, c_name, grid = e
                places.append(detection.Place(PlaceLevel.ENTRANCE, f"e:{pk}", name, grid))
                if b_id is not None:
                    building = (b_id, b_no, c_id, c_name, grid)
                if c_id is not None:
                    compound = (c_id, c_name)
        elif depth == 3 and description.startswith(BUILDING_PREFIX):
            number = description[1 : description.find("】")] if "】" in description else ""
            b = self.building_at_grid.get((path, number))
            if b:
                building = (*b, path)
                compound = (b[2], b[3])
        if building:
            b_id, b_no, c_id, c_name, grid = building
            places.append(detection.Place(PlaceLevel.BUILDING, f"b:{b_id}", f"{c_name or ''}{b_no}", grid))
        if compound and compound[0] is not None:
            places.append(detection.Place(PlaceLevel.COMPOUND, f"c:{compound[0]}", compound[1], community))
        if community in self.community:
            places.append(
                detection.Place(PlaceLevel.COMMUNITY, f"m:{community}", self.community[community], community)
            )
        return tuple(places), household, entrance_path


def _prefix(path: str, depth: int) -> str:
    return ".".join(path.split(".")[:depth]) + "."


def top_categories() -> dict[int, int]:
    """Category id → its top-level category id (problems are split by text inside a field)."""
    parents = dict(Category.objects.values_list("pk", "parent_id"))
    return {pk: (parent or pk) for pk, parent in parents.items()}


def request_rows(start: datetime, end: datetime, *, under_path: str | None = None, chunk: int = 20000):
    """The requests submitted in [start, end) as detection rows (read-only; withdrawn and diverted
    submissions left out). Yields rows; one pass over an index range of submitted_at."""
    index = PlaceIndex(under_path)
    tops = top_categories()
    qs = (
        ServiceRequest.objects.filter(submitted_at__gte=start, submitted_at__lt=end, diversion="")
        .exclude(state__in=SKIPPED_STATES)
        .order_by()
    )
    if under_path:
        qs = qs.filter(under(under_path))
    columns = ("pk", "description", "submitted_at", "category_id", "path", "requester_id", "contact_name")
    for pk, text, at, category_id, path, requester_id, contact_name in qs.values_list(*columns).iterator(
        chunk_size=chunk
    ):
        places, household, entrance = index.places(path, text)
        if not places:
            continue
        if not household and requester_id:
            household = f"u{requester_id}"
        yield detection.Row(
            id=pk,
            text=text,
            at=at,
            category=tops.get(category_id, category_id),
            places=places,
            household=household,
            entrance=entrance,
            extra={"name": contact_name},
        )


# --- boards --------------------------------------------------------------------------------------------
def latest_run() -> DetectionRun | None:
    return DetectionRun.objects.filter(finished_at__isnull=False).first()


def board_place(user, place_id) -> Place:
    """A subdistrict, community or grid the user may see requests of; else 404."""
    try:
        place = Place.objects.get(pk=place_id, level__in=(Level.SUBDISTRICT, Level.COMMUNITY, Level.GRID))
    except (Place.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not scope_for(user, "requests.view").covers(place.path):
        raise Http404
    return place


def board_places(user) -> list[Place]:
    """The highest subdistricts / communities / grids the user sees requests of (their boards)."""
    scope = scope_for(user, "requests.view")
    if scope.is_empty:
        return []
    qs = Place.objects.filter(level__in=(Level.SUBDISTRICT, Level.COMMUNITY, Level.GRID))
    if not scope.everywhere:
        qs = qs.filter(scope.q())
    places = list(qs.order_by("path")[:500])
    tops = []
    for p in places:
        if not any(p.path.startswith(t.path) for t in tops):
            tops.append(p)
    return tops


def board_hotspots(user, place: Place, level: str = "") -> list[Hotspot]:
    """The latest run's hotspots under `place`, best first (the caller checked the place)."""
    run = latest_run()
    if run is None:
        return []
    qs = Hotspot.objects.visible_to(user, "requests.view").filter(under(place.path), run=run)
    if level:
        qs = qs.filter(level=level)
    return list(qs.select_related("category").order_by("-score", "rank", "id")[:100])


def get_hotspot(user, hotspot_id) -> Hotspot:
    try:
        return Hotspot.objects.visible_to(user, "requests.view").select_related("category").get(pk=hotspot_id)
    except (Hotspot.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def tasks_for(user, place: Place):
    return (
        ProactiveTask.objects.visible_to(user, "requests.view")
        .filter(under(place.path))
        .select_related("owner", "category")
    )


def board_tasks(user, place: Place, limit: int = 50) -> list[ProactiveTask]:
    """The newest tasks under the place, with their linked request ids (two queries)."""
    only_ids = Prefetch("requests", queryset=ServiceRequest.objects.only("pk"))
    return list(tasks_for(user, place).prefetch_related(only_ids)[:limit])


def get_task(user, task_id) -> ProactiveTask:
    try:
        return (
            ProactiveTask.objects.visible_to(user, "requests.view")
            .select_related("owner", "category")
            .get(pk=task_id)
        )
    except (ProactiveTask.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def task_requests(user, task: ProactiveTask):
    """The task's linked requests that the user may see (requests.view; the request's own rule)."""
    from linjialin.service_requests.selectors import visible_requests

    return visible_requests(user).filter(pk__in=task.requests.values("pk")).select_related("category")


def tasks_by_request(tasks) -> dict[int, ProactiveTask]:
    """request id → the (not cancelled) task it is linked to, for 'already taken on' on the board."""
    out = {}
    for t in tasks:
        if t.state == "cancelled":
            continue
        for pk in (r.pk for r in t.requests.all()):  # prefetched by the board
            out[pk] = t
    return out


def owners_for(path: str):
    """Who may own a task at `path`: the users holding requests.handle over it."""
    from linjialin.accounts.selectors import users_holding

    return users_holding("requests.handle", path)


# --- themes ----------------------------------------------------------------------------------------------
def themes_for(user):
    """The themes of the places in the user's requests.view scope and of the places above them: the
    subdistrict's 每月一题 is the work of its 网格员 and community workers too."""
    scope = scope_for(user, "requests.view")
    if scope.is_empty:
        return MonthlyTheme.objects.none()
    qs = MonthlyTheme.objects.select_related("place")
    if scope.everywhere:
        return qs
    above = {path for prefix in scope.prefixes for path in ancestor_paths(prefix)}
    return qs.filter(scope.q() | Q(path__in=above))


def may_see_themes(user, places: list[Place] | None = None) -> bool:
    """`places`: theme_places(user) when the caller has them already (not read again)."""
    if not scope_for(user, "requests.view").is_empty:
        return True
    return bool(theme_places(user) if places is None else places)


def get_theme(user, theme_id) -> MonthlyTheme:
    try:
        return themes_for(user).get(pk=theme_id)
    except (MonthlyTheme.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def theme_places(user) -> list[Place]:
    """Places where the user may keep themes: subdistricts and communities under requests.supervise."""
    scope = scope_for(user, "requests.supervise")
    if scope.is_empty:
        return []
    qs = Place.objects.filter(level__in=(Level.SUBDISTRICT, Level.COMMUNITY))
    if not scope.everywhere:
        qs = qs.filter(scope.q())
    return list(qs.order_by("path")[:200])


# --- the home page ---------------------------------------------------------------------------------------
def home_counts_for_user(user) -> dict[str, int] | None:
    """Hotspots of the latest detection run and open proactive tasks in the user's requests.view scope,
    or None for someone who sees no requests."""
    if scope_for(user, "requests.view").is_empty:
        return None
    run = latest_run()
    hotspots = Hotspot.objects.visible_to(user, "requests.view").filter(run=run).count() if run else 0
    tasks = ProactiveTask.objects.visible_to(user, "requests.view").filter(
        state__in=[TaskState.OPEN, TaskState.IN_PROGRESS]
    )
    return {"hotspots": hotspots, "tasks": tasks.count()}
