"""The most urgent applicable time limit wins (docs/time_limits.md). The seeded rows (migration 0002) and
every type × category × urgency checked against the limits DOMAIN.md §2 sets: first response within 24 h,
2 h when life or property is at risk; a water, power, gas or heating outage fixed within 24 h; general
matters solved within 7 working days, complex ones (reports) within 15; extensions at most 10 working
days (3 for a utility outage, as seeded). A risk-flagged gas outage keeps the utility row's 24 h."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from linjialin.accounts.models import RoleGrant
from linjialin.service_requests import services, time_limits
from linjialin.service_requests.due import _PolicyCache
from linjialin.service_requests.models import (
    Category,
    RequestType,
    ServiceRequest,
    TimeLimitPolicy,
    Urgency,
)
from linjialin.service_requests.policy_cache import policies

pytestmark = pytest.mark.django_db

H, WD = "hours", "working_days"


def is_utility(category: Category | None) -> bool:
    return category is not None and "utilities" in (
        category.code,
        category.parent.code if category.parent else "",
    )


def expected(request_type: str, category: Category | None, urgency: str) -> dict:
    """DOMAIN.md §2, each limit on its own: the most urgent rule that applies."""
    risk, utility = urgency == Urgency.RISK, is_utility(category)
    respond = (2, H) if risk else (24, H)
    if utility:
        resolve = (24, H)  # an outage is fixed within 24 h, whatever else applies
    elif risk:
        resolve = (7, WD)  # the risk row's 7 is more urgent than a report's 15
    elif request_type == RequestType.REPORT:
        resolve = (15, WD)
    else:
        resolve = (7, WD)
    return {
        "accept": respond,
        "contact": respond,
        "resolve": resolve,
        "max_extension": (3, WD) if utility else (10, WD),
    }


def limits(policy: TimeLimitPolicy) -> dict:
    return {
        name: (getattr(policy, f"{name}_amount"), getattr(policy, f"{name}_unit"))
        for name in time_limits.LIMITS
    }


def test_every_type_category_and_urgency_gets_the_most_urgent_limits(db):
    categories = [None, *Category.objects.select_related("parent").order_by("code")]
    assert len(categories) > 40 and any(is_utility(c) for c in categories)
    matching = _PolicyCache(policies())
    wrong = []
    checked = 0
    for request_type in RequestType.values:
        for category in categories:
            for urgency in Urgency.values:
                want = expected(request_type, category, urgency)
                got = limits(services.policy_for(request_type, category, urgency))
                # the sweep and the queues use the cached lookup: it must agree, sub-categories included
                req = ServiceRequest(request_type=request_type, category=category, urgency=urgency)
                cached = limits(matching(req))
                if got != want or cached != want:
                    wrong.append((request_type, category.code if category else None, urgency, got, cached))
                checked += 1
    assert wrong == []
    assert checked == len(RequestType.values) * len(categories) * len(Urgency.values)


@pytest.mark.parametrize(
    ("request_type", "code", "urgency", "accept", "resolve"),
    [
        ("help", "utilities-gas", "risk", (2, H), (24, H)),  # the reported case
        ("help", "utilities-gas", "normal", (24, H), (24, H)),
        ("report", "utilities-heating", "risk", (2, H), (24, H)),
        ("report", "utilities", "normal", (24, H), (24, H)),
        ("report", "corridor", "normal", (24, H), (15, WD)),
        ("report", "corridor", "risk", (2, H), (7, WD)),
        ("help", "corridor-light", "urgent", (24, H), (7, WD)),
        ("consult", None, "normal", (24, H), (7, WD)),
    ],
)
def test_table_rows(request_type, code, urgency, accept, resolve):
    category = Category.objects.get(code=code) if code else None
    got = limits(services.policy_for(request_type, category, urgency))
    assert (got["accept"], got["resolve"]) == (accept, resolve)


def test_a_gas_outage_at_risk_is_due_in_24_hours(tree, resident_a):
    RoleGrant.objects.update(valid_from="2026-01-01")
    start = datetime(2026, 11, 6, 15, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Friday
    with time_machine.travel(start, tick=False):
        req = services.submit_request(
            resident_a,
            place=tree.household_a1,
            request_type="help",
            description="楼道里有很大的煤气味",
            category=Category.objects.get(code="utilities-gas"),
            urgency=Urgency.RISK,
        )
    assert req.accept_by == datetime(2026, 11, 6, 17, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # 2 h
    assert req.resolve_by == datetime(2026, 11, 7, 15, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # 24 h, Saturday


def test_a_categorys_own_row_refines_its_fields_row_and_the_risk_row_still_counts():
    heating = Category.objects.get(code="utilities-heating")
    own = TimeLimitPolicy.objects.create(
        category=heating, resolve_amount=12, resolve_unit=H, note="heating 12 h"
    )
    assert services.policy_for("help", heating, "normal").pk == own.pk  # one row decides: that row
    risky = limits(services.policy_for("help", heating, "risk"))
    assert risky["resolve"] == (12, H) and risky["accept"] == (2, H)
    # the field's row no longer decides for heating, so its smaller extension cap does not apply either
    assert risky["max_extension"] == (10, WD)


def test_limits_in_different_units_compare_at_a_working_day_of_33_6_hours():
    TimeLimitPolicy.objects.all().delete()
    a = TimeLimitPolicy.objects.create(request_type="help", resolve_amount=24, resolve_unit=H, note="a")
    b = TimeLimitPolicy.objects.create(urgency="urgent", resolve_amount=1, resolve_unit=WD, note="b")
    assert limits(services.policy_for("help", None, "urgent"))["resolve"] == (24, H)
    TimeLimitPolicy.objects.filter(pk=a.pk).update(resolve_amount=72)
    b.resolve_amount = 2
    b.save()
    assert limits(services.policy_for("help", None, "urgent"))["resolve"] == (2, WD)  # 67.2 h < 72 h
    merged = services.policy_for("help", None, "urgent")
    assert merged.pk is None and merged.note == "a + b"  # several rows decided: not saved, both named
