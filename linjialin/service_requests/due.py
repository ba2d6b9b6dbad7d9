"""When a request is "due soon": in the last quarter of the window it is in now (acceptance or
resolution). One definition for the queue, the desk, the home pages and the sweep's reminders.

The quarter is RequestRules.reminder_at_percent (default 75: the last 25 % is "due soon"), measured in
the limit's own unit like the reminder (sweep.reminder_point): a limit of H clock hours is due soon in
its last H/4 hours, a limit of n working days when n/4 working days remain. A brand-new request is
therefore never due soon.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q

from .models import ServiceRequest
from .policy_cache import policies as cached_policies
from .sweep import ACCEPT_STATES, RESOLVE_STATES, _deadline_range, _limits, _PolicyCache, reminder_point
from .sweep import remaining_share as _remaining_share

LOOK_BACK = timedelta(days=60)  # wider than any limit: where the widest "due soon" stretch starts


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
        self.share = _remaining_share()

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
