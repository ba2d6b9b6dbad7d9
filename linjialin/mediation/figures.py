"""The centre's figures for a place and everything below it, over a period [start, end) of local dates:
counts only, never a name (issue 5 §6; the rest of the system sees these, not cases).

Definitions (each figure counts rows whose place path is under the place):

- screening_sessions: screening sessions held (state held) with held_at in the period.
- risks_found: findings of those sessions (the risks found in the period's screening); of them
  risks_to_case / risks_to_task / risks_closed are handled (became a case, a prevention task, closed with a
  note) and risks_open are still open, as of now.
- consultations: legal consultations asked in the period.
- cases_registered: cases registered in the period, split by source (source_<value>) and by type
  (type_<value>).
- accepted: cases accepted in the period.
- Cases that ended in the period (ended_at in the period), by outcome: resolved (a written or an oral
  agreement: resolved_written, resolved_oral), failed (no agreement), withdrawn, not_accepted.
- success_rate = resolved ÷ (resolved + failed), over the cases whose mediation ended in the period with a
  result. Withdrawn and not accepted cases had no mediation result and are left out of both. None (shown
  "—") when no case ended with a result.
- avg_days: the average number of calendar days (local dates) from acceptance to the end, over the cases
  that ended in the period after being accepted (agreement, failure or withdrawal); None when there is none.
- over_limit: cases over the one-month limit (due_on, which extensions move): cases that ended in the
  period later than their due date, plus cases still in mediation whose due date fell before the end of
  the period (or before today, if the period is not over).
- court_confirmed: agreements the court confirmed valid (司法确认) with the decision in the period.
- followups: follow-up visits made in the period; followups_performing those that found the agreement
  performed or being performed on time; performance_rate = followups_performing ÷ followups, None when no
  visit was made.
- tasks_done: prevention tasks done in the period.

`compute(place, start, end)` answers one place; `by_community(subdistrict, start, end)` one row per
community plus the subdistrict's total (which also counts what is recorded at the subdistrict itself).
Both run the same dozen grouped queries whatever the number of communities.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time

from django.db.models import Count, Q, Value
from django.db.models.functions import Substr
from django.utils import timezone

from linjialin.core.calendar import local_date, local_tz
from linjialin.core.scope import under
from linjialin.places.models import Level, Place

from .models import (
    Case,
    CaseState,
    Consultation,
    CourtConfirmation,
    CourtState,
    DisputeType,
    FindingOutcome,
    FollowUp,
    Outcome,
    Performance,
    PreventionTask,
    ScreeningFinding,
    ScreeningSession,
    ScreeningState,
    Source,
    TaskState,
)

# the counts (summed over places) and the derived figures
COUNTS = (
    "screening_sessions",
    "risks_found",
    "risks_to_case",
    "risks_to_task",
    "risks_closed",
    "risks_open",
    "consultations",
    "cases_registered",
    *(f"source_{s}" for s in Source.values),
    *(f"type_{t}" for t in DisputeType.values),
    "accepted",
    "resolved",
    "resolved_written",
    "resolved_oral",
    "failed",
    "withdrawn",
    "not_accepted",
    "over_limit",
    "court_confirmed",
    "followups",
    "followups_performing",
    "tasks_done",
    "days_total",  # helpers for the average
    "days_cases",
)
DERIVED = ("success_rate", "avg_days", "performance_rate")


def _aware(d: date) -> datetime:
    return datetime.combine(d, time.min, tzinfo=local_tz())


def success_rate(resolved: int, failed: int) -> float | None:
    """Agreements ÷ cases that ended in agreement or failure; None when none did (no division by zero)."""
    ended = resolved + failed
    return resolved / ended if ended else None


def _finish(raw: dict) -> dict:
    out = {k: int(raw.get(k) or 0) for k in COUNTS}
    out["success_rate"] = success_rate(out["resolved"], out["failed"])
    out["avg_days"] = round(out["days_total"] / out["days_cases"], 1) if out["days_cases"] else None
    out["performance_rate"] = out["followups_performing"] / out["followups"] if out["followups"] else None
    return out


def _key(qs, key_len: int | None, field: str):
    """Group by the first key_len characters of the path (the community), or all together."""
    if key_len is None:
        return qs.annotate(k=Value(""))
    return qs.annotate(k=Substr(field, 1, key_len))


def _grouped(qs, key_len, field, aggregates: dict) -> dict[str, dict]:
    rows = _key(qs, key_len, field).values("k").annotate(**aggregates).order_by()
    return {r["k"]: r for r in rows}


def _raw(place: Place, start: date, end: date, key_len: int | None) -> dict[str, dict]:
    """key → {count name: value}, for every group that has anything."""
    lo, hi = _aware(start), _aware(end)
    today = timezone.localdate()
    acc: dict[str, dict] = defaultdict(lambda: dict.fromkeys(COUNTS, 0))

    def merge(groups: dict[str, dict]):
        for k, row in groups.items():
            for name, value in row.items():
                if name != "k":
                    acc[k][name] = (acc[k].get(name) or 0) + (value or 0)

    here = under(place.path)
    merge(
        _grouped(
            ScreeningSession.objects.filter(here, state=ScreeningState.HELD, held_at__gte=lo, held_at__lt=hi),
            key_len,
            "path",
            {"screening_sessions": Count("pk")},
        )
    )
    F = FindingOutcome
    merge(
        _grouped(
            ScreeningFinding.objects.filter(
                here,
                session__state=ScreeningState.HELD,
                session__held_at__gte=lo,
                session__held_at__lt=hi,
            ),
            key_len,
            "path",
            {
                "risks_found": Count("pk"),
                "risks_to_case": Count("pk", filter=Q(outcome=F.CASE)),
                "risks_to_task": Count("pk", filter=Q(outcome=F.TASK)),
                "risks_closed": Count("pk", filter=Q(outcome=F.CLOSED)),
                "risks_open": Count("pk", filter=Q(outcome=F.OPEN)),
            },
        )
    )
    merge(
        _grouped(
            Consultation.objects.filter(here, asked_at__gte=lo, asked_at__lt=hi),
            key_len,
            "path",
            {"consultations": Count("pk")},
        )
    )
    cases = Case.objects.filter(here)
    registered = Q(registered_at__gte=lo, registered_at__lt=hi)
    ended = Q(ended_at__gte=lo, ended_at__lt=hi)
    case_counts = {
        "cases_registered": Count("pk", filter=registered),
        **{f"source_{s}": Count("pk", filter=registered & Q(source=s)) for s in Source.values},
        **{f"type_{t}": Count("pk", filter=registered & Q(dispute_type=t)) for t in DisputeType.values},
        "accepted": Count("pk", filter=Q(accepted_at__gte=lo, accepted_at__lt=hi)),
        "resolved": Count("pk", filter=ended & Q(outcome__in=[Outcome.WRITTEN, Outcome.ORAL])),
        "resolved_written": Count("pk", filter=ended & Q(outcome=Outcome.WRITTEN)),
        "resolved_oral": Count("pk", filter=ended & Q(outcome=Outcome.ORAL)),
        "failed": Count("pk", filter=ended & Q(outcome=Outcome.NO_AGREEMENT)),
        "withdrawn": Count("pk", filter=ended & Q(outcome=Outcome.WITHDRAWN)),
        "not_accepted": Count("pk", filter=ended & Q(outcome=Outcome.NOT_ACCEPTED)),
    }
    merge(
        _grouped(
            cases.filter(registered | ended | Q(accepted_at__gte=lo, accepted_at__lt=hi)),
            key_len,
            "path",
            case_counts,
        )
    )
    # the days from acceptance to the end, and the cases over the limit: a few dates per case
    cutoff = min(end, today)
    timed = _key(
        cases.filter(
            (ended & Q(accepted_at__isnull=False))
            | Q(state=CaseState.ACCEPTED, due_on__lt=cutoff, accepted_at__lt=hi)
        ),
        key_len,
        "path",
    ).values_list("k", "state", "accepted_at", "ended_at", "due_on")
    for k, state, accepted_at, ended_at, due_on in timed:
        if ended_at is None or state == CaseState.ACCEPTED:
            acc[k]["over_limit"] += 1
            continue
        end_day = local_date(ended_at)
        acc[k]["days_total"] += (end_day - local_date(accepted_at)).days
        acc[k]["days_cases"] += 1
        if due_on is not None and end_day > due_on:
            acc[k]["over_limit"] += 1
    merge(
        _grouped(
            CourtConfirmation.objects.filter(
                under(place.path, "case__path"),
                state=CourtState.CONFIRMED,
                decided_on__gte=start,
                decided_on__lt=end,
            ),
            key_len,
            "case__path",
            {"court_confirmed": Count("pk")},
        )
    )
    merge(
        _grouped(
            FollowUp.objects.filter(under(place.path, "case__path"), done_at__gte=lo, done_at__lt=hi),
            key_len,
            "case__path",
            {
                "followups": Count("pk"),
                "followups_performing": Count(
                    "pk", filter=Q(performance__in=[Performance.PERFORMED, Performance.IN_PROGRESS])
                ),
            },
        )
    )
    merge(
        _grouped(
            PreventionTask.objects.filter(here, state=TaskState.DONE, done_at__gte=lo, done_at__lt=hi),
            key_len,
            "path",
            {"tasks_done": Count("pk")},
        )
    )
    return acc


def compute(place: Place, start: date, end: date) -> dict:
    """The figures (see the module docstring) for the place and everything below it in [start, end)."""
    return _finish(_raw(place, start, end, None).get("", {}))


@dataclass
class Row:
    place: Place | None  # None for the total
    label: str
    figures: dict


def by_community(subdistrict: Place, start: date, end: date) -> tuple[list[Row], Row]:
    """One row per community of the subdistrict (every community, with zeros where nothing happened) and
    the subdistrict's total."""
    communities = list(Place.objects.filter(parent=subdistrict, level=Level.COMMUNITY).order_by("path"))
    key_len = len(communities[0].path) if communities else len(subdistrict.path)
    raw = _raw(subdistrict, start, end, key_len)
    rows = [Row(c, c.name, _finish(raw.get(c.path, {}))) for c in communities]
    total = dict.fromkeys(COUNTS, 0)
    for group in raw.values():
        for name in COUNTS:
            total[name] += group.get(name) or 0
    return rows, Row(None, subdistrict.name, _finish(total))


def rate_text(value: float | None) -> str:
    """A rate as 87.5%, or — when it has no denominator."""
    return "—" if value is None else f"{value * 100:.1f}%"
