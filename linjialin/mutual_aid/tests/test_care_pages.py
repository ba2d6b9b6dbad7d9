"""The care list pages over HTTP (care_views.py): who gets 200/403/404, the list (overdue first, only
consented tags), planning and recording on the household page, bad input 422, audited views."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from linjialin.core.models import AuditEvent
from linjialin.mutual_aid.models import CareVisit
from linjialin.mutual_aid.services import care

from .test_care_fixtures import _english, care_tags_fixture, entrance_leader_b_fixture  # noqa: F401


def url(name, *args):
    return reverse(f"mutual_aid:{name}", args=args)


def test_anonymous_is_sent_to_login(client, tree, care_tags):
    for target in (url("care"), url("care_household", tree.household_a1.pk)):
        response = client.get(target)
        assert response.status_code == 302 and "login" in response["Location"]


def test_the_entrance_leader_sees_their_care_list_on_the_phone_page(
    tree, care_tags, entrance_leader_a, login
):
    response = login(entrance_leader_a).get(url("care"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "张三" in body and "elderly living alone" in body
    assert "王五" not in body and "李四" not in body and "disability" not in body
    event = AuditEvent.objects.get(action="mutual_aid.care.list_viewed")
    assert event.actor == entrance_leader_a and event.after["households"] == 1


def test_overdue_households_come_first(tree, care_tags, grid_worker, login):
    care.plan_visit(grid_worker, household=tree.household_a1, planned_on=timezone.localdate())
    late = care.plan_visit(grid_worker, household=tree.household_b1, planned_on=timezone.localdate())
    CareVisit.objects.filter(pk=late.pk).update(planned_on=timezone.localdate() - timedelta(days=2))
    body = login(grid_worker).get(url("care")).content.decode()
    assert body.index("王五") < body.index("张三")
    assert "1 visit overdue" in body


@pytest.mark.parametrize("who", ["resident_a", "resident_b", "subdistrict_staff"])
def test_no_care_permission_gets_403_on_the_list_and_404_on_a_household(request, tree, care_tags, login, who):
    client = login(request.getfixturevalue(who))
    assert client.get(url("care")).status_code == 403
    assert client.get(url("care_household", tree.household_a1.pk)).status_code == 404
    assert (
        client.post(url("care_plan", tree.household_a1.pk), {"planned_on": "2030-01-01"}).status_code == 404
    )
    assert not AuditEvent.objects.filter(action__startswith="mutual_aid.care.").exists()


def test_outside_the_scope_is_404(tree, care_tags, entrance_leader_b, outsider, entrance_leader_a, login):
    for user in (entrance_leader_b, outsider):
        client = login(user)
        assert client.get(url("care_household", tree.household_a1.pk)).status_code == 404
        assert client.post(url("care_record", tree.household_a1.pk), {"note": "x"}).status_code == 404
    # in scope but not on the list (a tag without consent)
    assert login(entrance_leader_a).get(url("care_household", tree.household_a2.pk)).status_code == 404
    assert not CareVisit.objects.exists()


def test_plan_and_record_on_the_household_page(tree, care_tags, entrance_leader_a, grid_worker, login):
    client = login(entrance_leader_a)
    page = client.get(url("care_household", tree.household_a1.pk))
    assert page.status_code == 200 and "elderly living alone" in page.content.decode()
    assert AuditEvent.objects.filter(action="mutual_aid.care.household_viewed").count() == 1
    day = (timezone.localdate() + timedelta(days=2)).isoformat()
    response = client.post(
        url("care_plan", tree.household_a1.pk), {"planned_on": day, "visitor": grid_worker.pk}
    )
    assert response.status_code == 302
    visit = CareVisit.objects.get()
    assert visit.visitor == grid_worker and visit.planned_on.isoformat() == day
    response = client.post(url("care_record", tree.household_a1.pk), {"visit": visit.pk, "note": "一切安好"})
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.done_at is not None and visit.note == "一切安好"
    body = client.get(url("care_household", tree.household_a1.pk)).content.decode()
    assert "一切安好" in body and "Next visit" in body


def test_record_without_a_plan(tree, care_tags, entrance_leader_a, login):
    response = login(entrance_leader_a).post(url("care_record", tree.household_a1.pk), {"note": "顺路看望"})
    assert response.status_code == 302
    assert CareVisit.objects.filter(done_at__isnull=False).count() == 1
    assert CareVisit.objects.filter(done_at__isnull=True).count() == 1  # the next one, planned by itself


def test_bad_input_shows_the_form_again_with_422(tree, care_tags, entrance_leader_a, login):
    client = login(entrance_leader_a)
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    response = client.post(url("care_plan", tree.household_a1.pk), {"planned_on": yesterday})
    assert response.status_code == 422 and "The date cannot be in the past." in response.content.decode()
    response = client.post(url("care_record", tree.household_a1.pk), {"note": ""})
    assert response.status_code == 422
    assert not CareVisit.objects.exists()


def test_a_visit_of_another_household_cannot_be_recorded_through_this_page(
    tree, care_tags, grid_worker, login
):
    other = care.plan_visit(grid_worker, household=tree.household_b1, planned_on=timezone.localdate())
    response = login(grid_worker).post(
        url("care_record", tree.household_a1.pk), {"visit": other.pk, "note": "x"}
    )
    assert response.status_code == 403
    assert CareVisit.objects.get(pk=other.pk).done_at is None


def test_the_list_reads_a_fixed_number_of_statements(
    tree, care_tags, grid_worker, login, django_assert_max_num_queries
):
    from .test_care_fixtures import tag

    client = login(grid_worker)
    client.get(url("care"))  # warm the session and the per-process caches
    with django_assert_max_num_queries(20) as few:
        client.get(url("care"))
    for resident in (tree.resident_a2,):
        tag(resident, "pregnancy")
    for household in (tree.household_a1, tree.household_a2, tree.household_b1):
        care.plan_visit(grid_worker, household=household, planned_on=timezone.localdate())
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert "李四" in client.get(url("care")).content.decode()
