"""The rates of 接诉即办 (响应率, 解决率, 满意率), the 24-hour sign-off and 7-day completion rates and the
composite score, over a period; per place level and per handling level. Definitions: docs/rates.md.

All limits and weights are data (RequestRules). A rate with nothing to count is None (shown "—"),
never a division by zero. Each rate carries its formula with the numbers filled in, for the page.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Max, Q
from django.db.models.functions import Substr
from django.utils.translation import gettext as _

from linjialin.core.scope import scope_for, under

from .models import HandlingLevel, RequestRules, Satisfaction, ServiceRequest, State

# never counted in any rate: closed without being handled (documented in docs/rates.md)
NOT_COUNTED = (State.WITHDRAWN, State.MERGED, State.NOT_ACCEPTED)
FIELDS = (
    "pk",
    "path",
    "level",
    "state",
    "submitted_at",
    "accept_by",
    "accepted_at",
    "resolved_at",
    "solved",
    "satisfaction",
    "rated_at",
)


@dataclass(frozen=True)
class Rate:
    numerator: Decimal
    denominator: int
    formula: str  # the definition with the numbers filled in

    @property
    def value(self) -> Decimal | None:
        """numerator ÷ denominator in [0, 1], or None when nothing is due."""
        if not self.denominator:
            return None
        return Decimal(self.numerator) / Decimal(self.denominator)

    @property
    def percent(self) -> str:
        """ "87.5%", or "—" when nothing is due."""
        return _percent(self.value)


@dataclass(frozen=True)
class Score:
    value: Decimal | None  # 0–100, or None when no rate has anything to count
    formula: str

    @property
    def text(self) -> str:
        return "—" if self.value is None else f"{self.value.quantize(Decimal('0.1'))}"


@dataclass(frozen=True)
class Rates:
    response: Rate
    resolution: Rate
    satisfaction: Rate
    signoff: Rate
    completion: Rate
    score: Score


def _percent(value: Decimal | None) -> str:
    if value is None:
        return "—"
    return f"{(value * 100).quantize(Decimal('0.1'))}%"


def _in(at: datetime | None, start: datetime, end: datetime) -> bool:
    return at is not None and start <= at < end


def annotated(queryset, *extra: str):
    """The request rows the rates read: the fields above plus `rated_at`, the time of the last rating."""
    return queryset.annotate(rated_at=Max("events__at", filter=Q(events__kind="call_back"))).values(
        *FIELDS, *extra
    )


def relevant(queryset, start: datetime, end: datetime, *extra: str):
    """Only rows that can count in [start, end): due, accepted, submitted or rated in the period."""
    return annotated(queryset, *extra).filter(
        Q(accept_by__gte=start, accept_by__lt=end)
        | Q(accepted_at__gte=start, accepted_at__lt=end)
        | Q(submitted_at__gte=start, submitted_at__lt=end)
        | Q(rated_at__gte=start, rated_at__lt=end)
    )


def rates(requests_queryset, *, period_start: datetime, period_end: datetime, rules: RequestRules) -> Rates:
    """The rates of the requests in `requests_queryset` over [period_start, period_end)."""
    rows = relevant(requests_queryset, period_start, period_end)
    return rates_of_rows(list(rows), period_start, period_end, rules)


def rates_of_rows(rows, start: datetime, end: datetime, rules: RequestRules) -> Rates:
    counted = [r for r in rows if r["state"] not in NOT_COUNTED]

    # 响应率: due for acceptance in the period (its acceptance deadline falls in it, or it was accepted
    # in it); on time when accepted no later than the deadline in force.
    due = [r for r in counted if _in(r["accept_by"], start, end) or _in(r["accepted_at"], start, end)]
    on_time = sum(
        1
        for r in due
        if r["accepted_at"] is not None and r["accept_by"] and r["accepted_at"] <= r["accept_by"]
    )
    response = Rate(
        Decimal(on_time),
        len(due),
        _("accepted in time %(n)d ÷ due for acceptance %(d)d") % {"n": on_time, "d": len(due)},
    )

    # 解决率 and 满意率: among the requests whose last rating (call-back) falls in the period
    rated = [r for r in counted if _in(r["rated_at"], start, end) and r["satisfaction"]]
    solved = sum(1 for r in rated if r["solved"])
    resolution = Rate(
        Decimal(solved), len(rated), _("solved %(n)d ÷ called back %(d)d") % {"n": solved, "d": len(rated)}
    )
    weight = Decimal(rules.basic_satisfaction_weight)
    satisfied = sum(1 for r in rated if r["satisfaction"] == Satisfaction.SATISFIED)
    basically = sum(1 for r in rated if r["satisfaction"] == Satisfaction.BASICALLY)
    satisfaction = Rate(
        satisfied + basically * weight,
        len(rated),
        _("(satisfied %(s)d + basically satisfied %(b)d × %(w)s) ÷ rated %(d)d")
        % {"s": satisfied, "b": basically, "w": weight, "d": len(rated)},
    )

    # quick service: among the requests submitted in the period
    submitted = [r for r in counted if _in(r["submitted_at"], start, end)]
    window = timedelta(hours=rules.signoff_hours)
    signed = sum(
        1
        for r in submitted
        if r["accepted_at"] is not None and r["accepted_at"] - r["submitted_at"] <= window
    )
    signoff = Rate(
        Decimal(signed),
        len(submitted),
        _("accepted within %(h)d h %(n)d ÷ submitted %(d)d")
        % {"h": rules.signoff_hours, "n": signed, "d": len(submitted)},
    )
    days = timedelta(days=rules.completion_days)
    done = sum(
        1 for r in submitted if r["resolved_at"] is not None and r["resolved_at"] - r["submitted_at"] <= days
    )
    completion = Rate(
        Decimal(done),
        len(submitted),
        _("resolved within %(days)d calendar days %(n)d ÷ submitted %(d)d")
        % {"days": rules.completion_days, "n": done, "d": len(submitted)},
    )
    return Rates(
        response,
        resolution,
        satisfaction,
        signoff,
        completion,
        composite(response, resolution, satisfaction, rules),
    )


def composite(response: Rate, resolution: Rate, satisfaction: Rate, rules: RequestRules) -> Score:
    """Weighted sum (0–100) of the three rates; a rate with nothing due drops out and the remaining
    weights are scaled up to the same total (so an idle month is not scored 0)."""
    parts = [
        (response, rules.response_weight),
        (resolution, rules.resolution_weight),
        (satisfaction, rules.satisfaction_weight),
    ]
    present = [(rate.value, w) for rate, w in parts if rate.value is not None and w]
    total_weight = sum(w for _value, w in present)
    terms = " + ".join(f"{_percent(rate.value)} × {w}" for rate, w in parts)
    if not total_weight:
        return Score(None, terms)
    value = sum(v * w for v, w in present) * 100 / total_weight
    return Score(value, f"({terms}) ÷ {total_weight}")


# --- grouped -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PlaceRates:
    place: object  # places.models.Place
    rates: Rates


def rates_by_prefix(queryset, width: int, start, end, rules: RequestRules) -> dict[str, Rates]:
    """Rates per place-path prefix of `width` characters (one level of the tree, like
    places.selectors.children_with_counts): one query, grouped here."""
    groups: dict[str, list] = defaultdict(list)
    for row in relevant(queryset.annotate(prefix=Substr("path", 1, width)), start, end, "prefix"):
        groups[row["prefix"]].append(row)
    return {prefix: rates_of_rows(rows, start, end, rules) for prefix, rows in groups.items()}


def rates_by_level(queryset, start, end, rules: RequestRules) -> dict[int, Rates]:
    """Rates per current handling level (楼门 … 街道, department)."""
    groups: dict[int, list] = {level: [] for level in HandlingLevel.values}
    for row in relevant(queryset, start, end):
        groups[row["level"]].append(row)
    return {level: rates_of_rows(rows, start, end, rules) for level, rows in groups.items()}


def visible_requests(user):
    """The requests the user may count: the requests.view scope (the rates are a staff view)."""
    return ServiceRequest.objects.visible_to(user, "requests.view")


def rates_by_place(user, place, period: tuple[datetime, datetime]) -> tuple[Rates, list[PlaceRates]]:
    """The rates at `place` and for each of its children the user's requests.view scope reaches,
    counting only the requests the user may see."""
    from linjialin.places.models import Place

    from .services import rules as current_rules

    start, end = period
    rules = current_rules()
    scope = scope_for(user, "requests.view")
    queryset = visible_requests(user).filter(under(place.path))
    total = rates(queryset, period_start=start, period_end=end, rules=rules)
    children = [
        child
        for child in Place.objects.filter(parent=place).order_by("path")
        if scope.covers(child.path) or any(p.startswith(child.path) for p in scope.prefixes)
    ]
    if not children:
        return total, []
    by_prefix = rates_by_prefix(queryset, len(children[0].path), start, end, rules)
    empty = rates_of_rows([], start, end, rules)
    return total, [PlaceRates(child, by_prefix.get(child.path, empty)) for child in children]
