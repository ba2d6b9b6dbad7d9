"""Who sees which requests, the overdue filter, and the masked contact."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.http import Http404

from linjialin.core.models import AuditEvent
from linjialin.service_requests import selectors, services
from linjialin.service_requests.models import Category


def submit(user, place):
    return services.submit_request(
        user,
        place=place,
        request_type="help",
        description="楼道灯坏了",
        category=Category.objects.get(code="corridor"),
        contact_mobile="13912345678",
    )


@pytest.fixture
def two(tree, resident_a, resident_b):
    return submit(resident_a, tree.household_a1), submit(resident_b, tree.household_b1)


def test_a_resident_sees_only_their_own_requests(two, resident_a, resident_b):
    mine, theirs = two
    assert list(selectors.list_requests_for_user(resident_a)) == [mine]
    assert selectors.get_request_for_user(resident_a, mine.pk) == mine
    with pytest.raises(Http404):
        selectors.get_request_for_user(resident_a, theirs.pk)
    with pytest.raises(Http404):
        selectors.get_request_for_user(resident_a, "not-a-number")


def test_staff_see_their_scope_and_outsiders_nothing(two, grid_worker, outsider, subdistrict_dispatcher):
    assert set(selectors.list_requests_for_user(grid_worker)) == set(two)
    assert set(selectors.list_requests_for_user(subdistrict_dispatcher)) == set(two)
    assert list(selectors.list_requests_for_user(outsider)) == []
    with pytest.raises(Http404):
        selectors.get_request_for_user(outsider, two[0].pk)


def test_the_admin_sees_every_request_and_can_open_each_from_the_queue(two, admin, client):
    # the admin's scope is everywhere: it must not shrink to the requests the admin filed or handles
    assert set(selectors.list_requests_for_user(admin)) == set(two)
    assert selectors.get_request_for_user(admin, two[1].pk) == two[1]
    client.force_login(admin)
    queue = client.get("/requests/queue/")
    assert queue.status_code == 200
    for req in two:
        assert f"/requests/{req.pk}/" in queue.content.decode()
        assert client.get(f"/requests/{req.pk}/").status_code == 200
    assert client.get("/requests/board/").status_code == 200  # the entrance boards of everywhere


def test_overdue_filter_follows_the_acceptance_deadline(two, grid_worker, entrance_leader_a):
    services.accept_request(entrance_leader_a, two[0])
    submitted = two[1].submitted_at  # the acceptance window is 24 clock hours (the default policy)
    with time_machine.travel(submitted + timedelta(hours=23), tick=False):
        assert list(selectors.list_requests_for_user(grid_worker, overdue=True)) == []
    with time_machine.travel(submitted + timedelta(hours=25), tick=False):
        assert list(selectors.list_requests_for_user(grid_worker, overdue=True)) == [two[1]]
        assert list(selectors.list_requests_for_user(grid_worker, overdue=False)) == [two[0]]


def test_contact_is_masked_for_other_staff_and_the_requester_sees_their_own_unaudited(
    two, grid_worker, resident_a, entrance_leader_a
):
    req = two[0]
    assert selectors.requester_contact(grid_worker, req) == selectors.Contact("张*", "139****5678", True)
    assert selectors.requester_contact(resident_a, req) == selectors.Contact("张三", "13912345678", False)
    assert not AuditEvent.objects.filter(action="request.contact_viewed").exists()
    services.accept_request(entrance_leader_a, req)
    assert selectors.requester_contact(entrance_leader_a, req).masked is False
    event = AuditEvent.objects.get(action="request.contact_viewed")
    assert event.actor == entrance_leader_a and event.object_id == str(req.pk)
