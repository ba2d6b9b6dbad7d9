"""退单 has a time limit: a unit may give back a wrongly dispatched request only within 2 working days of
receiving it (RequestRules.return_working_days, counted on the working-day calendar); after that it
handles it or asks the dispatcher to reassign it. A late return is refused with the last moment named
and nothing written; the page and the API no longer offer it."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from linjialin.accounts.models import RoleGrant
from linjialin.core.models import AuditEvent
from linjialin.service_requests import services, time_limits
from linjialin.service_requests.models import HandlingLevel, RequestEvent, RequestRules, State

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


def dispatched(tree, resident, dispatcher, when, **to):
    """A request the dispatcher sent at `when` (to the entrance unless told otherwise)."""
    RoleGrant.objects.update(valid_from="2026-01-01")
    with time_machine.travel(at(2026, 9, 1, 9, 0), tick=False):
        req = services.submit_request(
            resident, place=tree.household_a1, request_type="help", description="小区门口的路灯不亮"
        )
    with time_machine.travel(when, tick=False):
        services.dispatch_request(dispatcher, req, **({"level": HandlingLevel.ENTRANCE} | to))
    req.refresh_from_db()
    return req


def give_back(actor, req, when):
    with time_machine.travel(when, tick=False):
        return services.return_request(actor, req, reason="这是市政路灯，不归楼门")


def offered(client, req, when) -> list[str]:
    with time_machine.travel(when, tick=False):
        return client.get(reverse("requests:detail", args=[req.pk])).context["actions"]


def test_received_on_friday_it_may_be_returned_until_the_end_of_tuesday(
    tree, resident_a, entrance_leader_a, subdistrict_dispatcher, login
):
    req = dispatched(tree, resident_a, subdistrict_dispatcher, at(2026, 11, 6, 15, 0))  # Friday
    assert time_limits.give_back_until(req) == at(2026, 11, 10, 23, 59, 59, 999999)  # Tuesday
    client = login(entrance_leader_a)
    assert "return" in offered(client, req, at(2026, 11, 10, 23, 59))
    assert "return" not in offered(client, req, at(2026, 11, 11, 0, 0))
    events, audits = RequestEvent.objects.count(), AuditEvent.objects.count()
    with pytest.raises(ValidationError) as exc:
        give_back(entrance_leader_a, req, at(2026, 11, 11, 0, 0))  # Wednesday
    (message,) = exc.value.message_dict["reason"]
    assert message == (
        "A return (退单) was possible until 2026-11-10 23:59 (2 working days after the request reached "
        "you). Handle it, or ask the dispatcher to reassign it."
    )
    req.refresh_from_db()
    assert req.state == State.SUBMITTED
    assert (RequestEvent.objects.count(), AuditEvent.objects.count()) == (events, audits)  # nothing written


def test_within_the_window_the_return_goes_through(
    tree, resident_a, entrance_leader_a, subdistrict_dispatcher
):
    req = dispatched(tree, resident_a, subdistrict_dispatcher, at(2026, 11, 6, 15, 0))
    give_back(entrance_leader_a, req, at(2026, 11, 10, 23, 59))
    assert req.state == State.RETURNED


def test_the_holiday_does_not_count(tree, resident_a, entrance_leader_a, subdistrict_dispatcher):
    # received Wed 30 Sep; 1–7 Oct is the National Day holiday: Thu 8 and Fri 9 Oct are the two days
    req = dispatched(tree, resident_a, subdistrict_dispatcher, at(2026, 9, 30, 16, 0))
    assert time_limits.give_back_until(req) == at(2026, 10, 9, 23, 59, 59, 999999)
    with pytest.raises(ValidationError):
        give_back(entrance_leader_a, req, at(2026, 10, 10, 8, 0))  # the make-up Saturday: too late
    give_back(entrance_leader_a, req, at(2026, 10, 9, 17, 0))
    assert req.state == State.RETURNED


def test_the_window_is_data(tree, resident_a, entrance_leader_a, subdistrict_dispatcher):
    RequestRules.objects.update_or_create(pk=1, defaults={"return_working_days": 3})
    req = dispatched(tree, resident_a, subdistrict_dispatcher, at(2026, 11, 6, 15, 0))
    give_back(entrance_leader_a, req, at(2026, 11, 11, 12, 0))  # Wednesday: within 3 working days
    assert req.state == State.RETURNED


def test_a_department_late_must_ask_for_reassignment_and_the_new_unit_gets_its_own_window(
    tree,
    resident_a,
    subdistrict_dispatcher,
    housing_unit,
    housing_handler,
    city_unit,
    city_handler,
    login,
):
    req = dispatched(
        tree,
        resident_a,
        subdistrict_dispatcher,
        at(2026, 11, 2, 10, 0),  # Monday → returnable until the end of Wednesday
        level=HandlingLevel.DEPARTMENT,
        unit=housing_unit,
    )
    with time_machine.travel(at(2026, 11, 3, 9, 0), tick=False):
        services.accept_request(housing_handler, req)
    with pytest.raises(ValidationError):
        give_back(housing_handler, req, at(2026, 11, 5, 9, 0))
    # the dispatcher reassigns it on Thursday: the city unit may return it until the end of Monday
    with time_machine.travel(at(2026, 11, 5, 10, 0), tick=False):
        services.reassign_request(
            subdistrict_dispatcher, req, level=HandlingLevel.DEPARTMENT, unit=city_unit, reason="属城管职责"
        )
    assert time_limits.give_back_until(req) == at(2026, 11, 9, 23, 59, 59, 999999)
    give_back(city_handler, req, at(2026, 11, 9, 20, 0))
    assert req.state == State.RETURNED


def test_the_api_refuses_a_late_return_with_the_last_moment(
    tree, resident_a, entrance_leader_a, subdistrict_dispatcher, login
):
    req = dispatched(tree, resident_a, subdistrict_dispatcher, at(2026, 11, 6, 15, 0))
    client = login(entrance_leader_a)
    with time_machine.travel(at(2026, 11, 11, 9, 0), tick=False):
        detail = client.get(f"/api/v1/requests/{req.pk}")
        response = client.post(
            f"/api/v1/requests/{req.pk}/return",
            json.dumps({"reason": "不归我管"}),
            content_type="application/json",
        )
    assert "return" not in detail.json()["transitions"]
    assert response.status_code == 422, response.content
    assert "2026-11-10 23:59" in response.content.decode()


def test_someone_who_may_not_return_is_not_told_about_the_window(
    tree, resident_a, entrance_leader_a, subdistrict_dispatcher, grid_worker
):
    from django.core.exceptions import PermissionDenied

    req = dispatched(tree, resident_a, subdistrict_dispatcher, at(2026, 11, 6, 15, 0))
    with pytest.raises(PermissionDenied):
        give_back(grid_worker, req, at(2026, 11, 11, 9, 0))  # not a handler at the entrance level
