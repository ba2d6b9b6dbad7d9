"""A rate counts a request only once its window has closed, with an "in progress" count beside it; "due
soon" is the last quarter of a window, one definition for the queue, the desk and the sweep
(service_requests/due.py, docs/rates.md). Hand-computed, on a frozen clock.

December 2026, Shanghai time; now = 10 Dec 12:00. Acceptance deadline: submission + 24 h.
    a  submitted 10 Dec 11:50 (ten minutes old), not accepted
    b  submitted  1 Dec 09:00, accepted 10:00, resolved 3 Dec, rated 4 Dec: solved, 满意
    c  submitted  8 Dec 09:00, never accepted (its deadline passed 9 Dec 09:00)
    d  submitted  9 Dec 20:00, accepted 21:00 (its acceptance deadline 10 Dec 20:00 not passed yet)
At 10 Dec 12:00:
    响应率     windows closed: b (on time), c (missed)          → 1 / 2, in progress a, d = 2
    24 h       windows closed: b (hit), c (miss)               → 1 / 2, in progress a, d = 2
    7 days     windows closed: b (hit)                          → 1 / 1, in progress a, c, d = 3
    解决率     rated b (solved)                                  → 1 / 1, not rated yet a, c, d = 3
  (the old rule counted a as missed: 响应率 2 / 4 = 50 %, a request minutes old.)
At 20 Dec 12:00 every window has closed:
    响应率 b, d on time; a, c missed → 2 / 4;  24 h: b, d → 2 / 4;  7 days: b only → 1 / 4.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from linjialin.service_requests import metrics, services
from linjialin.service_requests.due import DueSoon, due_soon_from, is_due_soon
from linjialin.service_requests.models import (
    Category,
    RequestEvent,
    RequestRules,
    Satisfaction,
    ServiceRequest,
    State,
    TimeLimitPolicy,
)
from linjialin.service_requests.policy_cache import clear_cache as clear_policies

SH = ZoneInfo("Asia/Shanghai")
DEC = (datetime(2026, 12, 1, tzinfo=SH), datetime(2027, 1, 1, tzinfo=SH))
NOW = datetime(2026, 12, 10, 12, 0, tzinfo=SH)
H, D = timedelta(hours=1), timedelta(days=1)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def make(place, number, submitted_at, *, rating=None, **fields):
    req = ServiceRequest.objects.create(
        number=number,
        request_type="help",
        description="楼道灯坏了",
        place=place,
        path=place.path,
        submitted_at=submitted_at,
        accept_by=submitted_at + 24 * H,
        **fields,
    )
    if rating:
        RequestEvent.objects.create(request=req, kind="call_back", at=rating[0], data={})
    return req


@pytest.fixture
def four(tree):
    e = tree.entrance_a
    b_at = datetime(2026, 12, 1, 9, 0, tzinfo=SH)
    return {
        "a": make(e, "R1", datetime(2026, 12, 10, 11, 50, tzinfo=SH), state=State.SUBMITTED),
        "b": make(e, "R2", b_at, state=State.CLOSED, accepted_at=b_at + H, resolved_at=b_at + 2 * D,
                  solved=True, satisfaction=Satisfaction.SATISFIED, rating=(b_at + 3 * D,)),
        "c": make(e, "R3", datetime(2026, 12, 8, 9, 0, tzinfo=SH), state=State.SUBMITTED),
        "d": make(e, "R4", datetime(2026, 12, 9, 20, 0, tzinfo=SH), state=State.ACCEPTED,
                  accepted_at=datetime(2026, 12, 9, 21, 0, tzinfo=SH)),
    }  # fmt: skip


def december():
    return metrics.rates(
        ServiceRequest.objects.all(), period_start=DEC[0], period_end=DEC[1], rules=RequestRules.objects.get()
    )


def numbers(rate):
    return int(rate.numerator), rate.denominator, rate.pending


def test_a_rate_counts_a_request_only_once_its_window_has_closed(four):
    with time_machine.travel(NOW, tick=False):
        r = december()
    assert numbers(r.response) == (1, 2, 2)
    assert numbers(r.signoff) == (1, 2, 2)
    assert numbers(r.completion) == (1, 1, 3)
    assert numbers(r.resolution) == (1, 1, 3)
    assert r.response.percent == "50.0%" and r.completion.percent == "100.0%"
    assert r.score.text == "85.0"  # (50 × 30 + 100 × 35 + 100 × 35) ÷ 100: a ten-minute-old one is no miss


def test_once_every_window_has_closed_everything_counts(four):
    with time_machine.travel(NOW + 10 * D, tick=False):
        r = december()
    assert numbers(r.response) == (2, 4, 0)
    assert numbers(r.signoff) == (2, 4, 0)
    assert numbers(r.completion) == (1, 4, 0)


def test_a_request_minutes_old_is_in_progress_not_a_miss(tree):
    make(tree.entrance_a, "R9", NOW - 5 * 60 * timedelta(seconds=1), state=State.SUBMITTED)
    with time_machine.travel(NOW, tick=False):
        r = december()
    assert (r.response.percent, r.signoff.percent, r.completion.percent) == ("—", "—", "—")
    assert (r.response.pending, r.signoff.pending, r.completion.pending) == (1, 1, 1)
    assert r.score.text == "—"


def test_the_rates_page_shows_the_in_progress_count_and_scrolls_inside_its_frame(
    login, four, community_worker
):
    with time_machine.travel(NOW, tick=False):
        html = login(community_worker).get(reverse("requests:rates")).content.decode()
    assert "2 in progress" in html and "3 in progress" in html
    assert 'class="table-responsive mb-3 rates-scroll" tabindex="0" role="region"' in html
    assert "Swipe sideways to see every rate" in html


def test_the_api_gives_the_in_progress_count(login, four, community_worker):
    with time_machine.travel(NOW, tick=False):
        query = {"place": four["a"].place.parent.parent.pk, "from": "2026-12-01", "to": "2026-12-31"}
        body = login(community_worker).get("/api/v1/requests/rates", query).json()
    assert body["total"]["response"]["in_progress"] == 2 and body["total"]["completion"]["in_progress"] == 3


# --- due soon: the last quarter of the window ---------------------------------------------------------
@pytest.fixture
def eight_hours(db):
    """Help requests of normal urgency: 8 clock hours to accept (due soon in the last 2)."""
    TimeLimitPolicy.objects.create(
        request_type="help", urgency="normal", accept_amount=8, accept_unit="hours"
    )
    clear_policies()
    yield
    clear_policies()


T0 = datetime(2026, 12, 10, 8, 0, tzinfo=SH)


def submit(resident, tree):
    """A corridor light: handled at the entrance, by the 楼门长."""
    corridor = Category.objects.get(code="corridor")
    return services.submit_request(
        resident, place=tree.household_a1, request_type="help", description="楼道灯坏了", category=corridor
    )


@pytest.mark.parametrize(
    ("after", "soon"),
    [(timedelta(minutes=1), False), (5 * H, False), (5 * H + 59 * timedelta(minutes=1), False),
     (6 * H, True), (7 * H + 59 * timedelta(minutes=1), True), (8 * H, False)],
)  # fmt: skip
def test_due_soon_is_the_last_quarter_of_the_acceptance_window(tree, resident_a, eight_hours, after, soon):
    with time_machine.travel(T0, tick=False):
        req = submit(resident_a, tree)
    assert req.accept_by == T0 + 8 * H
    assert is_due_soon(req, T0 + after) is soon


def test_a_new_request_is_not_due_soon_in_the_queue_or_the_desk(
    login, tree, resident_a, entrance_leader_a, subdistrict_dispatcher, eight_hours
):
    with time_machine.travel(T0, tick=False):
        req = submit(resident_a, tree)
    queue, desk = reverse("requests:queue"), reverse("requests:desk")
    with time_machine.travel(T0 + H, tick=False):
        leader = login(entrance_leader_a)  # one client: each login replaces the previous one
        assert [r.pk for r in leader.get(queue, {"tab": "new"}).context["reqs"]] == [req.pk]
        assert leader.get(queue, {"tab": "due"}).context["reqs"] == []
        page = login(subdistrict_dispatcher).get(desk, {"tab": "open", "when": "due_soon"}).context["page"]
        assert req.pk not in [r.pk for r in page]
        assert DueSoon(T0 + H).ids(ServiceRequest.objects.all()) == []
    with time_machine.travel(T0 + 7 * H, tick=False):
        leader = login(entrance_leader_a)
        assert [r.pk for r in leader.get(queue, {"tab": "due"}).context["reqs"]] == [req.pk]
        page = login(subdistrict_dispatcher).get(desk, {"tab": "open", "when": "due_soon"}).context["page"]
        assert [r.pk for r in page] == [req.pk]
        assert DueSoon(T0 + 7 * H).ids(ServiceRequest.objects.all()) == [req.pk]


def test_due_soon_in_working_days_is_the_last_quarter_of_the_resolution_limit(
    tree, resident_a, entrance_leader_a, eight_hours
):
    """Resolution: 7 working days by default → due soon when 1.75 working days remain."""
    with time_machine.travel(T0, tick=False):
        req = submit(resident_a, tree)
        services.accept_request(entrance_leader_a, req)
    req.refresh_from_db()
    deadline = req.resolve_by
    # Thu 10 Dec + 7 working days → the end of Mon 21 Dec; 1.75 working days before: Fri 18 Dec 06:00
    assert deadline.astimezone(SH).date() == datetime(2026, 12, 21).date()
    assert due_soon_from(req).astimezone(SH).strftime("%m-%d %H:%M") == "12-18 05:59"
    assert not is_due_soon(req, T0 + H)
    assert not is_due_soon(req, datetime(2026, 12, 18, 5, 0, tzinfo=SH))
    assert is_due_soon(req, datetime(2026, 12, 18, 6, 0, tzinfo=SH))
    assert not is_due_soon(req, deadline + H)  # overdue, not due soon
