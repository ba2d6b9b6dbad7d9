"""The care list paginated (50 a page, overdue first across all pages) and searchable by household
(building, unit, room) or a resident's name, within the user's care scope only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from linjialin.mutual_aid import care_selectors
from linjialin.mutual_aid.models import CareVisit
from linjialin.mutual_aid.services import care
from linjialin.places.models import Level, Resident
from linjialin.places.services import new_place

from .test_care_fixtures import _english, care_tags_fixture, tag  # noqa: F401

pytestmark = pytest.mark.django_db
URL = reverse("mutual_aid:care")


def many_on_the_list(entrance, n: int) -> list:
    """n more households in `entrance`, each with one elderly resident living alone (consented)."""
    made = []
    for i in range(n):
        room = str(1001 + i)
        name = f"{entrance.name}{room}"
        household = new_place(entrance, level=Level.HOUSEHOLD, code=room, name=name, room=room)
        household.save()
        resident = Resident.objects.create(household=household, path=household.path, name=f"住户{room}")
        tag(resident, "elderly_alone")
        made.append(household)
    return made


def test_the_list_is_paginated_fifty_a_page_with_overdue_first(tree, care_tags, grid_worker, login):
    extra = many_on_the_list(tree.entrance_b, 60)  # + a1, b1 in the grid = 62 households
    late = care.plan_visit(grid_worker, household=extra[-1], planned_on=timezone.localdate())
    CareVisit.objects.filter(pk=late.pk).update(planned_on=timezone.localdate() - timedelta(days=3))
    client = login(grid_worker)
    first = client.get(URL)
    html = first.content.decode()
    assert first.status_code == 200
    assert len(first.context["rows"]) == 50 and first.context["total"] == 62
    assert first.context["rows"][0].household == extra[-1]  # the overdue one, though last in the tree
    assert first.context["overdue"] == 1 and first.context["page"].paginator.num_pages == 2
    assert "page=2" in html
    second = client.get(URL, {"page": 2})
    assert len(second.context["rows"]) == 12
    shown = {r.household.pk for r in first.context["rows"]} | {r.household.pk for r in second.context["rows"]}
    assert len(shown) == 62


def test_the_list_is_searchable_by_room_and_by_name(tree, care_tags, grid_worker, login):
    many_on_the_list(tree.entrance_b, 30)
    client = login(grid_worker)
    by_room = client.get(URL, {"q": "2单元 1015"}).context["rows"]
    assert [r.household.room for r in by_room] == ["1015"]
    by_name = client.get(URL, {"q": "张三"}).context["rows"]
    assert [r.household for r in by_name] == [tree.household_a1]
    none = client.get(URL, {"q": "不存在的人"})
    assert none.context["rows"] == [] and "关爱名单中没有匹配的住户。" in none.content.decode()


def test_the_search_stays_inside_the_care_scope(tree, care_tags, entrance_leader_a, login):
    client = login(entrance_leader_a)
    assert client.get(URL, {"q": "赵六"}).context["rows"] == []  # community 2: not theirs
    assert client.get(URL, {"q": "王五"}).context["rows"] == []  # entrance B: not theirs
    assert [r.household for r in client.get(URL, {"q": "张三"}).context["rows"]] == [tree.household_a1]


def test_a_page_reads_a_bounded_number_of_queries(
    tree, care_tags, grid_worker, login, django_assert_max_num_queries
):
    many_on_the_list(tree.entrance_b, 70)
    client = login(grid_worker)
    client.get(URL)  # warm the caches of the session and the grants
    with django_assert_max_num_queries(25):
        response = client.get(URL, {"page": 2})
    assert len(response.context["rows"]) == 22


def test_the_selector_gives_nothing_without_the_care_permission(tree, care_tags, resident_a):
    found = care_selectors.care_page_for_user(resident_a)
    assert (found.rows, found.total) == ([], 0)
