"""Moving out (PIPL art. 47): personal fields anonymised, statistics keep counting the household."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from linjialin.core.models import AuditEvent
from linjialin.places.models import Resident, ResidentTag
from linjialin.places.residency import anonymise_resident, move_out_resident
from linjialin.service_requests import services as request_services
from linjialin.service_requests.models import Category, ServiceRequest


def _submit(user, place):
    return request_services.submit_request(
        user,
        place=place,
        request_type="help",
        description="楼道灯坏了",
        category=Category.objects.get(code="corridor"),
        contact_name="张三",
        contact_mobile="13912345678",
    )


def test_moving_out_blanks_personal_fields_and_keeps_the_household_and_requests(
    tree, resident_a, community_worker
):
    req = _submit(resident_a, tree.household_a1)
    ResidentTag.objects.create(resident=tree.resident_a1, tag_id="elderly_alone", path=tree.resident_a1.path)
    path, requests_before = tree.resident_a1.path, ServiceRequest.objects.filter(path=req.path).count()

    move_out_resident(community_worker, tree.resident_a1, reason="已搬离本社区")

    r = Resident.objects.get(pk=tree.resident_a1.pk)
    assert r.moved_out_at is not None
    assert (r.mobile, r.id_number, r.birth_year, r.user_id) == ("", "", None, None)
    assert "张三" not in r.name and r.path == path and r.household_id == tree.household_a1.pk
    assert not ResidentTag.objects.filter(resident=r).exists()  # possibly sensitive: gone
    req.refresh_from_db()
    assert req.contact_name == "" and req.contact_mobile == ""  # the contact typed on the request
    assert ServiceRequest.objects.filter(path=req.path).count() == requests_before  # still counted
    assert req.state == ServiceRequest.objects.get(pk=req.pk).state
    event = AuditEvent.objects.get(action="resident.anonymised")
    assert event.actor == community_worker and event.reason == "已搬离本社区"
    assert "13800000001" not in str(event.before) and event.before["mobile"] == "138****0001"


def test_moved_out_resident_is_no_longer_listed_on_the_household_page(tree, community_worker, login):
    anonymise_resident(community_worker, tree.resident_a1, reason="搬走")
    page = login(community_worker).get(reverse("places:detail", args=[tree.household_a1.pk]))
    assert page.status_code == 200 and "张三" not in page.content.decode()


def test_moving_out_needs_the_roster_permission_and_a_reason(tree, grid_worker, outsider, community_worker):
    before = Resident.objects.values().get(pk=tree.resident_a1.pk)
    with pytest.raises(PermissionDenied):
        move_out_resident(grid_worker, tree.resident_a1, reason="搬走")
    with pytest.raises(PermissionDenied):
        move_out_resident(outsider, tree.resident_a1, reason="搬走")
    with pytest.raises(ValidationError):
        move_out_resident(community_worker, tree.resident_a1, reason=" ")
    assert Resident.objects.values().get(pk=tree.resident_a1.pk) == before
    assert not AuditEvent.objects.filter(action="resident.anonymised").exists()


def test_moving_out_twice_is_refused(tree, community_worker):
    move_out_resident(community_worker, tree.resident_a1, reason="搬走")
    with pytest.raises(ValidationError):
        move_out_resident(community_worker, tree.resident_a1, reason="再次")
    assert AuditEvent.objects.filter(action="resident.anonymised").count() == 1


def test_move_out_page_action(tree, community_worker, grid_worker, login):
    url = reverse("places:move_out", args=[tree.resident_a1.pk])
    assert login(grid_worker).post(url, {"reason": "搬走"}).status_code == 403
    response = login(community_worker).post(url, {"reason": "搬走"})
    assert response.status_code == 302
    assert Resident.objects.get(pk=tree.resident_a1.pk).moved_out_at is not None


def test_moved_out_resident_leaves_the_counts_and_the_roster_export(tree, community_worker, login):
    from linjialin.places import selectors

    before = selectors.place_totals(tree.community_1)["residents"]
    move_out_resident(community_worker, tree.resident_a1, reason="搬走")
    assert selectors.place_totals(tree.community_1)["residents"] == before - 1  # lives there no more
    response = login(community_worker).get(reverse("places:export", args=[tree.community_1.pk, "csv"]))
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert f"#{tree.resident_a1.pk}" not in body and "张三" not in body
