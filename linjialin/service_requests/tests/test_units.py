"""Handling units: dispatch to a unit, 首接负责 and reassignment with a reason, co-handling units and
吹哨 (each unit's 报到 and report back), unit supervisors deciding extensions, who sees what."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import translation

from linjialin.core.errors import Conflict
from linjialin.core.models import AuditEvent
from linjialin.notifications.models import Notification
from linjialin.service_requests import selectors, services
from linjialin.service_requests.models import (
    AssistKind,
    Category,
    HandlingLevel,
    RequestAssist,
    State,
)
from linjialin.testing.plugin import make_unit


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _at_subdistrict(tree, resident, leader, grid_worker, community_worker):
    """A request that climbed the chain to the subdistrict (楼门 → 网格 → 社区 → 街道)."""
    req = services.submit_request(
        resident,
        place=tree.household_a1,
        request_type="help",
        description="楼顶防水层破损，雨天漏水",
        category=Category.objects.get(code="corridor"),
    )
    services.escalate_request(leader, req, reason="楼门解决不了")
    services.escalate_request(grid_worker, req, reason="网格解决不了")
    services.escalate_request(community_worker, req, reason="需要街道协调")
    return req


@pytest.fixture
def req(tree, resident_a, entrance_leader_a, grid_worker, community_worker):
    req = _at_subdistrict(tree, resident_a, entrance_leader_a, grid_worker, community_worker)
    assert req.level == HandlingLevel.SUBDISTRICT and req.state == State.ESCALATED
    return req


def test_dispatch_to_a_unit_makes_its_members_the_handlers(
    req, subdistrict_dispatcher, housing_unit, housing_handler, city_handler
):
    with pytest.raises(ValidationError) as exc:
        services.dispatch_request(subdistrict_dispatcher, req, level=HandlingLevel.DEPARTMENT)
    assert "unit" in exc.value.message_dict
    services.dispatch_request(subdistrict_dispatcher, req, level=HandlingLevel.DEPARTMENT, unit=housing_unit)
    assert (req.state, req.level, req.unit) == (State.SUBMITTED, HandlingLevel.DEPARTMENT, housing_unit)
    # the members of the unit were told, nobody else
    told = set(Notification.objects.filter(kind="request.new").values_list("user_id", flat=True))
    assert housing_handler.pk in told and city_handler.pk not in told
    with pytest.raises(PermissionDenied):
        services.accept_request(city_handler, req)  # a department handler, but of another unit
    services.accept_request(housing_handler, req)
    assert req.handler == housing_handler


def test_a_unit_that_does_not_serve_the_place_is_refused(tree, req, subdistrict_dispatcher):
    elsewhere = make_unit(tree, "far", "外区单位")
    elsewhere.path = tree.community_2.path
    elsewhere.save()
    with pytest.raises(ValidationError, match="does not serve"):
        services.dispatch_request(subdistrict_dispatcher, req, level=HandlingLevel.DEPARTMENT, unit=elsewhere)
    req.refresh_from_db()
    assert req.state == State.ESCALATED and req.unit is None


def test_ownership_moves_only_by_a_dispatchers_reassignment_with_a_reason(
    req, subdistrict_dispatcher, housing_unit, housing_handler, city_unit, city_handler
):
    services.dispatch_request(subdistrict_dispatcher, req, level=HandlingLevel.DEPARTMENT, unit=housing_unit)
    services.accept_request(housing_handler, req)
    with pytest.raises(PermissionDenied):  # the owner cannot hand it on, nor can another unit take it
        services.reassign_request(
            housing_handler, req, level=HandlingLevel.DEPARTMENT, unit=city_unit, reason="x"
        )
    with pytest.raises(ValidationError):
        services.reassign_request(
            subdistrict_dispatcher, req, level=HandlingLevel.DEPARTMENT, unit=city_unit, reason=" "
        )
    with pytest.raises(ValidationError, match="already there"):
        services.reassign_request(
            subdistrict_dispatcher, req, level=HandlingLevel.DEPARTMENT, unit=housing_unit, reason="再派"
        )
    services.reassign_request(
        subdistrict_dispatcher, req, level=HandlingLevel.DEPARTMENT, unit=city_unit, reason="属于城管职责"
    )
    assert (req.state, req.unit, req.handler) == (State.SUBMITTED, city_unit, None)
    event = req.events.get(kind="reassign")
    assert event.note == "属于城管职责" and event.data["from_unit"] == "区住建委"
    assert AuditEvent.objects.filter(action="request.reassign", reason="属于城管职责").exists()
    assert Notification.objects.filter(user=housing_handler, kind="request.reassigned").exists()
    services.accept_request(city_handler, req)
    assert req.handler == city_handler


def test_two_dispatchers_reassign_at_once_exactly_one_wins(
    req, tree, subdistrict_dispatcher, housing_unit, housing_handler, city_unit
):
    from linjialin.service_requests.models import ServiceRequest
    from linjialin.testing.plugin import make_user

    other = make_user("13900000030", "另一派单员", "subdistrict_dispatcher", tree.subdistrict)
    services.dispatch_request(subdistrict_dispatcher, req, level=HandlingLevel.DEPARTMENT, unit=housing_unit)
    services.accept_request(housing_handler, req)
    first, second = ServiceRequest.objects.get(pk=req.pk), ServiceRequest.objects.get(pk=req.pk)
    services.reassign_request(
        subdistrict_dispatcher, first, level=HandlingLevel.DEPARTMENT, unit=city_unit, reason="城管"
    )
    with pytest.raises(Conflict):
        services.reassign_request(other, second, level=HandlingLevel.COMMUNITY, reason="回社区")
    req.refresh_from_db()
    assert req.unit == city_unit and req.events.filter(kind="reassign").count() == 1


def test_whistle_summons_units_and_records_each_check_in(
    req, subdistrict_dispatcher, housing_unit, housing_handler, city_unit, city_handler, resident_a
):
    services.dispatch_request(subdistrict_dispatcher, req, level=HandlingLevel.DEPARTMENT, unit=housing_unit)
    services.accept_request(housing_handler, req)
    with pytest.raises(PermissionDenied):  # a resident cannot blow the whistle
        services.summon_units(resident_a, req, units=[city_unit], kind=AssistKind.WHISTLE, note="现场会")
    with pytest.raises(ValidationError):  # a whistle says what for
        services.summon_units(subdistrict_dispatcher, req, units=[city_unit], kind=AssistKind.WHISTLE)
    with pytest.raises(ValidationError, match="already on this request"):  # the owner is not summoned
        services.summon_units(
            subdistrict_dispatcher,
            req,
            units=[housing_unit, city_unit],
            kind=AssistKind.WHISTLE,
            note="现场会",
        )
    assert not RequestAssist.objects.exists()  # nothing half-written
    (assist,) = services.summon_units(
        subdistrict_dispatcher, req, units=[city_unit], kind=AssistKind.WHISTLE, note="明早9点现场会"
    )
    assert Notification.objects.filter(user=city_handler, kind="request.whistle").exists()
    with pytest.raises(PermissionDenied):  # only the summoned unit reports for duty
        services.check_in(housing_handler, assist)
    services.check_in(city_handler, assist, note="已到场")
    assert assist.checked_in_at is not None and assist.checked_in_by == city_handler
    with pytest.raises(Conflict, match="already reported"):
        services.check_in(city_handler, assist)
    services.report_back(city_handler, assist, report="已清理楼顶杂物，配合住建委施工")
    assert Notification.objects.filter(user=housing_handler, kind="request.report_back").exists()
    kinds = list(req.events.values_list("kind", flat=True))
    assert kinds[-3:] == ["whistle", "check_in", "report_back"]
    assert AuditEvent.objects.filter(action="request.check_in").count() == 1
    # the summoned unit's member sees the request; the owner stays responsible
    assert selectors.get_request_for_user(city_handler, req.pk) == req
    assert req.handler == housing_handler


def test_co_handling_units_are_added_by_the_owner_while_in_hand(
    req, subdistrict_dispatcher, housing_unit, housing_handler, city_unit, city_handler, housing_supervisor
):
    services.dispatch_request(subdistrict_dispatcher, req, level=HandlingLevel.DEPARTMENT, unit=housing_unit)
    with pytest.raises(PermissionDenied):  # not accepted yet: nobody owns it
        services.summon_units(housing_handler, req, units=[city_unit], kind=AssistKind.CO_HANDLE)
    services.accept_request(housing_handler, req)
    with pytest.raises(PermissionDenied):  # a co-unit cannot add itself
        services.summon_units(city_handler, req, units=[city_unit], kind=AssistKind.CO_HANDLE)
    (assist,) = services.summon_units(housing_handler, req, units=[city_unit], kind=AssistKind.CO_HANDLE)
    services.report_back(city_handler, assist, report="路灯已修复")
    assist.refresh_from_db()
    assert assist.checked_in_at is not None  # a report back counts as 报到
    with pytest.raises(Conflict):
        services.report_back(city_handler, assist, report="再报一次")
    with pytest.raises(PermissionDenied):  # helping does not make the co-unit a handler
        services.resolve_request(city_handler, req, result="完成")


def test_the_units_supervisor_decides_its_extensions(
    req, subdistrict_dispatcher, housing_unit, housing_handler, housing_supervisor, city_handler
):
    services.dispatch_request(subdistrict_dispatcher, req, level=HandlingLevel.DEPARTMENT, unit=housing_unit)
    services.accept_request(housing_handler, req)
    services.record_contact(housing_handler, req, note="电话联系居民")
    services.request_extension(housing_handler, req, days=5, reason="需要等待材料")
    with pytest.raises(PermissionDenied):
        services.decide_extension(housing_handler, req, grant=True)  # a member, not a supervisor
    with pytest.raises(PermissionDenied):
        services.decide_extension(city_handler, req, grant=True)  # another unit
    services.decide_extension(housing_supervisor, req, grant=True)
    assert req.state == State.IN_PROGRESS


def test_outsiders_do_not_see_a_units_request(
    req, outsider, city_handler, subdistrict_dispatcher, housing_unit
):
    services.dispatch_request(subdistrict_dispatcher, req, level=HandlingLevel.DEPARTMENT, unit=housing_unit)
    with pytest.raises(Http404):
        selectors.get_request_for_user(outsider, req.pk)
    # a department handler holds requests.view over the subdistrict, so city_handler sees it (masked)
    assert selectors.get_request_for_user(city_handler, req.pk) == req
    assert selectors.requester_contact(city_handler, req).masked
