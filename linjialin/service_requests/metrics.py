"""The rates of 接诉即办 (响应率, 解决率, 满意率), the 24-hour sign-off and 7-day completion rates and the
composite score, over a period; per place level and per handling level. Definitions: docs/rates.md.

响应率 is read from windows, not from requests: each holder's acceptance window (RequestHolding, so a
window that passed is charged to the level or unit that held it, even after the request moved on) and
each called unit's 报到 and report-back windows (RequestAssist: 双考核 of the units summoned by 吹哨).

All limits and weights are data (RequestRules). A rate with nothing to count is None (shown "—"),
never a division by zero. Each rate carries its formula with the numbers filled in, for the page.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Exists, F, Max, OuterRef, Q, Value
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from linjialin.core.scope import scope_for, under

from .models import (
    OPEN_STATES,
    CoRequester,
    HandlingLevel,
    HandlingUnit,
    RequestAssist,
    RequestHolding,
    RequestRules,
    Satisfaction,
    ServiceRequest,
    State,
)

# never counted in any rate: closed without being handled (documented in docs/rates.md)
NOT_COUNTED = (State.WITHDRAWN, State.MERGED, State.NOT_ACCEPTED)
FIELDS = (
    "pk",
    "path",
    "level",
    "unit_id",
    "state",
    "submitted_at",
    "accept_by",
    "accepted_at",
    "contact_by",
    "contacted_at",
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
    pending: int = 0  # in progress: would count here, but the rate's window has not closed yet

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

    @property
    def numerator_text(self) -> str:
        """2 → "2", 2.60 → "2.6" (the satisfaction numerator is weighted)."""
        return f"{Decimal(self.numerator).normalize():f}" if self.numerator else "0"


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
    contact: Rate  # first contact with the requester by its deadline
    completion: Rate
    score: Score
    checkin: Rate | None = None  # 报到 in time (the units called to a request); part of 响应率
    report_back: Rate | None = None  # reported back in time; part of 响应率

    @property
    def cells(self) -> list[Rate]:
        """The rates in the order of the table (RATE_KEYS)."""
        return [getattr(self, key) for key in RATE_KEYS]

    @property
    def assist_cells(self) -> list[Rate]:
        """The called units' 报到 and report-back parts of 响应率 (ASSIST_KEYS)."""
        return [getattr(self, key) for key in ASSIST_KEYS]

    @property
    def called(self) -> bool:
        """Whether any unit was called (吹哨, co-handling) with a window in the period."""
        return any(r is not None and (r.denominator or r.pending) for r in self.assist_cells)


def _percent(value: Decimal | None) -> str:
    if value is None:
        return "—"
    return f"{(value * 100).quantize(Decimal('0.1'))}%"


def _in(at: datetime | None, start: datetime, end: datetime) -> bool:
    return at is not None and start <= at < end


def annotated(queryset, *extra: str):
    """The request rows the rates read: the fields above plus `rated_at`, the time of the last rating,
    and `held`, whether it has holding rows (one without counts as one window of its current holder)."""
    return queryset.annotate(
        rated_at=Max("events__at", filter=Q(events__kind="call_back")),
        held=Exists(RequestHolding.objects.filter(request=OuterRef("pk"))),
    ).values(*FIELDS, "held", *extra)


def relevant(queryset, start: datetime, end: datetime, *extra: str) -> list[dict]:
    """Only rows that can count in [start, end): due (for acceptance or contact), accepted, submitted or
    rated in the period (by the
    requester or a co-requester); then one "voice" row per co-requester rating in the period, a copy of
    its request's row with the co-requester's answer (docs/rates.md: satisfaction is per voice)."""
    co_rated = CoRequester.objects.filter(rated_at__gte=start, rated_at__lt=end)
    rows = list(
        annotated(queryset, *extra).filter(
            Q(accept_by__gte=start, accept_by__lt=end)
            | Q(accepted_at__gte=start, accepted_at__lt=end)
            | Q(contact_by__gte=start, contact_by__lt=end)
            | Q(submitted_at__gte=start, submitted_at__lt=end)
            | Q(rated_at__gte=start, rated_at__lt=end)
            | Q(pk__in=co_rated.values("request_id"))
        )
    )
    by_pk = {row["pk"]: row for row in rows}
    voices = co_rated.filter(request__in=queryset.values("pk")).exclude(satisfaction="")
    for request_id, solved, satisfaction, rated_at in voices.values_list(
        "request_id", "solved", "satisfaction", "rated_at"
    ):
        if request_id in by_pk:
            voice = {
                **by_pk[request_id],
                "solved": solved,
                "satisfaction": satisfaction,
                "rated_at": rated_at,
            }
            rows.append({**voice, "voice": True})
    return rows


def rates(
    requests_queryset,
    *,
    period_start: datetime,
    period_end: datetime,
    rules: RequestRules,
    now: datetime | None = None,
) -> Rates:
    """The rates of the requests in `requests_queryset` over [period_start, period_end), as known at
    `now` (default: the present)."""
    now = now or timezone.now()
    rows = relevant(requests_queryset, period_start, period_end)
    found = windows(requests_queryset, period_start, period_end, rows, now=now)
    return rates_of_rows(list(rows), period_start, period_end, rules, now=now, windows=found)


# --- windows: what 响应率 counts ------------------------------------------------------------------
ACCEPT, CHECK_IN, REPORT = "accept", "check_in", "report"


def _window(kind, level, unit_id, prefix, due, done, gone, now) -> dict:
    """One window of one holder or called unit, tallied at `now`: `due` its deadline, `done` when it was
    met (accepted, 报到, reported back) or None, `gone` when the holder let go of the request (or the
    request left the open states) without doing it. It is charged to its holder unless it was let go
    before the deadline (passed on in time: neither a hit nor a miss); a charged window is closed once
    its deadline has passed (then met or missed), else in progress."""
    charged = done is not None or gone is None or gone > due
    closed = charged and due <= now
    return {"kind": kind, "level": level, "unit_id": unit_id, "prefix": prefix,
            "met": int(closed and done is not None and done <= due), "closed": int(closed),
            "pending": int(charged and due > now)}  # fmt: skip


def windows(
    queryset,
    start: datetime,
    end: datetime,
    rows: list[dict],
    width: int | None = None,
    now: datetime | None = None,
) -> list[dict]:
    """The windows whose deadline falls in [start, end) of the requests in `queryset`, tallied at `now`
    per (kind, level, unit, path prefix of `width`) as met / closed / in progress: the holdings'
    acceptance windows and the called units' 报到 and report-back windows (one query: a UNION ALL of
    three aggregates, the same rule as _window in SQL), and for a request without holding rows
    (written outside the services) its current window, from `rows` (relevant())."""
    now = now or timezone.now()
    pks = queryset.values("pk")
    no_prefix = Value("")

    def branch(model, kind, level, due, done, charged, path):
        closed = charged & Q(**{f"{due}__lte": now})
        return (
            model.objects.filter(request__in=pks, **{f"{due}__gte": start, f"{due}__lt": end})
            .exclude(request__state__in=NOT_COUNTED)
            .annotate(
                w_kind=Value(kind),
                w_level=level,
                w_unit=F("unit_id"),
                w_prefix=Substr(path, 1, width) if width else no_prefix,
            )
            .order_by()
            .values("w_kind", "w_level", "w_unit", "w_prefix")
            .annotate(
                w_met=Count("pk", filter=closed & Q(**{f"{done}__lte": F(due)})),
                w_closed=Count("pk", filter=closed),
                w_pending=Count("pk", filter=charged & Q(**{f"{due}__gt": now})),
            )
            .values_list("w_kind", "w_level", "w_unit", "w_prefix", "w_met", "w_closed", "w_pending")
        )

    def assist_charged(due, done):
        # a called unit can act only while the request is open: resolved or closed first, it was let go
        return Q(**{f"{done}__isnull": False}) | (
            (Q(request__resolved_at__isnull=True) | Q(request__resolved_at__gt=F(due)))
            & (Q(request__closed_at__isnull=True) | Q(request__closed_at__gt=F(due)))
        )

    held = Q(accepted_at__isnull=False) | Q(ended_at__isnull=True) | Q(ended_at__gt=F("accept_by"))
    department = Value(int(HandlingLevel.DEPARTMENT))
    union = (
        branch(RequestHolding, ACCEPT, F("level"), "accept_by", "accepted_at", held, "path")
        .union(
            branch(RequestAssist, CHECK_IN, department, "check_in_by", "checked_in_at",
                   assist_charged("check_in_by", "checked_in_at"), "request__path"),
            branch(RequestAssist, REPORT, department, "report_by", "reported_at",
                   assist_charged("report_by", "reported_at"), "request__path"),
            all=True,
        )
        .order_by()
    )  # fmt: skip
    found = [
        {"kind": kind, "level": level, "unit_id": unit, "prefix": prefix if width else None,
         "met": met, "closed": closed, "pending": pending}
        for kind, level, unit, prefix, met, closed, pending in union
    ]  # fmt: skip
    for row in rows:
        if (
            not row["held"]
            and not row.get("voice")
            and row["state"] not in NOT_COUNTED
            and _in(row["accept_by"], start, end)
        ):
            found.append(
                _window(
                    ACCEPT,
                    row["level"],
                    row["unit_id"],
                    row.get("prefix"),
                    row["accept_by"],
                    row["accepted_at"],
                    None,
                    now,
                )
            )
    return found


def _window_rates(found: list[dict]) -> tuple[Rate, Rate, Rate]:
    """响应率 over all the windows, and the 报到 and report-back parts of it on their own. A window counts
    once its deadline has passed (also when met early: every window is judged at the same horizon)."""
    counts = {kind: [0, 0, 0] for kind in (ACCEPT, CHECK_IN, REPORT)}  # met, closed, pending
    for w in found:
        c = counts[w["kind"]]
        c[0] += w["met"]
        c[1] += w["closed"]
        c[2] += w["pending"]
    met, closed, pending = (sum(c[i] for c in counts.values()) for i in range(3))
    (a, _a_d, _p), (c, c_d, c_p), (r, r_d, r_p) = counts[ACCEPT], counts[CHECK_IN], counts[REPORT]
    if c_d + c_p + r_d + r_p:
        formula = _(
            "accepted in time %(a)d + reported for duty in time %(c)d + reported back in time %(r)d ÷ "
            "windows closed %(d)d"
        ) % {"a": a, "c": c, "r": r, "d": closed}
    else:
        formula = _("accepted in time %(n)d ÷ due for acceptance %(d)d") % {"n": a, "d": closed}
    response = Rate(Decimal(met), closed, formula, pending)
    checkin = Rate(
        Decimal(c), c_d, _("reported for duty in time %(n)d ÷ due %(d)d") % {"n": c, "d": c_d}, c_p
    )
    report = Rate(Decimal(r), r_d, _("reported back in time %(n)d ÷ due %(d)d") % {"n": r, "d": r_d}, r_p)
    return response, checkin, report


# states in which a request may still be rated: the resolution and satisfaction rates wait for it
AWAITING_RATING = (*OPEN_STATES, State.RESOLVED)


def rates_of_rows(
    rows,
    start: datetime,
    end: datetime,
    rules: RequestRules,
    now: datetime | None = None,
    windows: list[dict] | None = None,
) -> Rates:
    """A request counts in a rate only once that rate's window has closed (docs/rates.md): before, it is
    "in progress" (`Rate.pending`), neither a hit nor a miss — so a request minutes old is no miss.
    响应率 reads `windows` (metrics.windows); without them, each request's current acceptance window."""
    now = now or timezone.now()
    counted_voices = [r for r in rows if r["state"] not in NOT_COUNTED]
    # a work order counts once in every rate; a co-requester's rating ("voice" rows) only in 满意率
    counted = [r for r in counted_voices if not r.get("voice")]
    voices = [
        r for r in counted_voices if r.get("voice") and _in(r["rated_at"], start, end) and r["satisfaction"]
    ]

    # 响应率: the windows whose deadline falls in the period, each charged to its holder
    if windows is None:
        windows = [
            _window(ACCEPT, r["level"], r.get("unit_id"), None, r["accept_by"], r["accepted_at"], None, now)
            for r in counted
            if _in(r["accept_by"], start, end)
        ]
    response, checkin, report_back = _window_rates(windows)

    # 解决率 and 满意率: among the requests whose last rating (call-back) falls in the period
    rated = [r for r in counted if _in(r["rated_at"], start, end) and r["satisfaction"]]
    solved = sum(1 for r in rated if r["solved"])
    # in progress: submitted in the period and not rated yet, while a rating may still come
    unrated = sum(
        1
        for r in counted
        if _in(r["submitted_at"], start, end) and r["rated_at"] is None and r["state"] in AWAITING_RATING
    )
    resolution = Rate(
        Decimal(solved),
        len(rated),
        _("solved %(n)d ÷ called back %(d)d") % {"n": solved, "d": len(rated)},
        unrated,
    )
    # 满意率 per voice: the work orders' ratings and each co-requester's own rating in the period
    weight = Decimal(rules.basic_satisfaction_weight)
    answers = rated + voices
    satisfied = sum(1 for r in answers if r["satisfaction"] == Satisfaction.SATISFIED)
    basically = sum(1 for r in answers if r["satisfaction"] == Satisfaction.BASICALLY)
    satisfaction = Rate(
        satisfied + basically * weight,
        len(answers),
        _("(satisfied %(s)d + basically satisfied %(b)d × %(w)s) ÷ rated %(d)d")
        % {"s": satisfied, "b": basically, "w": weight, "d": len(answers)},
        unrated,
    )

    # quick service: among the requests submitted in the period whose window (24 h, 7 days) has closed
    submitted = [r for r in counted if _in(r["submitted_at"], start, end)]
    window = timedelta(hours=rules.signoff_hours)
    sign_closed = [r for r in submitted if r["submitted_at"] + window <= now]
    signed = sum(
        1
        for r in sign_closed
        if r["accepted_at"] is not None and r["accepted_at"] - r["submitted_at"] <= window
    )
    signoff = Rate(
        Decimal(signed),
        len(sign_closed),
        _("accepted within %(h)d h %(n)d ÷ submitted %(d)d")
        % {"h": rules.signoff_hours, "n": signed, "d": len(sign_closed)},
        len(submitted) - len(sign_closed),
    )
    # first contact: the requests whose contact deadline fell in the period and has passed
    contact_due = [r for r in counted if _in(r["contact_by"], start, end)]
    contact_closed = [r for r in contact_due if r["contact_by"] <= now]
    reached = sum(
        1 for r in contact_closed if r["contacted_at"] is not None and r["contacted_at"] <= r["contact_by"]
    )
    contact = Rate(
        Decimal(reached),
        len(contact_closed),
        _("contacted in time %(n)d ÷ due for contact %(d)d") % {"n": reached, "d": len(contact_closed)},
        len(contact_due) - len(contact_closed),
    )
    days = timedelta(days=rules.completion_days)
    done_closed = [r for r in submitted if r["submitted_at"] + days <= now]
    done = sum(
        1
        for r in done_closed
        if r["resolved_at"] is not None and r["resolved_at"] - r["submitted_at"] <= days
    )
    completion = Rate(
        Decimal(done),
        len(done_closed),
        _("resolved within %(days)d calendar days %(n)d ÷ submitted %(d)d")
        % {"days": rules.completion_days, "n": done, "d": len(done_closed)},
        len(submitted) - len(done_closed),
    )
    return Rates(
        response,
        resolution,
        satisfaction,
        signoff,
        contact,
        completion,
        composite(response, resolution, satisfaction, rules),
        checkin,
        report_back,
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


def rates_by_level(queryset, start, end, rules: RequestRules) -> dict[int, Rates]:
    """Rates per handling level (楼门 … 街道, department): 响应率 per level that held the window, the
    others per current level."""
    groups: dict[int, list] = {level: [] for level in HandlingLevel.values}
    held: dict[int, list] = {level: [] for level in HandlingLevel.values}
    rows = relevant(queryset, start, end)
    for row in rows:
        groups[row["level"]].append(row)
    now = timezone.now()
    for w in windows(queryset, start, end, rows, now=now):
        held[w["level"]].append(w)
    return {
        level: rates_of_rows(group, start, end, rules, now=now, windows=held[level])
        for level, group in groups.items()
    }


def visible_requests(user):
    """The requests the user may count: the requests.view scope (the rates are a staff view)."""
    return ServiceRequest.objects.visible_to(user, "requests.view")


def rates_by_place(user, place, period: tuple[datetime, datetime]) -> tuple[Rates, list[PlaceRates]]:
    """The rates at `place` and for each of its children the user's requests.view scope reaches
    (down to the 楼门), counting only the requests the user may see (the same numbers as rates_table)."""
    table = rates_table(user, place, period)
    return table.total, [PlaceRates(row.place, row.rates) for row in table.places]


# --- the rates page (rates_views.py): one fetch, every grouping -----------------------------------
PERIODS = ("this_month", "last_month", "this_quarter", "custom")


def period_days(
    kind: str, today: date, first: date | None = None, last: date | None = None
) -> tuple[date, date]:
    """The calendar days [first, last] (inclusive) of a named period; a period that has not ended
    stops at today, like the API. A custom period given backwards is the same period."""
    if kind == "last_month":
        end = today.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    if kind == "this_quarter":
        return today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1), today
    if kind == "custom":
        if first is None or last is None:
            raise ValueError("a custom period needs both days")
        return min(first, last), max(first, last)
    return today.replace(day=1), today


def period_instants(first: date, last: date) -> tuple[datetime, datetime]:
    """[first 00:00, the day after last 00:00) in the current time zone (Beijing time)."""
    tz = timezone.get_current_timezone()
    return (
        datetime.combine(first, time.min, tzinfo=tz),
        datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz),
    )


@dataclass(frozen=True)
class TableRow:
    label: str
    rates: Rates
    place: object | None = None  # places.models.Place for the per-place rows
    level: int | None = None  # HandlingLevel for the per-level rows
    unit: object | None = None  # HandlingUnit for the per-unit rows
    drill: bool = False  # the place has children worth a table of their own


@dataclass(frozen=True)
class RatesTable:
    place: object
    start: datetime
    end: datetime
    rules: RequestRules
    total: Rates
    places: list[TableRow]
    levels: list[TableRow]
    units: list[TableRow]

    @property
    def keys(self) -> tuple[str, ...]:
        """The rate columns: the five, and the called units' two when any unit was called."""
        return RATE_KEYS + ASSIST_KEYS if self.total.called else RATE_KEYS


def rates_table(user, place, period: tuple[datetime, datetime]) -> RatesTable:
    """The rates at `place` over [start, end), per visible child place (down to the 楼门: households
    are never a row), per current handling level and per owning handling unit; counting only the
    requests the user's requests.view scope reaches. A fixed number of queries, whatever the number of
    children: the request rows are fetched once and grouped here."""
    from linjialin.places.models import Level, Place

    from .services import rules as current_rules

    start, end = period
    rules = current_rules()
    scope = scope_for(user, "requests.view")
    children = []
    if place.level < Level.ENTRANCE:
        children = [
            child
            for child in Place.objects.filter(parent=place).order_by("path")
            if scope.covers(child.path) or any(p.startswith(child.path) for p in scope.prefixes)
        ]
    width = len(children[0].path) if children else len(place.path)
    queryset = visible_requests(user).filter(under(place.path)).annotate(prefix=Substr("path", 1, width))
    now = timezone.now()  # one instant for every row of the table
    rows = list(relevant(queryset, start, end, "prefix"))
    found = windows(queryset, start, end, rows, width=width, now=now)
    by_prefix: dict[str, list] = defaultdict(list)
    by_level: dict[int, list] = defaultdict(list)
    by_unit: dict[int, list] = defaultdict(list)
    for row in rows:
        by_prefix[row["prefix"]].append(row)
        by_level[row["level"]].append(row)
        if row["unit_id"]:
            by_unit[row["unit_id"]].append(row)
    w_prefix: dict[str, list] = defaultdict(list)
    w_level: dict[int, list] = defaultdict(list)
    w_unit: dict[int, list] = defaultdict(list)
    for w in found:
        w_prefix[w["prefix"]].append(w)
        w_level[w["level"]].append(w)
        if w["unit_id"]:
            w_unit[w["unit_id"]].append(w)

    def of(group, held):
        return rates_of_rows(group, start, end, rules, now=now, windows=held)

    places = [
        TableRow(
            child.name,
            of(by_prefix.get(child.path, []), w_prefix.get(child.path, [])),
            place=child,
            drill=child.level < Level.ENTRANCE,
        )
        for child in children
    ]
    levels = [
        TableRow(str(label), of(by_level.get(value, []), w_level.get(value, [])), level=value)
        for value, label in sorted(HandlingLevel.choices, key=lambda c: -c[0])
    ]
    units = [
        TableRow(str(unit), of(by_unit.get(unit.pk, []), w_unit.get(unit.pk, [])), unit=unit)
        for unit in _units({*by_unit, *w_unit})
    ]
    return RatesTable(place, start, end, rules, of(rows, found), places, levels, units)


def _units(ids: set[int]) -> list[HandlingUnit]:
    return list(HandlingUnit.objects.filter(pk__in=ids).order_by("kind", "code")) if ids else []


# --- what the page and the exports say about the numbers --------------------------------------------
RATE_KEYS = ("response", "resolution", "satisfaction", "signoff", "contact", "completion")
# the parts of 响应率 that are the called units' (吹哨, co-handling): own columns when any unit was called
ASSIST_KEYS = ("checkin", "report_back")


def rate_names(rules: RequestRules) -> dict[str, str]:
    return {
        "response": _("Response rate (响应率)"),
        "resolution": _("Resolution rate (解决率)"),
        "satisfaction": _("Satisfaction rate (满意率)"),
        "signoff": _("%(h)d-hour sign-off rate") % {"h": rules.signoff_hours},
        "contact": _("First contact in time"),
        "completion": _("%(d)d-day completion rate") % {"d": rules.completion_days},
        "checkin": _("Reported for duty in time (报到)"),
        "report_back": _("Reported back in time (反馈)"),
    }


def definitions(rules: RequestRules) -> list[tuple[str, str]]:
    """(name, formula) for each rate and the score, with the configured windows and weights."""
    names = rate_names(rules)
    formulas = {
        "response": _(
            "windows met ÷ windows closed in the period: each holder's acceptance window (charged to the "
            "level or unit that held the request, also after it moved on), and the 报到 and report-back "
            "windows of the units called to a request (吹哨, co-handling)"
        ),
        "resolution": _("rated “solved” ÷ requests whose latest call-back (rating) falls in the period"),
        "satisfaction": _(
            "(satisfied + basically satisfied × %(w)s) ÷ the ratings in the period: the rated requests "
            "and each co-requester's own rating (unsatisfied counts 0)"
        )
        % {"w": rules.basic_satisfaction_weight},
        "signoff": _("accepted within %(h)d clock hours of submission ÷ requests submitted in the period")
        % {"h": rules.signoff_hours},
        "contact": _(
            "requests whose requester was first contacted by the first-contact deadline ÷ requests whose "
            "first-contact deadline passed in the period"
        ),
        "completion": _(
            "resolved within %(d)d calendar days of submission ÷ requests submitted in the period"
        )
        % {"d": rules.completion_days},
        "checkin": _(
            "called units that reported for duty within %(w)d minutes (吹哨) or %(h)d hours (co-handling) ÷ "
            "calls whose 报到 window closed in the period; part of the response rate"
        )
        % {"w": rules.whistle_checkin_minutes, "h": rules.co_handle_checkin_hours},
        "report_back": _(
            "called units that reported back by the request's resolution deadline ÷ those whose deadline "
            "closed in the period; part of the response rate"
        ),
    }
    rows = [(names[key], formulas[key]) for key in RATE_KEYS + ASSIST_KEYS]
    rows.append(
        (
            _("Score"),
            _(
                "(response rate × %(a)d + resolution rate × %(b)d + satisfaction rate × %(c)d) × 100 ÷ the "
                "sum of the weights used; a rate with nothing to count drops out"
            )
            % {"a": rules.response_weight, "b": rules.resolution_weight, "c": rules.satisfaction_weight},
        )
    )
    rows.append(("", _("Withdrawn, merged and not accepted requests are never counted.")))
    rows.append(
        (
            "",
            _(
                "A window counts once its deadline has passed; one passed on before its deadline "
                "(escalated, returned, dispatched elsewhere) counts for nobody."
            ),
        )
    )
    return rows


# --- export (CSV with BOM, xlsx), audited ---------------------------------------------------------------
EXPORT_FORMATS = ("csv", "xlsx")


def _table_rows(table: RatesTable) -> list[tuple[str, str, Rates]]:
    rows = [(_("Total"), str(table.place), table.total)]
    rows += [(_("Place"), r.label, r.rates) for r in table.places]
    rows += [(_("Handling level"), r.label, r.rates) for r in table.levels]
    rows += [(_("Handling unit"), r.label, r.rates) for r in table.units]
    return rows


def _headers(table: RatesTable) -> list[str]:
    names = rate_names(table.rules)
    headers = [_("Group"), _("Place, level or unit")]
    for key in table.keys:
        headers += [names[key], _("numerator"), _("denominator")]
    return [*headers, _("Score")]


def export_rates(actor, table: RatesTable, *, fmt: str, first: date, last: date) -> tuple[bytes, str, str]:
    """The table as (content, content type, file name): CSV in UTF-8 with BOM (Excel on Chinese Windows)
    or xlsx with a sheet of definitions. Needs requests.view over the place; audited as
    requests.rates_exported."""
    from django.core.exceptions import PermissionDenied, ValidationError

    from linjialin.core import audit

    if fmt not in EXPORT_FORMATS:
        raise ValidationError({"format": _("Export as xlsx or csv.")})
    if not scope_for(actor, "requests.view").covers(table.place.path):
        raise PermissionDenied
    rows = _table_rows(table)
    with transaction.atomic():
        audit.record(
            "requests.rates_exported",
            actor=actor,
            obj=table.place,
            after={"format": fmt, "from": first.isoformat(), "to": last.isoformat(), "rows": len(rows)},
        )
    name = f"rates-{table.place.path.rstrip('.').replace('.', '-')}-{first:%Y%m%d}-{last:%Y%m%d}.{fmt}"
    if fmt == "csv":
        return _csv(table, rows), "text/csv; charset=utf-8", name
    return _xlsx(table, rows, first, last), XLSX_TYPE, name


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _csv(table: RatesTable, rows) -> bytes:
    from linjialin.core import exports

    def lines():
        yield _headers(table)
        for group, name, r in rows:
            cells = [group, name]
            for key in table.keys:
                rate = getattr(r, key)
                cells += [rate.percent, rate.numerator_text, rate.denominator]
            yield [*cells, r.score.text]

    return exports.csv_bytes(lines())


def _xlsx(table: RatesTable, rows, first: date, last: date) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from linjialin.core import exports

    wb = Workbook()
    ws = wb.active
    ws.title = _("Rates")[:31]
    exports.xlsx_append(ws, _headers(table))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for group, name, r in rows:
        cells: list = [group, name]
        for key in table.keys:
            rate = getattr(r, key)
            cells += [
                None if rate.value is None else float(rate.value),
                float(rate.numerator),
                rate.denominator,
            ]
        exports.xlsx_append(
            ws, [*cells, None if r.score.value is None else float(r.score.value.quantize(Decimal("0.1")))]
        )
        for i in range(len(table.keys)):
            ws.cell(ws.max_row, 3 + i * 3).number_format = "0.0%"
    ws.freeze_panes = "C2"
    ws.column_dimensions["B"].width = 24
    notes = wb.create_sheet(_("Definitions")[:31])
    exports.xlsx_append(notes, [_("Place"), str(table.place)])
    exports.xlsx_append(notes, [_("Period"), f"{first.isoformat()} – {last.isoformat()}"])
    for name, formula in definitions(table.rules):
        exports.xlsx_append(notes, [name, formula])
    notes.column_dimensions["A"].width = 28
    notes.column_dimensions["B"].width = 100
    return exports.xlsx_bytes(wb)
