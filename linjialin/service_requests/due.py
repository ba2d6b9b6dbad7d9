"""When a request is "due soon": in the last quarter of the window it is in now (acceptance or
resolution). One definition for the queue, the desk, the home pages and the sweep's reminders.

The quarter is RequestRules.reminder_at_percent (default 75: the last 25 % is "due soon"), measured in
the limit's own unit like the sweep's reminder (reminder_point): a limit of H clock hours is due soon in
its last H/4 hours, a limit of n working days when n/4 working days remain. A brand-new request is
therefore never due soon.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db.models import Q

from linjialin.core.calendar import HOURS, end_of_day, is_working_day, local_date

from .models import ServiceRequest, State, TimeLimitPolicy
from .policy_cache import category_parents
from .policy_cache import policies as cached_policies
from .time_limits import pick

LOOK_BACK = timedelta(days=60)  # wider than any limit: where the widest "due soon" stretch starts

ACCEPT_STATES = (State.SUBMITTED, State.ESCALATED)
RESOLVE_STATES = (State.ACCEPTED, State.IN_PROGRESS, State.EXTENSION_REQUESTED)


def remaining_share() -> float:
    """The share of a limit still left when the reminder goes (RequestRules.reminder_at_percent, data)."""
    from .services import rules

    return (100 - rules().reminder_at_percent) / 100


def reminder_point(deadline: datetime, amount: int, unit: str, share: float | None = None) -> datetime:
    """When `share` of the limit is left before `deadline` (default: from the rules; see the docstring)."""
    share = remaining_share() if share is None else share
    if unit == HOURS:
        return deadline - timedelta(hours=amount * share)
    remaining = amount * share  # working days
    whole = int(remaining)
    day = local_date(deadline)
    for _i in range(whole):
        day = _previous_working_day(day)
    point = end_of_day(day) if whole else deadline
    return point - timedelta(days=remaining - whole)


def _previous_working_day(day: date) -> date:
    day -= timedelta(days=1)
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


def _deadline_range(
    amount: int, unit: str, lo: datetime, hi: datetime, share: float
) -> tuple[datetime, datetime] | None:
    """The deadlines (start exclusive, end inclusive) whose reminder point lies in (lo, hi]."""
    if unit == HOURS:
        span = timedelta(hours=amount * share)
        return lo + span, hi + span
    # working-day deadlines are the ends of working days: walk the days after lo until past hi
    first = last = None
    day = local_date(lo)
    for _i in range(400):
        if is_working_day(day):
            point = reminder_point(end_of_day(day), amount, unit, share)
            if point > hi:
                break
            if point > lo:
                first = first or day
                last = day
        day += timedelta(days=1)
    if first is None:
        return None
    return end_of_day(first - timedelta(days=1)), end_of_day(last)


def _limits(policies: list[TimeLimitPolicy]) -> tuple[set[tuple[int, str]], set[tuple[int, str]]]:
    every = [*policies, TimeLimitPolicy()]  # the model defaults apply when no row matches
    return (
        {(p.accept_amount, p.accept_unit) for p in every},
        {(p.resolve_amount, p.resolve_unit) for p in every},
    )


class _PolicyCache:
    """services.policy_for without a query per request (time_limits.pick on the cached rows)."""

    def __init__(self, policies: list[TimeLimitPolicy]):
        self.policies = policies
        self.cache: dict = {}
        # the parent fields are read only when a row names a category (a field's row covers its problems)
        self.by_category = any(p.category_id for p in policies)

    def __call__(self, req: ServiceRequest) -> TimeLimitPolicy:
        key = (req.request_type, req.category_id, req.urgency)
        if key not in self.cache:
            parent = category_parents().get(req.category_id) if req.category_id and self.by_category else None
            self.cache[key] = pick(self.policies, req.request_type, req.category_id, parent, req.urgency)
        return self.cache[key]


def deadline_and_limit(req: ServiceRequest, matching=None) -> tuple[datetime | None, int, str]:
    """(the deadline in force, the limit's amount, its unit), or (None, 0, "") when none runs."""
    policy = (matching or _PolicyCache(cached_policies()))(req)
    if req.state in ACCEPT_STATES:
        return req.accept_by, policy.accept_amount, policy.accept_unit
    if req.state in RESOLVE_STATES:
        return req.resolve_by, policy.resolve_amount, policy.resolve_unit
    return None, 0, ""


def due_soon_from(req: ServiceRequest, matching=None, share: float | None = None) -> datetime | None:
    """The instant the request becomes due soon (None when no deadline runs)."""
    deadline, amount, unit = deadline_and_limit(req, matching)
    if deadline is None:
        return None
    return reminder_point(deadline, amount, unit, share)


def is_due_soon(req: ServiceRequest, now: datetime, matching=None, share: float | None = None) -> bool:
    """In the last quarter of its window, not yet overdue."""
    deadline, amount, unit = deadline_and_limit(req, matching)
    if deadline is None:
        return False
    return reminder_point(deadline, amount, unit, share) <= now < deadline


class DueSoon:
    """`is_due_soon` for many rows at one instant: the policies and the share read once."""

    def __init__(self, now: datetime):
        self.now = now
        self.matching = _PolicyCache(cached_policies())
        self.share = remaining_share()

    def __call__(self, req: ServiceRequest) -> bool:
        return is_due_soon(req, self.now, self.matching, self.share)

    def candidates_q(self) -> Q:
        """A database filter that keeps every due-soon request (and a few more: refine with `self`):
        the deadlines between now and the latest deadline whose due-soon point has passed, per limit."""
        accept_limits, resolve_limits = _limits(self.matching.policies)
        q = Q(pk__in=[])
        for field_name, states, limits in (
            ("accept_by", ACCEPT_STATES, accept_limits),
            ("resolve_by", RESOLVE_STATES, resolve_limits),
        ):
            ends = [
                bounds[1]
                for amount, unit in limits
                if (bounds := _deadline_range(amount, unit, self.now - LOOK_BACK, self.now, self.share))
            ]
            if ends:
                q |= Q(state__in=states, **{f"{field_name}__gte": self.now, f"{field_name}__lte": max(ends)})
        return q

    def ids(self, queryset) -> list[int]:
        """The due-soon requests of `queryset` (one query over the candidates)."""
        rows = queryset.filter(self.candidates_q()).only(
            "pk", "state", "accept_by", "resolve_by", "request_type", "category_id", "urgency"
        )
        return [r.pk for r in rows if self(r)]
