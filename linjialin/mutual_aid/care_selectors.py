"""The care list (关爱走访): households with a resident who carries a sensitive tag (elderly living alone,
disability, pregnancy … — places.TagType.sensitive) recorded with consent (ResidentTag.consent_source not
empty). A tag without a recorded consent never puts a household on the list.

Who sees it: `mutual_aid.care` over the household (the 楼门长 of its entrance, the 网格员 of its grid,
community staff). A household outside that scope, or not on the list, answers 404 — to a resident of
another entrance as to an entrance leader of another entrance. Pages audit every view of the list and of
a household (services.care.record_care_list_view / record_care_household_view): they show sensitive tags.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Min, Q
from django.http import Http404
from django.utils import timezone, translation

from linjialin.core.scope import Scope, scope_for, under
from linjialin.places.models import Level, Place, ResidentTag, TagType

from .models import CareVisit

CARE = "mutual_aid.care"

# a consented sensitive tag: what puts a household on the care list
CONSENTED = Q(tag__sensitive=True) & ~Q(consent_source="")


def care_scope(user) -> Scope:
    return scope_for(user, CARE)


def may_care(user, path: str) -> bool:
    return care_scope(user).covers(path)


def tag_name(tag: TagType) -> str:
    """The tag's name in the active language."""
    language = translation.get_language() or ""
    return tag.name_zh if language.startswith("zh") or not tag.name_en else tag.name_en


def on_care_list(household: Place) -> bool:
    """True when a resident of `household` has a sensitive tag recorded with consent."""
    if household is None:
        return False
    return ResidentTag.objects.filter(CONSENTED, resident__household_id=household.pk).exists()


def care_household_ids(condition: Q | None = None) -> set[int]:
    """Ids of the households on the care list, optionally only those whose tags match `condition`
    (a Q over ResidentTag.path, e.g. a scope or `under(entrance.path)`)."""
    tags = ResidentTag.objects.filter(CONSENTED)
    if condition is not None:
        tags = tags.filter(condition)
    return set(tags.values_list("resident__household_id", flat=True).distinct())


def care_households_under(paths) -> list[Place]:
    """The care-list households under any of `paths` (entrances, a compound's entrances …), in tree order."""
    paths = list(paths)
    if not paths:
        return []
    condition = Q()
    for p in paths:
        condition |= under(p)
    ids = care_household_ids(condition)
    return list(Place.objects.filter(pk__in=ids, level=Level.HOUSEHOLD).order_by("path"))


@dataclass
class TaggedPerson:
    name: str
    tags: list[str]


@dataclass
class CareRow:
    household: Place
    people: list[TaggedPerson] = field(default_factory=list)
    last_visit: CareVisit | None = None
    next_visit: CareVisit | None = None
    overdue: bool = False

    @property
    def tags(self) -> list[str]:
        """Every consented sensitive tag's name in the household, each once."""
        seen: list[str] = []
        for person in self.people:
            seen += [t for t in person.tags if t not in seen]
        return seen


def _rows(households: list[Place], today: date) -> list[CareRow]:
    ids = [h.pk for h in households]
    rows = {h.pk: CareRow(household=h) for h in households}
    people: dict[tuple[int, int], TaggedPerson] = {}
    tags = (
        ResidentTag.objects.filter(CONSENTED, resident__household_id__in=ids)
        .select_related("tag", "resident")
        .order_by("resident_id", "tag__code")
    )
    for t in tags:
        key = (t.resident.household_id, t.resident_id)
        if key not in people:
            people[key] = TaggedPerson(name=t.resident.name, tags=[])
            rows[t.resident.household_id].people.append(people[key])
        people[key].tags.append(tag_name(t.tag))
    visits = (
        CareVisit.objects.filter(household_id__in=ids).select_related("visitor").order_by("planned_on", "id")
    )
    for v in visits:
        row = rows[v.household_id]
        if v.done_at is None:
            if row.next_visit is None:
                row.next_visit = v
        elif row.last_visit is None or v.done_at > row.last_visit.done_at:
            row.last_visit = v
    for row in rows.values():
        row.overdue = _is_overdue(row.next_visit.planned_on if row.next_visit else None, today)
    return list(rows.values())


def _order(row: CareRow):
    """Overdue first (the longest overdue on top), then those never visited and with nothing planned,
    then by the next planned date, then in tree order."""
    if row.overdue:
        return (0, row.next_visit.planned_on, row.household.path)
    if row.next_visit is None:
        return (1, date.min, row.household.path)
    return (2, row.next_visit.planned_on, row.household.path)


def _is_overdue(planned: date | None, today: date) -> bool:
    """A household is overdue when its next planned visit was due before today (the red rows)."""
    return planned is not None and planned < today


def _households(scope: Scope):
    """The care-list households under `scope`."""
    return Place.objects.filter(scope.q(), pk__in=care_household_ids(scope.q()), level=Level.HOUSEHOLD)


def _next_planned(household_ids) -> dict[int, date]:
    """Each household's earliest visit planned and not made yet."""
    return dict(
        CareVisit.objects.filter(household_id__in=household_ids, done_at__isnull=True)
        .values("household_id")
        .annotate(first=Min("planned_on"))
        .values_list("household_id", "first")
    )


def _overdue_count(next_planned: dict[int, date], today: date) -> int:
    return sum(1 for planned in next_planned.values() if _is_overdue(planned, today))


def overdue_count_for_user(user, *, today: date | None = None) -> int | None:
    """How many care-list households under the user's scope have a visit overdue: the care page's red
    count, which the home page shows on its link to that page. None for those who keep no care list."""
    scope = care_scope(user)
    if scope.is_empty:
        return None
    ids = list(_households(scope).values_list("pk", flat=True))
    return _overdue_count(_next_planned(ids), today or timezone.localdate())


def care_list_for_user(user, *, today: date | None = None) -> list[CareRow]:
    """The care-list households under the user's `mutual_aid.care` scope: each with its tagged residents
    and their consented sensitive tags' names, the last visit, the next planned one and whether it is
    overdue. Overdue first. Nobody else gets anything (an empty list)."""
    scope = care_scope(user)
    if scope.is_empty:
        return []
    today = today or timezone.localdate()
    households = list(_households(scope).select_related("parent"))
    return sorted(_rows(households, today), key=_order)


CARE_PAGE_SIZE = 50
CARE_QUERY_MAX = 50


@dataclass
class CarePage:
    rows: list[CareRow]  # this page's households, in full
    page: object  # django.core.paginator.Page over the ordered household ids
    total: int  # households matching (all pages)
    overdue: int  # of them, with a planned visit overdue


def care_page_for_user(
    user, *, query: str = "", page=1, today: date | None = None, per_page: int = CARE_PAGE_SIZE
) -> CarePage:
    """One page of the care list (care_list_for_user's order: overdue first …), optionally only the
    households whose name (compound, building, unit, room) or a resident's name contains every word of
    `query`. The order is computed from two narrow queries over the ids; the names, tags and visits are
    read only for the page's households — the list stays small whatever the scope."""
    from django.core.paginator import Paginator

    from linjialin.places.models import Resident

    scope = care_scope(user)
    today = today or timezone.localdate()
    if scope.is_empty:
        return CarePage([], Paginator([], per_page).get_page(1), 0, 0)
    households = _households(scope)
    for word in query[:CARE_QUERY_MAX].split()[:5]:
        named = Resident.objects.filter(scope.q(), name__icontains=word).values("household_id")
        households = households.filter(Q(name__icontains=word) | Q(pk__in=named))
    paths = dict(households.values_list("pk", "path"))
    next_planned = _next_planned(list(paths))

    def order(pk):  # the same order as _order, from the ids alone
        planned = next_planned.get(pk)
        if _is_overdue(planned, today):
            return (0, planned, paths[pk])
        if planned is None:
            return (1, date.min, paths[pk])
        return (2, planned, paths[pk])

    ordered = sorted(paths, key=order)
    current = Paginator(ordered, per_page).get_page(page)
    chosen = {h.pk: h for h in Place.objects.filter(pk__in=list(current)).select_related("parent")}
    rows = sorted(_rows([chosen[pk] for pk in current if pk in chosen], today), key=_order)
    overdue = _overdue_count(next_planned, today)
    return CarePage(rows, current, len(ordered), overdue)


def get_care_household_for_user(user, household_id, *, today: date | None = None) -> CareRow:
    """One care-list household as a CareRow, or 404 when missing, outside the user's care scope or not
    on the care list (a tag without consent does not count)."""
    scope = care_scope(user)
    if scope.is_empty:
        raise Http404
    try:
        household = (
            Place.objects.filter(scope.q(), level=Level.HOUSEHOLD)
            .select_related("parent")
            .get(pk=household_id)
        )
    except (Place.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not on_care_list(household):
        raise Http404
    return _rows([household], today or timezone.localdate())[0]


def visits_of(household: Place):
    """Every visit to the household, the newest plan first (for the household page)."""
    return (
        CareVisit.objects.filter(household=household)
        .select_related("visitor", "planned_by")
        .order_by("-planned_on", "-id")
    )


def get_visit_for_user(user, visit_id) -> CareVisit:
    """A visit of a household under the user's care scope, or 404."""
    try:
        return CareVisit.objects.visible_to(user, CARE).select_related("household").get(pk=visit_id)
    except (CareVisit.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def visitors_for(household: Place):
    """Who may be named as the visitor: active users holding `mutual_aid.care` over the household (its
    楼门长, 网格员, community staff)."""
    from linjialin.accounts.selectors import users_holding

    return users_holding(CARE, household.path)
