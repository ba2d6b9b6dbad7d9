"""The queue shows per row its voices (the requester and the co-requesters) and a hint when it may be a
duplicate of another open request at the same entrance; the page's query count does not grow with the
rows."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from linjialin.service_requests import services

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def queue_url():
    return reverse("requests:queue")  # under the English override: /en/…


def submit(user, place, text):
    return services.submit_request(user, place=place, request_type="help", description=text)


def test_the_queue_shows_voices_of_a_joined_request(login, tree, resident_a, resident_b, entrance_leader_a):
    req = submit(resident_a, tree.entrance_a, "单元门的门禁坏了，关不上")
    services.join_request(resident_b, req, note="我们也常走这个门")
    response = login(entrance_leader_a).get(queue_url())
    (row,) = response.context["reqs"]
    assert row.pk == req.pk and row.voices == 2
    assert "2 voices" in response.content.decode()


def test_the_queue_hints_at_a_possible_duplicate(login, tree, resident_a, entrance_leader_a):
    first = submit(resident_a, tree.household_a1, "楼道灯坏了，晚上看不见台阶")
    second = submit(entrance_leader_a, tree.household_a2, "楼道的灯坏了，晚上看不见台阶")
    other = submit(entrance_leader_a, tree.household_a2, "家里水管漏水，楼下被淹")
    response = login(entrance_leader_a).get(queue_url())
    rows = {r.pk: r for r in response.context["reqs"]}
    assert rows[first.pk].duplicate_of == second and rows[second.pk].duplicate_of == first
    assert rows[other.pk].duplicate_of is None and rows[other.pk].voices == 1
    html = response.content.decode()
    assert f"Possibly the same as {second.number}" in html
    assert f"Possibly the same as {other.number}" not in html


def test_a_request_at_another_entrance_is_no_duplicate_hint(tree, resident_a, resident_b):
    from linjialin.service_requests.duplicates import queue_hints

    a = submit(resident_a, tree.household_a1, "楼道灯坏了，晚上看不见台阶")
    b = submit(resident_b, tree.household_b1, "楼道灯坏了，晚上看不见台阶")
    assert queue_hints([a, b], [a, b]) == {}  # entrance A and entrance B: different stairwells


def test_the_queue_query_count_does_not_grow_with_the_rows(
    login, tree, resident_a, entrance_leader_a, django_assert_max_num_queries
):
    for i in range(3):
        submit(resident_a, tree.household_a1, f"第{i}件：楼道灯坏了")
    client = login(entrance_leader_a)
    client.get(queue_url())
    with django_assert_max_num_queries(20) as few:
        client.get(queue_url())
    for i in range(12):
        submit(resident_a, tree.household_a1, f"第{i + 3}件：门禁坏了")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(queue_url())
    assert len(response.context["reqs"]) == 15
