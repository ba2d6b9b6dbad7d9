"""Which time limits apply to a request, and the two windows that cap a handler's own moves: the
return (退单) window and the total of the extensions (with the messages that refuse a move past them).
Reads and checks only; the writes are in services.py.

Precedence (docs/time_limits.md). A TimeLimitPolicy row applies when each of its request type,
category and urgency is blank or matches the request (a row for a category's parent field applies to
its problems too). Among the rows that apply, a row that another applying row refines (the other sets
everything it sets, and more, or the category's own row beside its parent's) drops out: "reports take
15 working days" overrides the general 7. Of the rows left, each limit takes its most urgent value: a
gas outage flagged as a risk to life is answered within the risk row's 2 h AND fixed within the utility
row's 24 h, whatever order the rows were entered in. Before, the most specific row won whole, so the
risk row (urgency counts most) gave the outage 7 working days.

Limits in different units are compared at the length of a working day in a normal week: five working
days in seven calendar days, so one working day counts as 7/5 × 24 h = 33.6 h. Every clock-hour limit up
to 24 h per working day is shorter whatever day the clock starts on; beyond that the comparison is the
usual, not the exact, case (the exact one depends on the day the request arrives and on holidays).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from linjialin.core.calendar import HOURS, add_working_days

from .models import RequestEvent, ServiceRequest, TimeLimitPolicy

LIMITS = ("accept", "contact", "resolve", "max_extension")
WORKING_DAY_HOURS = Decimal(24 * 7) / 5  # see the docstring: only for ranking limits in different units

# timeline events that hand a request to a new owner: the return window runs from the latest one
RECEIVED = ("submitted", "dispatch", "reassign", "escalate", "unmerge")


# --- precedence ----------------------------------------------------------------------------------------
def _applies(p: TimeLimitPolicy, request_type: str, category_id, parent_id, urgency: str) -> bool:
    return (
        p.request_type in ("", request_type)
        and (p.category_id is None or p.category_id in (category_id, parent_id))
        and p.urgency in ("", urgency)
    )


def _refines(a: TimeLimitPolicy, b: TimeLimitPolicy, category_id) -> bool:
    """Does row `a` say everything row `b` says about the request, and more? (Both apply to it.)"""
    if (b.request_type and not a.request_type) or (b.urgency and not a.urgency):
        return False
    if b.category_id is not None and a.category_id is None:
        return False
    # on the category, the request's own category is more than its parent field, which is more than none
    a_rank = 0 if a.category_id is None else (2 if a.category_id == category_id else 1)
    b_rank = 0 if b.category_id is None else (2 if b.category_id == category_id else 1)
    more = (a.request_type and not b.request_type) or (a.urgency and not b.urgency) or a_rank > b_rank
    return bool(more) and a_rank >= b_rank


def _length(amount: int, unit: str) -> Decimal:
    return Decimal(amount) if unit == HOURS else amount * WORKING_DAY_HOURS


def applicable(policies, request_type: str, category_id, parent_id, urgency: str) -> list[TimeLimitPolicy]:
    """The rows that decide the limits: those that apply and that no other applying row refines."""
    rows = [p for p in policies if _applies(p, request_type, category_id, parent_id, urgency)]
    return [b for b in rows if not any(a is not b and _refines(a, b, category_id) for a in rows)]


def pick(policies, request_type: str, category_id, parent_id, urgency: str) -> TimeLimitPolicy:
    """The limits for a request: one row when one decides, else a row (not saved) with each limit at
    its most urgent among the deciding rows; the model defaults when no row applies."""
    rows = applicable(policies, request_type, category_id, parent_id, urgency)
    if not rows:
        return TimeLimitPolicy()  # the model defaults: 24 h / 24 h / 7 working days / 10 working days
    if len(rows) == 1:
        return rows[0]
    merged = TimeLimitPolicy(note=" + ".join(p.note or str(p) for p in rows)[:200])
    for name in LIMITS:
        # ties go to the row entered first, so the result does not depend on how the list was sorted
        best = min(
            sorted(rows, key=lambda p: p.pk or 0),
            key=lambda p: _length(getattr(p, f"{name}_amount"), getattr(p, f"{name}_unit")),
        )
        setattr(merged, f"{name}_amount", getattr(best, f"{name}_amount"))
        setattr(merged, f"{name}_unit", getattr(best, f"{name}_unit"))
    return merged


# --- the return (退单) window --------------------------------------------------------------------------
def received_at(req: ServiceRequest) -> datetime | None:
    """When the request last reached its present owners (submitted, dispatched, reassigned, escalated,
    unmerged): the latest such timeline event."""
    if req.pk is None:
        return None
    return (
        RequestEvent.objects.filter(request_id=req.pk, kind__in=RECEIVED)
        .order_by("-at", "-id")
        .values_list("at", flat=True)
        .first()
    )


def return_working_days() -> int:
    from .policy_cache import request_rules

    return request_rules().return_working_days


def give_back_until(req: ServiceRequest) -> datetime | None:
    """The last moment the present owners may return the request (退单): the end of the n-th working
    day after the day they received it (RequestRules.return_working_days, default 2; core.calendar:
    received Friday → the end of Tuesday, holidays skipped)."""
    start = received_at(req)
    if start is None:
        return None
    return add_working_days(start, return_working_days())


def may_still_give_back(req: ServiceRequest, now: datetime) -> bool:
    until = give_back_until(req)
    return until is None or now <= until


def late_return_error(req: ServiceRequest) -> ValidationError:
    """What a handler is told when the return window has closed: until when it was open, what now."""
    until = timezone.localtime(give_back_until(req)).strftime("%Y-%m-%d %H:%M")
    return ValidationError(
        {
            "reason": _(
                "A return (退单) was possible until %(until)s (%(n)d working days after the request "
                "reached you). Handle it, or ask the dispatcher to reassign it."
            )
            % {"until": until, "n": return_working_days()}
        }
    )


# --- the extension cap ---------------------------------------------------------------------------------
def extension_left(req: ServiceRequest, policy: TimeLimitPolicy) -> int:
    """How much more extension may still be granted (in the policy's extension unit)."""
    return max(policy.max_extension_amount - (req.extension_granted or 0), 0)


def check_extension_cap(req: ServiceRequest, policy: TimeLimitPolicy, days: int) -> None:
    """The extensions granted to a request add up to at most the policy's maximum (10 working days by
    default): an ask (or a grant) beyond what is left is refused, saying how much is left."""
    left = extension_left(req, policy)
    if left <= 0:
        raise ValidationError(
            {
                "days": _(
                    "No more extension is possible: %(max)d days in all have already been granted. "
                    "Resolve it, or escalate it."
                )
                % {"max": policy.max_extension_amount}
            }
        )
    if not 1 <= days <= left:
        raise ValidationError(
            {
                "days": _(
                    "An extension is 1 to %(left)d days: %(left)d of the %(max)d days allowed in all "
                    "are left."
                )
                % {"left": left, "max": policy.max_extension_amount}
            }
        )
