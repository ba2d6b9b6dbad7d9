"""End to end over HTTP, the long way round: a resident's request climbs 楼门 → 网格 → 社区 → 街道; the
dispatcher sends it to a department, which returns it (退单); the dispatcher reviews it and sends it to
another unit; 吹哨 brings a second unit, which reports for duty (报到) and back; an extension is asked and
granted (the requester sees the new deadline and the reason); the deadline passes and the sweep puts it
under supervision (督办); it is resolved, the resident answers 不满意, it is reopened (重办), resolved
again and closed with a good rating. Every step is a page or API call by the person who would do it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import translation

from linjialin.core.models import AuditEvent
from linjialin.notifications.models import Notification
from linjialin.service_requests import sweep
from linjialin.service_requests.models import HandlingLevel, RequestAssist, ServiceRequest, State
from linjialin.testing.plugin import make_unit_member

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 12, 7, 9, 0, tzinfo=SHANGHAI)  # a Monday after the grants begin (today)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def as_(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def act(client, req, name, text=""):
    return client.post(reverse("requests:act", args=[req.pk, name]), {"text": text})


def desk(client, req, name, **data):
    return client.post(reverse("requests:desk_act", args=[req.pk, name]), data)


def state(req) -> tuple[str, int, str | None]:
    req.refresh_from_db()
    return req.state, req.level, req.unit.code if req.unit_id else None


def test_escalation_to_a_department_with_whistle_extension_return_supervision_and_reopen(
    tree,
    resident_a,
    entrance_leader_a,
    grid_worker,
    community_worker,
    subdistrict_dispatcher,
    community_secretary,
    housing_unit,
    housing_handler,
    city_unit,
    city_handler,
):
    city_chief = make_unit_member(city_unit, "13900000015", "城管委科长", supervisor=True)
    traveller = time_machine.travel(START, tick=False)
    traveller.start()
    try:
        # the resident submits over the API from the phone
        resident = as_(resident_a)
        body = {
            "place_id": tree.household_a1.pk,
            "request_type": "complaint",
            "description": "小区主路井盖破损塌陷，晚上有人差点摔倒",
            "category": "corridor",
            "client_token": "e2e-1",
        }
        response = resident.post("/api/v1/requests/", json.dumps(body), content_type="application/json")
        assert response.status_code == 201, response.content
        req = ServiceRequest.objects.get(pk=response.json()["id"])
        assert state(req) == (State.SUBMITTED, HandlingLevel.ENTRANCE, None)

        # up the chain: 楼门 → 网格 → 社区 → 街道
        assert (
            act(as_(entrance_leader_a), req, "escalate", "井盖属于市政设施，楼门解决不了").status_code == 302
        )
        assert act(as_(grid_worker), req, "escalate", "需要社区协调").status_code == 302
        assert act(as_(community_worker), req, "escalate", "需要街道派给职能部门").status_code == 302
        assert state(req) == (State.ESCALATED, HandlingLevel.SUBDISTRICT, None)

        # the dispatcher finds it on the desk and sends it to 区住建委
        dispatcher = as_(subdistrict_dispatcher)
        page = dispatcher.get(reverse("requests:desk")).content.decode()
        assert req.number in page
        assert desk(dispatcher, req, "dispatch", send_to=f"unit:{housing_unit.pk}").status_code == 302
        assert state(req) == (State.SUBMITTED, HandlingLevel.DEPARTMENT, "housing")

        # 区住建委 returns it (退单) with a reason; the dispatcher reviews it in the "returned" queue
        housing = as_(housing_handler)
        assert act(housing, req, "return", "").status_code == 422  # a 退单 needs a reason
        assert act(housing, req, "return", "井盖属于城管委职责，不属于住建委").status_code == 302
        assert state(req)[0] == State.RETURNED
        returned = dispatcher.get(reverse("requests:desk"), {"tab": "returned"}).content.decode()
        assert req.number in returned
        assert (
            desk(
                dispatcher, req, "dispatch", send_to=f"unit:{city_unit.pk}", note="退单审核：转城管委"
            ).status_code
            == 302
        )
        assert state(req) == (State.SUBMITTED, HandlingLevel.DEPARTMENT, "city")

        # 区城管委 accepts (首接负责) and records the contact; 区住建委 can no longer act on it
        city = as_(city_handler)
        assert act(housing, req, "accept").status_code == 403
        assert act(city, req, "accept").status_code == 302
        assert act(city, req, "contact", "电话联系居民，已设置警示标志").status_code == 302
        assert state(req)[0] == State.IN_PROGRESS

        # 吹哨: the dispatcher summons 区住建委 to a joint handling; it reports for duty and back
        assert (
            desk(dispatcher, req, "whistle", units=[housing_unit.pk], note="周三9点现场会").status_code == 302
        )
        assist = RequestAssist.objects.get(request=req, unit=housing_unit)
        traveller.stop()
        traveller = time_machine.travel(START + timedelta(days=1, hours=1), tick=False)
        traveller.start()
        housing = as_(housing_handler)
        assert desk(housing, req, "check_in", assist=assist.pk, note="已到现场").status_code == 302
        assert (
            desk(housing, req, "report_back", assist=assist.pk, report="已核实管线，配合更换").status_code
            == 302
        )
        assist.refresh_from_db()
        assert assist.checked_in_at == START + timedelta(days=1, hours=1)

        # an extension: asked by the owner, granted by the unit's supervisor; the requester sees it
        city = as_(city_handler)
        due_before = ServiceRequest.objects.get(pk=req.pk).resolve_by
        assert desk(city, req, "request_extension", days="3", reason="需要订购专用井盖").status_code == 302
        assert desk(as_(city_handler), req, "grant_extension", decision="grant").status_code == 403
        assert desk(as_(city_chief), req, "grant_extension", decision="grant").status_code == 302
        req.refresh_from_db()
        assert req.state == State.IN_PROGRESS and req.resolve_by > due_before
        resident = as_(resident_a)
        page = resident.get(reverse("requests:detail", args=[req.pk])).content.decode()
        assert "需要订购专用井盖" in page
        assert f"{req.resolve_by.astimezone(SHANGHAI):%Y-%m-%d %H:%M}" in page

        # the deadline passes: the sweep puts it under supervision (督办), once
        traveller.stop()
        late = req.resolve_by + timedelta(minutes=5)
        traveller = time_machine.travel(late, tick=False)
        traveller.start()
        assert sweep.sweep(late).supervised == [req.pk]
        assert sweep.sweep(late + timedelta(minutes=1)).supervised == []
        req.refresh_from_db()
        assert req.supervised
        assert Notification.objects.filter(user=city_handler, kind="request.overdue").count() == 1
        page = as_(resident_a).get(reverse("requests:detail", args=[req.pk])).content.decode()
        assert "督办" in page  # the badge, in either language

        # resolved; the resident is not satisfied → reopened (重办); resolved again; rated well → closed
        city = as_(city_handler)
        assert act(city, req, "resolve", "已更换井盖").status_code == 302
        resident = as_(resident_a)
        rate = reverse("requests:rate", args=[req.pk])
        assert (
            resident.post(
                rate, {"solved": "no", "satisfaction": "unsatisfied", "comment": "周边路面没修"}
            ).status_code
            == 302
        )
        req.refresh_from_db()
        assert (req.state, req.reopen_count) == (State.IN_PROGRESS, 1)
        assert act(city, req, "resolve", "井盖和周边路面都已修复").status_code == 302
        assert resident.post(rate, {"solved": "yes", "satisfaction": "satisfied"}).status_code == 302
        req.refresh_from_db()
        assert req.state == State.CLOSED and req.satisfaction == "satisfied"
    finally:
        traveller.stop()

    kinds = list(req.events.values_list("kind", flat=True))
    assert kinds == [
        "submitted",
        "escalate",
        "escalate",
        "escalate",
        "dispatch",
        "return",
        "dispatch",
        "accept",
        "contact",
        "whistle",
        "check_in",
        "report_back",
        "request_extension",
        "grant_extension",
        "overdue",
        "resolve",
        "call_back",
        "reopen",
        "resolve",
        "call_back",
        "close",
    ]
    # every step is in the audit trail too, and the chain still verifies
    actions = set(AuditEvent.objects.filter(object_id=str(req.pk)).values_list("action", flat=True))
    assert {
        "request.whistle",
        "request.check_in",
        "request.return",
        "request.overdue",
        "request.reopen",
    } <= actions
    from linjialin.core import audit

    assert audit.verify().ok
