"""The rates on a fixed, hand-computed set of requests (docs/rates.md has the definitions).

November 2026, T = 10 Nov 09:00 Shanghai; acceptance deadline T + 24 h for all.
    r1 community 1: accepted T+2h, resolved T+3d, rated T+4d: solved, 满意                     → closed
    r2 community 1: accepted T+30h (late), resolved T+8d, rated T+9d: not solved, 基本满意      → called back
    r3 community 1: accepted T+1h, rated T+3d not solved/不满意 (reopened), resolved T+6d,
                    rated again T+7d: solved, 基本满意 (counts once, with this final rating)   → closed
    r4 community 1: never accepted                                                           → submitted
    r5 withdrawn, r6 merged, r7 not accepted (community 1): never counted
    r8 community 1: all in October
    r9 community 2: accepted T+1h, handled at the community level                            → accepted
Whole subdistrict, November:
    响应率 due r1 r2 r3 r4 r9 = 5, in time r1 r3 r9 = 3                    → 60.0%
    解决率 rated r1 r2 r3 = 3, solved r1 r3 = 2                              → 66.7%
    满意率 (1 满意 + 2 基本满意 × 0.8) ÷ 3 = 2.6 ÷ 3                          → 86.7%
    24 h sign-off: submitted 5, accepted within 24 h r1 r3 r9 = 3            → 60.0%
    7-day completion: submitted 5, resolved within 7 days r1 r3 = 2          → 40.0%
    score (60 × 30 + 66.67 × 35 + 86.67 × 35) ÷ 100                         → 71.7
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from itertools import count
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from linjialin.service_requests import metrics
from linjialin.service_requests.models import (
    HandlingLevel,
    RequestEvent,
    RequestRules,
    Satisfaction,
    ServiceRequest,
    State,
)

SH = ZoneInfo("Asia/Shanghai")
T = datetime(2026, 11, 10, 9, 0, tzinfo=SH)
NOV = (datetime(2026, 11, 1, tzinfo=SH), datetime(2026, 12, 1, tzinfo=SH))
DEC = (datetime(2026, 12, 1, tzinfo=SH), datetime(2027, 1, 1, tzinfo=SH))
H, D = timedelta(hours=1), timedelta(days=1)
_numbers = count(1)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def make(place, *, submitted_at=T, ratings=(), **fields):
    n = next(_numbers)
    fields.setdefault("accept_by", submitted_at + 24 * H)
    fields.setdefault("description", "楼道灯坏了")
    req = ServiceRequest.objects.create(
        number=f"T{n:06d}",
        request_type="help",
        place=place,
        path=place.path,
        submitted_at=submitted_at,
        **fields,
    )
    for at, solved, satisfaction in ratings:
        RequestEvent.objects.create(
            request=req, kind="call_back", at=at, data={"solved": solved, "satisfaction": satisfaction}
        )
    return req


@pytest.fixture
def fixed_set(tree):
    e, x = tree.entrance_a, tree.entrance_x
    sat, basic, unsat = Satisfaction.SATISFIED, Satisfaction.BASICALLY, Satisfaction.UNSATISFIED
    return {
        "r1": make(e, state=State.CLOSED, accepted_at=T + 2 * H, resolved_at=T + 3 * D, solved=True,
                   satisfaction=sat, ratings=[(T + 4 * D, True, sat)]),
        "r2": make(e, state=State.CALLED_BACK, accepted_at=T + 30 * H, resolved_at=T + 8 * D, solved=False,
                   satisfaction=basic, ratings=[(T + 9 * D, False, basic)]),
        "r3": make(e, state=State.CLOSED, accepted_at=T + H, resolved_at=T + 6 * D, solved=True,
                   satisfaction=basic, reopen_count=1,
                   ratings=[(T + 3 * D, False, unsat), (T + 7 * D, True, basic)]),
        "r4": make(e, state=State.SUBMITTED),
        "r5": make(e, state=State.WITHDRAWN, accepted_at=T + H),
        "r6": make(e, state=State.MERGED),
        "r7": make(e, state=State.NOT_ACCEPTED),
        "r8": make(e, submitted_at=T - 40 * D, state=State.CLOSED, accepted_at=T - 40 * D + H,
                   resolved_at=T - 38 * D, solved=False, satisfaction=unsat,
                   ratings=[(T - 37 * D, False, unsat)]),
        "r9": make(x, state=State.ACCEPTED, accepted_at=T + H, level=HandlingLevel.COMMUNITY),
    }  # fmt: skip


def rules():
    return RequestRules.objects.get()


def nov(queryset):
    return metrics.rates(queryset, period_start=NOV[0], period_end=NOV[1], rules=rules())


def test_the_three_rates_sign_off_completion_and_score_by_hand(fixed_set):
    r = nov(ServiceRequest.objects.all())
    assert (r.response.numerator, r.response.denominator, r.response.percent) == (3, 5, "60.0%")
    assert (r.resolution.numerator, r.resolution.denominator, r.resolution.percent) == (2, 3, "66.7%")
    assert (r.satisfaction.numerator, r.satisfaction.denominator) == (Decimal("2.6"), 3)
    assert r.satisfaction.percent == "86.7%"
    assert (r.signoff.numerator, r.signoff.denominator, r.signoff.percent) == (3, 5, "60.0%")
    assert (r.completion.numerator, r.completion.denominator, r.completion.percent) == (2, 5, "40.0%")
    assert r.score.text == "71.7"
    assert r.response.formula == "accepted in time 3 ÷ due for acceptance 5"
    assert r.satisfaction.formula == "(satisfied 1 + basically satisfied 2 × 0.80) ÷ rated 3"
    assert r.completion.formula == "resolved within 7 calendar days 2 ÷ submitted 5"


def test_nothing_due_is_a_dash_not_a_division_by_zero(fixed_set):
    r = metrics.rates(ServiceRequest.objects.all(), period_start=DEC[0], period_end=DEC[1], rules=rules())
    for rate in (r.response, r.resolution, r.satisfaction, r.signoff, r.completion):
        assert rate.denominator == 0 and rate.value is None and rate.percent == "—"
    assert r.score.value is None and r.score.text == "—"


def test_the_weights_are_data(fixed_set):
    RequestRules.objects.update(
        basic_satisfaction_weight=Decimal("0.5"),
        response_weight=100,
        resolution_weight=0,
        satisfaction_weight=0,
    )
    r = nov(ServiceRequest.objects.all())
    assert r.satisfaction.numerator == 2 and r.satisfaction.percent == "66.7%"  # (1 + 2 × 0.5) ÷ 3
    assert r.score.text == "60.0"  # the response rate alone


def test_a_rate_with_nothing_due_drops_out_of_the_score(fixed_set):
    r = nov(ServiceRequest.objects.filter(path__startswith=fixed_set["r9"].path))
    assert r.response.percent == "100.0%" and r.resolution.value is None and r.satisfaction.value is None
    assert r.score.text == "100.0"


def test_a_reopened_request_counts_once_with_its_final_rating(fixed_set):
    r = nov(ServiceRequest.objects.filter(pk=fixed_set["r3"].pk))
    assert (r.resolution.numerator, r.resolution.denominator) == (1, 1)
    assert r.satisfaction.numerator == Decimal("0.8")


def test_withdrawn_merged_and_not_accepted_are_never_counted(fixed_set):
    excluded = [fixed_set[k].pk for k in ("r5", "r6", "r7")]
    r = nov(ServiceRequest.objects.filter(pk__in=excluded))
    assert (r.response.denominator, r.signoff.denominator, r.completion.denominator) == (0, 0, 0)


def test_rates_by_place_groups_by_child_and_counts_only_visible_requests(
    fixed_set, tree, subdistrict_dispatcher, community_worker, outsider
):
    total, rows = metrics.rates_by_place(subdistrict_dispatcher, tree.subdistrict, NOV)
    assert total.response.percent == "60.0%"
    assert [row.place for row in rows] == [tree.community_1, tree.community_2]
    c1, c2 = rows[0].rates, rows[1].rates
    assert (c1.response.numerator, c1.response.denominator) == (2, 4)
    assert (c1.resolution.numerator, c1.resolution.denominator) == (2, 3)
    assert (c1.completion.numerator, c1.completion.denominator) == (2, 4)
    assert (c2.response.numerator, c2.response.denominator) == (1, 1)
    assert c2.resolution.percent == "—"

    total, rows = metrics.rates_by_place(community_worker, tree.subdistrict, NOV)
    assert [row.place for row in rows] == [tree.community_1]
    assert total.response.denominator == 4  # community 2's request is not counted

    total, rows = metrics.rates_by_place(outsider, tree.subdistrict, NOV)
    assert [row.place for row in rows] == [tree.community_2] and total.response.denominator == 1

    total, rows = metrics.rates_by_place(community_worker, tree.community_1, NOV)
    assert [row.place for row in rows] == [tree.grid_1] and rows[0].rates.response.denominator == 4


def test_rates_by_handling_level(fixed_set):
    by_level = metrics.rates_by_level(ServiceRequest.objects.all(), *NOV, rules())
    assert by_level[HandlingLevel.ENTRANCE].response.denominator == 4
    assert by_level[HandlingLevel.COMMUNITY].response.denominator == 1
    assert by_level[HandlingLevel.SUBDISTRICT].response.value is None
