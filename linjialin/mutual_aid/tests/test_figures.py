"""Mutual aid figures against a hand-computed March 2025 (per entrance, per community, the subdistrict),
the definitions' edge cases, the query count, and the page's permissions and input."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from linjialin.core.calendar import local_tz
from linjialin.mutual_aid import figures
from linjialin.mutual_aid.models import Kind, Post, PostState, Response, ResponseState
from linjialin.testing.plugin import make_user

pytestmark = pytest.mark.django_db

MARCH = (date(2025, 3, 1), date(2025, 4, 1))


def at(month, day, hour=10, minute=0):
    return datetime(2025, month, day, hour, minute, tzinfo=local_tz())


def _post(household, author, created, *, kind=Kind.NEED, state=PostState.OPEN, first=None, parent=None):
    entrance = household.parent
    return Post.objects.create(
        kind=kind,
        category="errands",
        text="帮忙",
        author=author,
        household=household,
        path=household.path,
        entrance=entrance,
        building=entrance.building,
        compound=entrance.compound,
        community=entrance.parent.parent,
        state=state,
        expires_at=created + timedelta(hours=48),
        created_at=created,
        first_response_at=first,
        parent=parent,
    )


def _respond(post, helper, state=ResponseState.OFFERED, household=None):
    return Response.objects.create(
        post=post,
        helper=helper,
        household=household or post.household,
        state=state,
        created_at=post.created_at,
    )


@pytest.fixture
def march(tree):
    author = make_user("13700004100", "作者")
    h1, h2, h3, h4, h5 = (make_user(f"1370000411{i}", f"帮手{i}") for i in range(1, 6))
    a1, a2, b1, x1 = tree.household_a1, tree.household_a2, tree.household_b1, tree.household_x1
    p1 = _post(a1, author, at(3, 1), state=PostState.DONE, first=at(3, 1, 10, 30))  # 30 min
    _respond(p1, h1, ResponseState.CHOSEN)
    _respond(p1, h2, ResponseState.NOT_CHOSEN)
    p2 = _post(a2, author, at(3, 2), state=PostState.EXPIRED, first=at(3, 2, 11, 30))  # 90 min
    _respond(p2, h2)
    _respond(p2, h5, ResponseState.WITHDRAWN)  # withdrawn: not a responder
    _post(a1, author, at(3, 3), state=PostState.WITHDRAWN)
    p4 = _post(a1, author, at(3, 4), kind=Kind.OFFER, parent=p1)  # the chain; an offer
    _respond(p4, h3)  # answers to offers are not help on needs
    p5 = _post(b1, author, at(3, 5), state=PostState.DONE, first=at(3, 5, 10, 10))  # 10 min
    _respond(p5, h1, ResponseState.CHOSEN)  # the same helper again
    _post(b1, author, at(3, 6))  # open, unanswered
    p7 = _post(x1, author, at(3, 7), state=PostState.DONE, first=at(3, 7, 10, 20))  # 20 min, community 2
    _respond(p7, h4, ResponseState.CHOSEN)
    _post(a1, author, at(2, 28, 23, 59), state=PostState.DONE)  # February
    _post(a1, author, at(4, 1, 0, 0), state=PostState.DONE)  # April
    return tree


def test_per_entrance_of_a_community(march):
    tree = march
    with CaptureQueriesContext(connection) as queries:
        rows, total = figures.rows(tree.community_1, *MARCH)
    assert len(queries) <= 5
    by = {r.place: r.figures for r in rows}
    assert list(by) == [tree.entrance_a, tree.entrance_b]
    a = by[tree.entrance_a]
    assert {
        k: a[k] for k in ("posts", "needs", "offers", "chains", "responded", "done", "expired", "withdrawn")
    } == {
        "posts": 4,
        "needs": 3,
        "offers": 1,
        "chains": 1,
        "responded": 2,
        "done": 1,
        "expired": 1,
        "withdrawn": 1,
    }
    assert a["median_response_minutes"] == 60.0  # 30 and 90
    assert a["fulfilled_rate"] == pytest.approx(1 / 3)
    assert (a["helpers"], a["responders"]) == (1, 2)
    b = by[tree.entrance_b]
    assert (b["posts"], b["needs"], b["responded"], b["median_response_minutes"]) == (2, 2, 1, 10.0)
    assert (b["fulfilled_rate"], b["helpers"], b["responders"]) == (1.0, 1, 1)
    assert total.place is None and total.label == tree.community_1.name
    t = total.figures
    assert (t["posts"], t["needs"], t["offers"], t["chains"], t["responded"]) == (6, 5, 1, 1, 3)
    assert t["median_response_minutes"] == 30.0  # 10, 30, 90
    assert t["fulfilled_rate"] == 0.5  # done 2 of 4 ended (done 2, expired 1, withdrawn 1)
    assert (t["helpers"], t["responders"]) == (1, 2)  # h1 helped twice: counted once


def test_per_community_of_the_subdistrict(march):
    tree = march
    rows, total = figures.rows(tree.subdistrict, *MARCH)
    by = {r.place: r.figures for r in rows}
    assert list(by) == [tree.community_1, tree.community_2]
    assert by[tree.community_1]["posts"] == 6
    c2 = by[tree.community_2]
    assert (c2["posts"], c2["needs"], c2["median_response_minutes"], c2["fulfilled_rate"], c2["helpers"]) == (
        1,
        1,
        20.0,
        1.0,
        1,
    )
    t = total.figures
    assert (t["posts"], t["needs"], t["responded"], t["done"]) == (7, 6, 4, 3)
    assert t["median_response_minutes"] == 25.0  # 10, 20, 30, 90
    assert t["fulfilled_rate"] == 0.6  # 3 of 5
    assert (t["helpers"], t["responders"]) == (2, 3)  # h1, h4; h1, h2, h4
    assert figures.compute(tree.subdistrict, *MARCH) == t


def test_nothing_in_the_period_is_zeros_and_no_rates(march):
    tree = march
    rows, total = figures.rows(tree.community_1, date(2024, 1, 1), date(2024, 2, 1))
    assert all(r.figures["posts"] == 0 for r in rows)
    assert total.figures["median_response_minutes"] is None
    assert total.figures["fulfilled_rate"] is None
    assert figures.rate_text(None) == "—" and figures.rate_text(0.5) == "50.0%"
    assert figures.fulfilled_rate(0, 0, 0) is None and figures.median_minutes([]) is None


def test_period_bounds_are_local_days(march):
    tree = march
    feb = figures.compute(tree.entrance_a, date(2025, 2, 28), date(2025, 3, 1))
    assert feb["posts"] == 1  # 23:59 local on the 28th
    april = figures.compute(tree.entrance_a, date(2025, 4, 1), date(2025, 4, 2))
    assert april["posts"] == 1  # 00:00 local on the 1st


# --- the page --------------------------------------------------------------------------------------------
def test_secretary_sees_the_entrances_of_their_community(march, login, community_secretary):
    url = reverse("mutual_aid:figures")
    page = login(community_secretary).get(
        url, {"place": march.community_1.pk, "start": "2025-03-01", "end": "2025-04-01"}
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert march.entrance_a.name in html and march.entrance_b.name in html
    assert 'id="aid-figures-total"' in html and "50.0%" in html
    assert "作者" not in html and "帮手" not in html  # counts only, never a name
    other = login(community_secretary).get(
        url, {"place": march.community_2.pk, "start": "2025-03-01", "end": "2025-04-01"}
    )
    assert other.status_code == 422  # not theirs: not a choice


def test_subdistrict_staff_see_communities_and_default_period(march, login, subdistrict_staff):
    page = login(subdistrict_staff).get(reverse("mutual_aid:figures"))
    assert page.status_code == 200
    page = login(subdistrict_staff).get(
        reverse("mutual_aid:figures"),
        {"place": march.subdistrict.pk, "start": "2025-03-01", "end": "2025-04-01"},
    )
    html = page.content.decode()
    assert march.community_1.name in html and march.community_2.name in html and "60.0%" in html


def test_bad_period_is_refused(march, login, community_secretary):
    from django.utils import translation

    client = login(community_secretary)
    with translation.override("en"):
        url = reverse("mutual_aid:figures")
        client.cookies["django_language"] = "en"
        page = client.get(url, {"place": march.community_1.pk, "start": "2025-04-01", "end": "2025-03-01"})
        assert page.status_code == 422
        assert "The end must be after the start." in page.content.decode()
        page = client.get(url, {"place": march.community_1.pk, "start": "x", "end": ""})
        assert page.status_code == 422


def test_residents_and_workers_without_the_right_get_403(march, login, resident_a, community_worker):
    for user in (resident_a, community_worker):
        assert login(user).get(reverse("mutual_aid:figures")).status_code == 403
