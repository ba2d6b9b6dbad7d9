"""The dispatcher desk and the staff panel on a request's page, over HTTP."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from linjialin.service_requests import services
from linjialin.service_requests.models import Category, HandlingLevel, RequestAssist, ServiceRequest, State


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _submit(user, place, text="楼顶漏水，需要维修"):
    return services.submit_request(
        user,
        place=place,
        request_type="help",
        description=text,
        category=Category.objects.get(code="corridor"),
    )


def _to_subdistrict(req, leader, grid_worker, community_worker):
    services.escalate_request(leader, req, reason="楼门解决不了")
    services.escalate_request(grid_worker, req, reason="网格解决不了")
    services.escalate_request(community_worker, req, reason="需要街道协调")
    return req


@pytest.fixture
def climbed(tree, resident_a, entrance_leader_a, grid_worker, community_worker):
    return [
        _to_subdistrict(
            _submit(resident_a, tree.household_a1, f"第{i}个问题"),
            entrance_leader_a,
            grid_worker,
            community_worker,
        )
        for i in range(3)
    ]


def test_the_desk_is_for_dispatchers(
    client, login, tree, resident_a, community_worker, subdistrict_dispatcher
):
    url = reverse("requests:desk")
    assert client.get(url).status_code == 302  # anonymous → login
    assert login(resident_a).get(url).status_code == 403
    assert login(community_worker).get(url).status_code == 403
    assert login(subdistrict_dispatcher).get(url).status_code == 200


def test_the_desk_lists_what_waits_for_dispatch_with_bounded_queries(
    login, climbed, subdistrict_dispatcher, housing_unit, django_assert_max_num_queries
):
    client = login(subdistrict_dispatcher)
    with django_assert_max_num_queries(20):
        page = client.get(reverse("requests:desk")).content.decode()
    for r in climbed:
        assert r.number in page
    assert "District housing commission" in page  # the unit table and the "send to" choices (English page)


def test_filters_narrow_the_queue(login, climbed, subdistrict_dispatcher, housing_unit):
    client = login(subdistrict_dispatcher)
    page = client.get(reverse("requests:desk"), {"q": climbed[0].number}).content.decode()
    assert climbed[0].number in page and climbed[1].number not in page
    page = client.get(reverse("requests:desk"), {"tab": "returned"}).content.decode()
    assert climbed[0].number not in page


def test_bulk_dispatch_sends_the_ticked_requests_and_lists_the_ones_that_cannot_go(
    login, climbed, subdistrict_dispatcher, housing_unit, resident_a
):
    services.withdraw_request(resident_a, climbed[2], reason="已自行解决")
    client = login(subdistrict_dispatcher)
    response = client.post(
        reverse("requests:bulk_dispatch"),
        {"ids": [r.pk for r in climbed], "send_to": f"unit:{housing_unit.pk}", "note": "请住建委处理"},
        follow=True,
    )
    page = response.content.decode()
    assert "2 request(s) dispatched." in page
    assert climbed[2].number in page  # the withdrawn one is listed with its reason
    states = dict(ServiceRequest.objects.values_list("pk", "unit_id"))
    assert states[climbed[0].pk] == states[climbed[1].pk] == housing_unit.pk
    assert states[climbed[2].pk] is None


def test_bulk_dispatch_without_a_destination_changes_nothing(login, climbed, subdistrict_dispatcher):
    client = login(subdistrict_dispatcher)
    page = client.post(
        reverse("requests:bulk_dispatch"), {"ids": [climbed[0].pk]}, follow=True
    ).content.decode()
    assert "Choose where the request goes." in page
    assert ServiceRequest.objects.get(pk=climbed[0].pk).state == State.ESCALATED


def test_whistle_check_in_and_report_back_from_the_request_page(
    login, climbed, subdistrict_dispatcher, housing_unit, housing_handler, city_unit, city_handler
):
    req = climbed[0]
    client = login(subdistrict_dispatcher)
    client.post(
        reverse("requests:desk_act", args=[req.pk, "dispatch"]), {"send_to": f"unit:{housing_unit.pk}"}
    )
    req.refresh_from_db()
    assert req.unit == housing_unit
    services.accept_request(housing_handler, req)
    response = client.post(reverse("requests:desk_act", args=[req.pk, "whistle"]), {"units": [city_unit.pk]})
    assert response.status_code == 422 and "Say what the units are summoned for" in response.content.decode()
    assert not RequestAssist.objects.exists()
    client.post(
        reverse("requests:desk_act", args=[req.pk, "whistle"]),
        {"units": [city_unit.pk], "note": "明早9点现场会"},
    )
    assist = RequestAssist.objects.get()
    city = login(city_handler)
    page = city.get(reverse("requests:detail", args=[req.pk])).content.decode()
    assert "Report for duty (报到)" in page
    city.post(reverse("requests:desk_act", args=[req.pk, "check_in"]), {"assist": assist.pk})
    city.post(
        reverse("requests:desk_act", args=[req.pk, "report_back"]),
        {"assist": assist.pk, "report": "已到场配合"},
    )
    assist.refresh_from_db()
    assert assist.checked_in_at and assist.report == "已到场配合"
    page = login(housing_handler).get(reverse("requests:detail", args=[req.pk])).content.decode()
    assert "已到场配合" in page and "District city management" in page


def test_reassign_needs_a_reason_and_not_accept_records_where_it_went(
    login, climbed, subdistrict_dispatcher, housing_unit, housing_handler, city_unit
):
    req = climbed[0]
    services.dispatch_request(subdistrict_dispatcher, req, level=HandlingLevel.DEPARTMENT, unit=housing_unit)
    services.accept_request(housing_handler, req)
    client = login(subdistrict_dispatcher)
    url = reverse("requests:desk_act", args=[req.pk, "reassign"])
    response = client.post(url, {"send_to": f"unit:{city_unit.pk}", "reason": ""})
    assert response.status_code == 422 and "Say why the request moves" in response.content.decode()
    client.post(url, {"send_to": f"unit:{city_unit.pk}", "reason": "属于城管职责"})
    req.refresh_from_db()
    assert req.unit == city_unit and req.handler is None
    other = climbed[1]
    client.post(
        reverse("requests:desk_act", args=[other.pk, "not_accept"]),
        {"reason": "属于司法诉讼事项", "referred_to": "区人民法院"},
    )
    other.refresh_from_db()
    assert other.state == State.NOT_ACCEPTED
    assert other.events.get(kind="not_accept").data == {"referred_to": "区人民法院"}


def test_an_outsider_gets_404_on_desk_actions(login, climbed, outsider, housing_unit):
    response = login(outsider).post(
        reverse("requests:desk_act", args=[climbed[0].pk, "dispatch"]), {"send_to": f"unit:{housing_unit.pk}"}
    )
    assert response.status_code == 404


def test_a_handler_cannot_dispatch_from_the_page(login, tree, resident_a, entrance_leader_a, housing_unit):
    req = _submit(resident_a, tree.household_a1)
    response = login(entrance_leader_a).post(
        reverse("requests:desk_act", args=[req.pk, "dispatch"]), {"send_to": f"unit:{housing_unit.pk}"}
    )
    assert response.status_code == 403
    req.refresh_from_db()
    assert req.unit is None and req.state == State.SUBMITTED


def test_a_dispatcher_corrects_the_category_and_the_router_gets_the_label(
    login, climbed, subdistrict_dispatcher, resident_a
):
    from linjialin.core.models import AuditEvent

    req = climbed[0]
    client = login(subdistrict_dispatcher)
    url = reverse("requests:desk_act", args=[req.pk, "recategorise"])
    response = client.post(url, {"category": "corridor"})
    assert response.status_code == 422 and "already has this category" in response.content.decode()
    assert client.post(url, {"category": "leak-roof", "note": "实为屋顶漏水"}).status_code == 302
    req.refresh_from_db()
    assert req.category.code == "leak-roof" and req.level == HandlingLevel.SUBDISTRICT  # it stays where it is
    event = req.events.get(kind="recategorise")
    assert event.data == {"from_category": "corridor", "to_category": "leak-roof"}
    assert AuditEvent.objects.filter(action="request.recategorise").count() == 1
    assert login(resident_a).post(url, {"category": "noise"}).status_code == 403  # the requester cannot
