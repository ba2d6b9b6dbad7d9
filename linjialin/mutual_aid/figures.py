"""Mutual aid figures (issue 6 §7) per entrance and community and period: counts only, never a name. They
will feed the mobilisation rate.

Every figure counts the posts **posted in the period** [start, end) (local dates) under the place, and
what became of them as of now (a cohort: a need posted on the last day and answered the day after counts
its answer):

- posts, needs, offers: posts posted (needs 求助, offers 可提供), hidden ones included.
- chains: posts passed on (an offer of leftovers linked to an earlier post: parent set).
- responded: needs that got at least one "我能帮" (first_response_at set).
- median_response_minutes: the median of (first response − posting) over those needs, in minutes;
  None ("—") when no need was answered.
- done, expired, withdrawn: needs that ended so; fulfilled_rate = done ÷ (done + expired + withdrawn),
  the needs that ended (still open, matched or hidden needs are not counted); None when none ended.
- helpers: distinct people chosen to help (the pick) on the period's needs; responders: distinct people
  who offered help on them (withdrawn offers not counted). A person helping in two entrances counts once
  in the total: the total's distinct counts are computed over the whole place, not summed.

`compute(place, start, end)` answers one place. `rows(place, start, end)` breaks the place down: a
subdistrict into its communities, a community (or anything below) into its entrances — a row for every
child, with zeros where nothing happened — and the total. Four queries whatever the number of rows (the
grouped counts, the response times, the distinct people grouped and in total).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time

from django.db.models import Count, F, Q

from linjialin.core.calendar import local_tz
from linjialin.core.scope import under
from linjialin.places.models import Level, Place

from .models import Kind, Post, PostState, Response, ResponseState

COUNTS = (
    "posts",
    "needs",
    "offers",
    "chains",
    "responded",
    "done",
    "expired",
    "withdrawn",
    "helpers",
    "responders",
)
DERIVED = ("median_response_minutes", "fulfilled_rate")


def _aware(d: date) -> datetime:
    return datetime.combine(d, time.min, tzinfo=local_tz())


def fulfilled_rate(done: int, expired: int, withdrawn: int) -> float | None:
    ended = done + expired + withdrawn
    return done / ended if ended else None


def median_minutes(seconds: list[float]) -> float | None:
    return round(statistics.median(seconds) / 60, 1) if seconds else None


@dataclass
class Row:
    place: Place | None  # None for the total
    label: str
    figures: dict


def _cohort(place: Place, start: date, end: date):
    return Post.objects.filter(under(place.path), created_at__gte=_aware(start), created_at__lt=_aware(end))


def _figures(
    raw: dict | None, waits: list[float] | None = None, people: dict | None = None
) -> dict[str, int | float | None]:
    out: dict = {k: int((raw or {}).get(k) or 0) for k in COUNTS}
    for k in ("helpers", "responders"):
        out[k] = int((people or {}).get(k) or 0)
    out["median_response_minutes"] = median_minutes(waits or [])
    out["fulfilled_rate"] = fulfilled_rate(out["done"], out["expired"], out["withdrawn"])
    return out


_need = Q(kind=Kind.NEED)
AGGREGATES = {
    "posts": Count("pk"),
    "needs": Count("pk", filter=_need),
    "offers": Count("pk", filter=Q(kind=Kind.OFFER)),
    "chains": Count("pk", filter=Q(parent__isnull=False)),
    "responded": Count("pk", filter=_need & Q(first_response_at__isnull=False)),
    "done": Count("pk", filter=_need & Q(state=PostState.DONE)),
    "expired": Count("pk", filter=_need & Q(state=PostState.EXPIRED)),
    "withdrawn": Count("pk", filter=_need & Q(state=PostState.WITHDRAWN)),
}
PEOPLE = {
    "helpers": Count("helper", distinct=True, filter=Q(state=ResponseState.CHOSEN)),
    "responders": Count("helper", distinct=True, filter=~Q(state=ResponseState.WITHDRAWN)),
}


def compute(place: Place, start: date, end: date) -> dict:
    """The figures (module docstring) for the place and everything below it, posts posted in [start, end)."""
    return rows(place, start, end, breakdown=False)[1].figures


def rows(place: Place, start: date, end: date, *, breakdown: bool = True) -> tuple[list[Row], Row]:
    """A row per community (place is a subdistrict) or per entrance (a community, grid or entrance), and
    the place's total."""
    cohort = _cohort(place, start, end)
    children: list[Place] = []
    key = None
    if breakdown:
        if place.level == Level.SUBDISTRICT:
            children = list(Place.objects.filter(parent=place, level=Level.COMMUNITY).order_by("path"))
            key = "community_id"
        else:
            children = list(Place.objects.filter(under(place.path), level=Level.ENTRANCE).order_by("path"))
            key = "entrance_id"

    counts = defaultdict(dict)
    totals: dict = defaultdict(int)
    grouped = (
        cohort.values(key).annotate(**AGGREGATES).order_by() if key else [cohort.aggregate(**AGGREGATES)]
    )
    for r in grouped:
        for name in AGGREGATES:
            totals[name] += r[name] or 0
        if key:
            counts[r[key]] = r

    waits: dict = defaultdict(list)
    all_waits: list[float] = []
    answered = cohort.filter(_need, first_response_at__isnull=False).values_list(
        key or "pk", "created_at", "first_response_at"
    )
    for k, created, first in answered:
        seconds = max(0.0, (first - created).total_seconds())
        waits[k].append(seconds)
        all_waits.append(seconds)

    responses = Response.objects.filter(post__in=cohort.filter(_need).values("pk"))
    people: dict = {}
    if key:
        for r in responses.values(k=F(f"post__{key}")).annotate(**PEOPLE).order_by():
            people[r["k"]] = r
    total_people = responses.aggregate(**PEOPLE)

    out = [Row(c, c.name, _figures(counts.get(c.pk), waits.get(c.pk), people.get(c.pk))) for c in children]
    return out, Row(None, place.name, _figures(totals, all_waits, total_people))


def rate_text(value: float | None) -> str:
    """A rate as 87.5%, or — when it has no denominator."""
    return "—" if value is None else f"{value * 100:.1f}%"
