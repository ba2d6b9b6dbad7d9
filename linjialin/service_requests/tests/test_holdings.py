"""响应率 charges each acceptance window to the level or unit that held it (RequestHolding), and the
units called to a request (吹哨, co-handling) are scored on their 报到 and report-back windows (双考核,
条例 Art. 32–33). Written from the rule (docs/rates.md):

* a 楼门 that let its acceptance window pass is charged a miss, also after the request was escalated;
  the 网格 that then accepted within its own window is charged a hit — in 响应率 and in the score;
* a request passed on before its window closed counts for nobody (neither hit nor miss);
* dispatch + 退单 + re-dispatch charge each unit with its own window;
* a summoned unit that reported for duty late is charged in its own unit's row;
* a window that has not closed yet is "in progress", not a miss;
* the backfill migration rebuilds the holdings of a request from its timeline.
"""

from __future__ import annotations

import importlib
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.urls import reverse
from django.utils import translation

from linjialin.service_requests import metrics, services, sweep
from linjialin.service_requests.models import (
    AssistKind,
    Category,
    HandlingLevel,
    HoldingEnd,
    RequestAssist,
    RequestHolding,
    RequestRules,
    ServiceRequest,
)

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 12, 10, 8, 0, tzinfo=SH)  # a Thursday
DEC = (datetime(2026, 12, 1, tzinfo=SH), datetime(2027, 1, 1, tzinfo=SH))
H, M, D = timedelta(hours=1), timedelta(minutes=1), timedelta(days=1)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def at(when):
    return time_machine.travel(when, tick=False)


def submit(resident, tree) -> ServiceRequest:
    return services.submit_request(
        resident,
        place=tree.household_a1,
        request_type="help",
        description="楼道灯坏了",
        category=Category.objects.get(code="corridor"),
    )


def table(user, place):
    return metrics.rates_table(user, place, DEC)


def by_level(t) -> dict:
    return {row.level: row.rates for row in t.levels}


def numbers(rate) -> tuple:
    return int(rate.numerator), rate.denominator, rate.pending


def holdings(req) -> list[tuple]:
    return list(
        RequestHolding.objects.filter(request=req)
        .order_by("started_at", "id")
        .values_list("level", "unit_id", "ended_how", "met")
    )


@pytest.fixture
def escalated_by_the_sweep(tree, resident_a, grid_worker):
    """The 楼门 lets its window pass; the sweep escalates to the 网格, which accepts 2 hours later."""
    with at(T0):
        req = submit(resident_a, tree)
    first_deadline = req.accept_by
    with at(first_deadline + M):
        assert sweep.sweep(first_deadline + M).escalated == [req.pk]
    req.refresh_from_db()
    assert req.level == HandlingLevel.GRID and req.accept_by > first_deadline + M
    with at(first_deadline + 2 * H):
        services.accept_request(grid_worker, req)
    return req


def test_the_entrance_that_let_its_window_pass_is_charged_after_escalation(
    escalated_by_the_sweep, tree, subdistrict_dispatcher
):
    req = escalated_by_the_sweep
    assert holdings(req) == [
        (HandlingLevel.ENTRANCE, None, HoldingEnd.ESCALATED, False),
        (HandlingLevel.GRID, None, "", True),
    ]
    with at(T0 + 5 * D):  # every window has closed
        t = table(subdistrict_dispatcher, tree.subdistrict)
    levels = by_level(t)
    assert numbers(levels[HandlingLevel.ENTRANCE].response) == (0, 1, 0)
    assert numbers(levels[HandlingLevel.GRID].response) == (1, 1, 0)
    # the composite follows: the entrance scores 0 on response, the grid 100
    assert levels[HandlingLevel.ENTRANCE].score.text == "0.0"
    assert levels[HandlingLevel.GRID].score.text == "100.0"
    assert numbers(t.total.response) == (1, 2, 0)
    # the request is counted once in the request-level rates (at its current level)
    assert levels[HandlingLevel.GRID].signoff.denominator == 1
    assert levels[HandlingLevel.ENTRANCE].signoff.denominator == 0


def test_a_window_still_open_is_in_progress_not_a_miss(escalated_by_the_sweep, tree, resident_a):
    """Before the grid's deadline its window (met or not) is in progress; the entrance's miss counts.
    A request minutes old is in progress at its entrance, not a miss."""
    req = escalated_by_the_sweep
    with at(req.accept_by - H):
        submit(resident_a, tree)
    with at(req.accept_by - H + 5 * M):
        levels = metrics.rates_by_level(ServiceRequest.objects.all(), *DEC, RequestRules.objects.get())
    assert numbers(levels[HandlingLevel.ENTRANCE].response) == (0, 1, 1)
    assert numbers(levels[HandlingLevel.GRID].response) == (0, 0, 1)


def test_passed_on_before_the_window_closed_counts_for_nobody(
    tree, resident_a, entrance_leader_a, grid_worker, subdistrict_dispatcher
):
    with at(T0):
        req = submit(resident_a, tree)
    with at(T0 + H):
        services.escalate_request(entrance_leader_a, req, reason="楼门解决不了，需要网格协调")
    with at(T0 + 2 * H):
        services.accept_request(grid_worker, req)
    assert holdings(req) == [
        (HandlingLevel.ENTRANCE, None, HoldingEnd.ESCALATED, None),
        (HandlingLevel.GRID, None, "", True),
    ]
    with at(T0 + 5 * D):
        levels = by_level(table(subdistrict_dispatcher, tree.subdistrict))
    assert numbers(levels[HandlingLevel.ENTRANCE].response) == (0, 0, 0)
    assert numbers(levels[HandlingLevel.GRID].response) == (1, 1, 0)


def test_a_handler_who_accepted_then_escalated_keeps_the_hit(
    tree, resident_a, entrance_leader_a, grid_worker, subdistrict_dispatcher
):
    with at(T0):
        req = submit(resident_a, tree)
        services.accept_request(entrance_leader_a, req)
    with at(T0 + H):
        services.escalate_request(entrance_leader_a, req, reason="需要网格协调物业")
    with at(T0 + 5 * D):  # the grid never accepted: its window passed while it held the request
        levels = by_level(table(subdistrict_dispatcher, tree.subdistrict))
    assert numbers(levels[HandlingLevel.ENTRANCE].response) == (1, 1, 0)
    assert numbers(levels[HandlingLevel.GRID].response) == (0, 1, 0)


@pytest.fixture
def at_subdistrict(tree, resident_a, entrance_leader_a, grid_worker, community_worker):
    with at(T0):
        req = submit(resident_a, tree)
        services.escalate_request(entrance_leader_a, req, reason="楼门解决不了")
        services.escalate_request(grid_worker, req, reason="网格解决不了")
        services.escalate_request(community_worker, req, reason="需要街道协调")
    return req


def units(t) -> dict:
    return {row.unit.code: row.rates for row in t.units}


def test_dispatch_return_and_redispatch_charge_each_unit_its_own_window(
    at_subdistrict, tree, subdistrict_dispatcher, housing_unit, housing_handler, city_unit, city_handler
):
    req = at_subdistrict
    dep = HandlingLevel.DEPARTMENT
    with at(T0 + H):
        services.dispatch_request(subdistrict_dispatcher, req, level=dep, unit=housing_unit)
    # the housing commission lets its window pass, then sends it back (退单)
    with at(req.accept_by + 3 * H):
        services.return_request(housing_handler, req, reason="不属于本单位职责，请改派")
        services.dispatch_request(subdistrict_dispatcher, req, level=dep, unit=city_unit)
    with at(req.accept_by - 2 * H):  # the city management accepts within its window
        services.accept_request(city_handler, req)
    assert [h[:3] for h in holdings(req)][-2:] == [
        (dep, housing_unit.pk, HoldingEnd.RETURNED),
        (dep, city_unit.pk, ""),
    ]
    with at(T0 + 10 * D):
        t = table(subdistrict_dispatcher, tree.subdistrict)
    assert numbers(units(t)["housing"].response) == (0, 1, 0)
    assert numbers(units(t)["city"].response) == (1, 1, 0)
    assert numbers(by_level(t)[dep].response) == (1, 2, 0)
    # the escalations by hand before each window closed charge no level
    for level in (HandlingLevel.ENTRANCE, HandlingLevel.GRID, HandlingLevel.COMMUNITY):
        assert by_level(t)[level].response.denominator == 0
    # the subdistrict held it an hour, then the dispatcher sent it on: counts for nobody
    assert by_level(t)[HandlingLevel.SUBDISTRICT].response.denominator == 0


def test_a_return_within_the_window_and_a_reassignment_after_acceptance(
    at_subdistrict, tree, subdistrict_dispatcher, housing_unit, housing_handler, city_unit, city_handler
):
    req = at_subdistrict
    dep = HandlingLevel.DEPARTMENT
    with at(T0 + H):
        services.dispatch_request(subdistrict_dispatcher, req, level=dep, unit=housing_unit)
        services.return_request(housing_handler, req, reason="不属于本单位职责")  # in time: no miss
        services.dispatch_request(subdistrict_dispatcher, req, level=dep, unit=city_unit)
        services.accept_request(city_handler, req)
    with at(T0 + 2 * H):
        services.reassign_request(
            subdistrict_dispatcher, req, level=dep, unit=housing_unit, reason="涉及维修资金"
        )
    with at(T0 + 10 * D):  # housing never accepted the reassigned request
        t = table(subdistrict_dispatcher, tree.subdistrict)
    assert [h[2:] for h in holdings(req)][-3:] == [
        (HoldingEnd.RETURNED, None),
        (HoldingEnd.REASSIGNED, True),
        ("", None),
    ]
    assert numbers(units(t)["city"].response) == (1, 1, 0)
    assert numbers(units(t)["housing"].response) == (0, 1, 0)  # only the reassigned window


@pytest.fixture
def in_hand(at_subdistrict, subdistrict_dispatcher, housing_unit, housing_handler):
    req = at_subdistrict
    with at(T0 + H):
        services.dispatch_request(
            subdistrict_dispatcher, req, level=HandlingLevel.DEPARTMENT, unit=housing_unit
        )
        services.accept_request(housing_handler, req)
    return req


def test_a_summoned_unit_that_reported_late_is_charged_in_its_own_row(
    in_hand, tree, subdistrict_dispatcher, city_unit, city_handler, login
):
    req = in_hand
    called = T0 + 2 * H
    with at(called):
        (assist,) = services.summon_units(
            subdistrict_dispatcher, req, units=[city_unit], kind=AssistKind.WHISTLE, note="楼顶现场会"
        )
    # 报到 within the rules' window (30 minutes by default); report back by the request's deadline
    assert assist.check_in_by == called + 30 * M and assist.report_by == req.resolve_by
    with at(called + 2 * H):  # 报到 90 minutes late
        services.check_in(city_handler, assist, note="已到场")
    with at(called + 3 * H):  # reported back in time
        services.report_back(city_handler, assist, report="已清理楼顶杂物")
    with at(req.resolve_by + H):
        t = table(subdistrict_dispatcher, tree.subdistrict)
    city = units(t)["city"]
    assert numbers(city.checkin) == (0, 1, 0)
    assert numbers(city.report_back) == (1, 1, 0)
    assert numbers(city.response) == (1, 2, 0)  # 报到 and report back are its response windows
    assert city.score.text == "50.0"
    assert numbers(units(t)["housing"].response) == (1, 1, 0)  # the owner: its own acceptance
    assert numbers(by_level(t)[HandlingLevel.DEPARTMENT].checkin) == (0, 1, 0)
    assert t.total.called and t.keys[-2:] == ("checkin", "report_back")
    # the page shows the two columns, in the unit's row
    with at(req.resolve_by + H):
        html = login(subdistrict_dispatcher).get(
            reverse("requests:rates"),
            {"place": tree.subdistrict.pk, "period": "custom", "from": "2026-12-01", "to": "2026-12-31"},
        )
    assert "Reported for duty in time (报到)" in html.content.decode()
    assert "reported for duty in time 0 ÷ due 1" in html.content.decode()


def test_the_checkin_window_is_data(in_hand, subdistrict_dispatcher, city_unit, city_handler):
    RequestRules.objects.update(whistle_checkin_minutes=180)
    called = T0 + 2 * H
    with at(called):
        (assist,) = services.summon_units(
            subdistrict_dispatcher, in_hand, units=[city_unit], kind=AssistKind.WHISTLE, note="现场会"
        )
    assert assist.check_in_by == called + 3 * H
    with at(called + 2 * H):
        services.check_in(city_handler, assist)
    with at(in_hand.resolve_by + H):
        t = metrics.rates(
            ServiceRequest.objects.all(),
            period_start=DEC[0],
            period_end=DEC[1],
            rules=RequestRules.objects.get(),
        )
    assert numbers(t.checkin) == (1, 1, 0)
    assert numbers(t.report_back) == (0, 1, 0)  # never reported back while the request was open


def test_a_unit_called_to_a_request_resolved_before_its_window_is_not_charged(
    in_hand, subdistrict_dispatcher, housing_handler, city_unit
):
    with at(T0 + 2 * H):
        services.summon_units(
            subdistrict_dispatcher, in_hand, units=[city_unit], kind=AssistKind.WHISTLE, note="现场会"
        )
        services.record_contact(housing_handler, in_hand, note="电话联系了居民")
    with at(T0 + 2 * H + 10 * M):
        services.resolve_request(housing_handler, in_hand, result="已修好")
    with at(T0 + 20 * D):
        t = metrics.rates(
            ServiceRequest.objects.all(),
            period_start=DEC[0],
            period_end=DEC[1],
            rules=RequestRules.objects.get(),
        )
    assert numbers(t.checkin) == (0, 0, 0) and numbers(t.report_back) == (0, 0, 0)


# --- the backfill migration ----------------------------------------------------------------------------
def backfill():
    migration = importlib.import_module("linjialin.service_requests.migrations.0018_holdings")
    migration.backfill(apps, None)


def test_the_backfill_rebuilds_holdings_from_the_timeline(
    escalated_by_the_sweep, tree, subdistrict_dispatcher
):
    req = escalated_by_the_sweep
    written = list(
        RequestHolding.objects.filter(request=req)
        .order_by("started_at")
        .values_list("level", "started_at", "accept_by", "accepted_at", "ended_at", "ended_how", "met")
    )
    with at(T0 + 5 * D):
        before = by_level(table(subdistrict_dispatcher, tree.subdistrict))
    RequestHolding.objects.all().delete()
    backfill()
    rebuilt = RequestHolding.objects.filter(request=req).order_by("started_at")
    assert all(h.backfilled for h in rebuilt)
    assert [
        (h.level, h.started_at, h.accept_by, h.accepted_at, h.ended_at, h.ended_how, h.met) for h in rebuilt
    ] == written
    with at(T0 + 5 * D):
        after = by_level(table(subdistrict_dispatcher, tree.subdistrict))
    for level in (HandlingLevel.ENTRANCE, HandlingLevel.GRID):
        assert numbers(after[level].response) == numbers(before[level].response)
    backfill()  # again: nothing more
    assert RequestHolding.objects.filter(request=req).count() == 2


def test_the_backfill_finds_units_and_the_windows_of_called_units(
    in_hand, subdistrict_dispatcher, housing_unit, city_unit
):
    with at(T0 + 2 * H):
        services.summon_units(
            subdistrict_dispatcher, in_hand, units=[city_unit], kind=AssistKind.WHISTLE, note="现场会"
        )
    expected = list(
        RequestHolding.objects.filter(request=in_hand).values_list("level", "unit_id", "ended_how")
    )
    RequestHolding.objects.all().delete()
    RequestAssist.objects.update(check_in_by=None, report_by=None)
    backfill()
    assert (
        list(RequestHolding.objects.filter(request=in_hand).values_list("level", "unit_id", "ended_how"))
        == expected
    )
    assist = RequestAssist.objects.get()
    assert assist.check_in_by == T0 + 2 * H + 30 * M and assist.report_by == in_hand.resolve_by
