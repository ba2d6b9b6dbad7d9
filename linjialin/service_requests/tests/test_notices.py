"""Everyone is told at every step of a request (docs/notifications.md): who gets each notice (and nobody
else), in each recipient's own language, with a link to the request; notices read when the request is
opened or has moved on."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from linjialin.notifications.models import Notification
from linjialin.notifications.services import subject_of
from linjialin.service_requests import hotline, services
from linjialin.service_requests.models import AssistKind, Category, Channel, HandlingLevel, State
from linjialin.service_requests.sweep import sweep
from linjialin.testing.plugin import make_user


@pytest.fixture(autouse=True)
def _chinese_site():
    # the site language is Chinese; each recipient's notice follows their own User.language
    with translation.override("zh-hans"):
        yield


def english(user):
    user.language = "en"
    user.save(update_fields=["language"])
    return user


@pytest.fixture
def resident_a2(tree):
    user = make_user("13900000012", "李四", "resident", tree.household_a2)
    tree.resident_a2.user = user
    tree.resident_a2.save(update_fields=["user"])
    return user


def told(kind, req) -> set[int]:
    return set(
        Notification.objects.filter(kind=kind, subject=subject_of(req)).values_list("user_id", flat=True)
    )


def notice(kind, req, user) -> Notification:
    return Notification.objects.get(kind=kind, subject=subject_of(req), user=user)


def unread(user, req) -> set[str]:
    rows = Notification.objects.filter(user=user, subject=subject_of(req), read_at__isnull=True)
    return set(rows.values_list("kind", flat=True))


def corridor():
    return Category.objects.get(code="corridor")


def at_entrance(resident, tree, text="楼道灯坏了，晚上看不见"):
    """A request at entrance A's shared stairwell (handled at the entrance: the 楼门长's)."""
    return services.submit_request(
        resident, place=tree.entrance_a, request_type="help", description=text, category=corridor()
    )


# --- a new request and a 我也遇到 join -------------------------------------------------------------------
def test_a_new_request_tells_the_entrance_leader_at_once_in_each_ones_language(
    tree, resident_a, entrance_leader_a, grid_worker, community_worker
):
    second = english(make_user("13900000099", "Leader Two", "entrance_leader", tree.entrance_a))
    req = at_entrance(resident_a, tree)
    assert req.level == HandlingLevel.ENTRANCE
    assert told("request.new", req) == {entrance_leader_a.pk, second.pk}  # not the resident, not the grid
    zh, en = notice("request.new", req, entrance_leader_a), notice("request.new", req, second)
    assert zh.title == f"新诉求 {req.number} 待受理：{corridor().name_zh}"
    assert en.title == f"New request {req.number} to accept: {corridor().name_en}"
    assert zh.body == en.body == "楼道灯坏了，晚上看不见"
    assert zh.link == reverse("requests:detail", args=[req.pk])
    assert Notification.objects.count() == 2


def test_a_request_handled_higher_up_tells_the_entrance_leader_and_the_level_that_owns_it(
    tree, resident_a, entrance_leader_a, grid_worker, community_worker, outsider
):
    category = Category.objects.filter(level=HandlingLevel.COMMUNITY, active=True).first()
    req = services.submit_request(
        resident_a,
        place=tree.household_a1,
        request_type="help",
        description="小区门口积水",
        category=category,
    )
    assert req.level == HandlingLevel.COMMUNITY
    assert told("request.new", req) == {entrance_leader_a.pk, community_worker.pk}


def test_on_behalf_and_hotline_requests_tell_the_owners_too(
    tree, entrance_leader_a, grid_worker, community_worker, subdistrict_dispatcher
):
    req = services.submit_request(
        grid_worker,
        place=tree.household_a1,
        request_type="help",
        description="老人反映楼道灯坏了",
        category=corridor(),
        channel=Channel.ON_BEHALF,
    )
    assert told("request.new", req) == {entrance_leader_a.pk}
    data = "工单编号,受理时间,诉求内容,联系人,联系电话,诉求分类,所属社区,办理时限\n"
    data += "GD001,2026-11-27 09:30,3号楼门口路灯不亮,李女士,13800001234,corridor,社区一,\n"
    report = hotline.import_file(subdistrict_dispatcher, io.BytesIO(data.encode()), "orders.csv")
    (imported,) = report.created
    assert imported.level == HandlingLevel.COMMUNITY
    assert told("request.new", imported) == {community_worker.pk}  # a community place: no 楼门长


def test_a_neighbour_joining_tells_the_entrance_leader_and_the_handler(
    tree, resident_a, resident_a2, entrance_leader_a, grid_worker
):
    req = at_entrance(resident_a2, tree)
    services.accept_request(entrance_leader_a, req)
    services.join_request(english(resident_a), req, note="我家门口也是")
    assert told("request.joined", req) == {entrance_leader_a.pk}  # not the joiner, not the requester
    assert (
        notice("request.joined", req, entrance_leader_a).title
        == f"又一位邻居遇到同样问题（诉求 {req.number}）：现有 2 人反映"
    )


# --- the requester and the co-requesters ------------------------------------------------------------------
def test_accept_contact_and_resolve_tell_the_requester_and_co_requesters_in_their_language(
    tree, resident_a, resident_a2, entrance_leader_a
):
    req = at_entrance(resident_a2, tree)
    services.join_request(english(resident_a), req)
    voices = {resident_a.pk, resident_a2.pk}
    services.accept_request(entrance_leader_a, req)
    assert told("request.accepted", req) == voices
    assert (
        notice("request.accepted", req, resident_a).title
        == f"Request {req.number} was accepted and is being handled"
    )
    assert notice("request.accepted", req, resident_a2).title == f"诉求 {req.number} 已受理，正在办理"
    services.record_contact(entrance_leader_a, req, note="电话联系了李四")
    assert told("request.contacted", req) == voices
    services.resolve_request(entrance_leader_a, req, result="已更换灯泡")
    assert told("request.resolved", req) == {resident_a2.pk}
    assert told("request.co_resolved", req) == {resident_a.pk}
    assert notice("request.resolved", req, resident_a2).link == reverse("requests:detail", args=[req.pk])
    co = notice("request.co_resolved", req, resident_a)
    assert co.link == reverse("requests:co_rate", args=[req.pk]) and co.body == "已更换灯泡"
    assert co.title == f"Request {req.number} you joined is resolved: please rate it"
    assert not told("request.accepted", req) & {entrance_leader_a.pk}  # the actor is not told


def test_an_extension_asked_and_decided_tells_the_requesters_and_the_deciders(
    tree, resident_a, resident_a2, entrance_leader_a, community_secretary
):
    req = at_entrance(resident_a2, tree)
    services.join_request(resident_a, req)
    services.accept_request(entrance_leader_a, req)
    services.record_contact(entrance_leader_a, req, note="电话联系")
    services.request_extension(entrance_leader_a, req, days=3, reason="等物业配件")
    assert told("request.extension_requested", req) == {resident_a.pk, resident_a2.pk}
    assert told("request.extension_to_decide", req) == {community_secretary.pk}
    services.decide_extension(english(community_secretary), req, grant=True)
    assert told("request.extension_granted", req) == {resident_a.pk, resident_a2.pk, entrance_leader_a.pk}
    assert unread(community_secretary, req) == set()  # decided: nothing left to act on
    due = timezone.localtime(req.resolve_by).strftime("%Y-%m-%d %H:%M")
    assert (
        notice("request.extension_granted", req, resident_a).title
        == f"诉求 {req.number} 已延期：新的办结期限为 {due}"
    )


def test_a_refused_extension_and_supervision_after_the_last_reopen_are_told(
    tree, resident_a, entrance_leader_a, community_secretary
):
    from linjialin.service_requests.models import RequestRules

    RequestRules.objects.all().delete()
    RequestRules.objects.create(max_reopen=0)  # the first 不满意 puts it under supervision
    req = at_entrance(resident_a, tree)
    services.accept_request(entrance_leader_a, req)
    services.record_contact(entrance_leader_a, req, note="电话联系")
    services.request_extension(entrance_leader_a, req, days=2, reason="等配件")
    services.decide_extension(community_secretary, req, grant=False, note="请按期办结")
    assert told("request.extension_refused", req) == {resident_a.pk, entrance_leader_a.pk}
    services.resolve_request(entrance_leader_a, req, result="已处理")
    services.rate_request(resident_a, req, solved=False, satisfaction="unsatisfied", comment="灯还是不亮")
    assert req.supervised
    supervised = told("request.supervised", req)
    assert {entrance_leader_a.pk, community_secretary.pk} <= supervised and resident_a.pk not in supervised


def test_not_accepting_tells_the_requester_and_reads_the_handlers_notices(
    tree, resident_a, entrance_leader_a
):
    req = at_entrance(english(resident_a), tree)
    services.not_accept_request(entrance_leader_a, req, reason="属于物业合同事项", referred_to="物业公司")
    assert told("request.not_accepted", req) == {resident_a.pk}
    row = notice("request.not_accepted", req, resident_a)
    assert row.title == f"Request {req.number} was not taken on" and row.body == "属于物业合同事项"
    assert unread(entrance_leader_a, req) == set()


# --- the new owner -----------------------------------------------------------------------------------------
def test_escalation_tells_the_next_level_and_reads_the_level_below(
    tree, resident_a, entrance_leader_a, grid_worker, community_worker
):
    req = at_entrance(resident_a, tree)
    services.escalate_request(entrance_leader_a, req, reason="楼门解决不了")
    assert told("request.new", req) == {entrance_leader_a.pk, grid_worker.pk}
    assert unread(entrance_leader_a, req) == set()  # he no longer has to act
    assert unread(grid_worker, req) == {"request.new"}
    services.escalate_request(grid_worker, req, reason="需要社区协调")
    assert unread(grid_worker, req) == set() and unread(community_worker, req) == {"request.new"}


def test_the_sweeps_escalation_tells_the_next_level_and_reads_the_level_below(
    tree, resident_a, entrance_leader_a, grid_worker
):
    req = at_entrance(resident_a, tree)
    english(grid_worker)
    report = sweep(req.accept_by + timedelta(minutes=1))
    assert req.pk in report.escalated
    assert told("request.escalated", req) == {grid_worker.pk}
    assert unread(entrance_leader_a, req) == set() and unread(grid_worker, req) == {"request.escalated"}
    row = notice("request.escalated", req, grid_worker)
    assert row.title == f"Request {req.number} escalated to you"
    assert row.link == reverse("requests:detail", args=[req.pk])


def test_withdrawing_or_merging_reads_every_please_act_notice(
    tree, resident_a, resident_a2, entrance_leader_a, subdistrict_dispatcher
):
    withdrawn = at_entrance(resident_a, tree)
    services.withdraw_request(resident_a, withdrawn, reason="已经自己修好了")
    assert unread(entrance_leader_a, withdrawn) == set()
    kept = at_entrance(resident_a, tree, text="楼道灯又坏了")
    merged = at_entrance(resident_a2, tree, text="一单元楼道灯坏了")
    services.merge_request(subdistrict_dispatcher, merged, into=kept)
    assert unread(entrance_leader_a, merged) == set()
    assert unread(entrance_leader_a, kept) == {"request.new"}  # the request it went into still waits


def test_dispatch_return_and_reassign_tell_the_new_owner(
    tree,
    resident_a,
    entrance_leader_a,
    grid_worker,
    community_worker,
    subdistrict_dispatcher,
    housing_unit,
    housing_handler,
    city_unit,
    city_handler,
):
    req = at_entrance(resident_a, tree)
    for actor in (entrance_leader_a, grid_worker, community_worker):
        services.escalate_request(actor, req, reason="本级解决不了")
    services.dispatch_request(subdistrict_dispatcher, req, level=HandlingLevel.DEPARTMENT, unit=housing_unit)
    assert unread(housing_handler, req) == {"request.new"} and not unread(city_handler, req)
    services.return_request(housing_handler, req, reason="不属于本单位职责")
    assert told("request.returned", req) == {subdistrict_dispatcher.pk}
    assert unread(housing_handler, req) == set()
    services.dispatch_request(subdistrict_dispatcher, req, level=HandlingLevel.DEPARTMENT, unit=housing_unit)
    assert unread(subdistrict_dispatcher, req) == set()  # dispatched: the return is dealt with
    services.accept_request(housing_handler, req)
    services.reassign_request(
        subdistrict_dispatcher, req, level=HandlingLevel.DEPARTMENT, unit=city_unit, reason="属城管职责"
    )
    assert unread(city_handler, req) == {"request.new"}
    assert told("request.reassigned", req) == {housing_handler.pk}
    assert "request.new" not in unread(housing_handler, req)


def test_a_whistle_tells_the_summoned_units_members(
    tree,
    resident_a,
    entrance_leader_a,
    grid_worker,
    community_worker,
    subdistrict_dispatcher,
    housing_unit,
    housing_handler,
    city_handler,
):
    req = at_entrance(resident_a, tree)
    services.summon_units(
        subdistrict_dispatcher, req, units=[housing_unit], kind=AssistKind.WHISTLE, note="到3号楼"
    )
    assert told(f"request.{AssistKind.WHISTLE}", req) == {housing_handler.pk}
    assert notice(f"request.{AssistKind.WHISTLE}", req, housing_handler).body == "到3号楼"


def test_supervision_by_the_sweep_tells_the_handler_and_the_level_above(
    tree, resident_a, entrance_leader_a, grid_worker, community_worker, community_secretary
):
    req = at_entrance(resident_a, tree)
    services.accept_request(entrance_leader_a, req)
    past = timezone.now() - timedelta(hours=1)
    type(req).objects.filter(pk=req.pk).update(resolve_by=past)
    sweep(timezone.now())
    req.refresh_from_db()
    assert req.supervised and req.state == State.ACCEPTED
    told_overdue = told("request.overdue", req)
    assert entrance_leader_a.pk in told_overdue and resident_a.pk not in told_overdue
    assert told_overdue - {entrance_leader_a.pk}  # and the supervisors of the level above
    assert notice("request.overdue", req, entrance_leader_a).link == reverse("requests:detail", args=[req.pk])


def test_the_requesters_unsatisfied_answer_tells_the_handler(tree, resident_a, entrance_leader_a):
    req = at_entrance(resident_a, tree)
    services.accept_request(entrance_leader_a, req)
    services.record_contact(entrance_leader_a, req, note="电话联系")
    services.resolve_request(entrance_leader_a, req, result="已处理")
    services.rate_request(resident_a, req, solved=False, satisfaction="unsatisfied", comment="灯还是不亮")
    assert told("request.reopened", req) == {entrance_leader_a.pk}
    assert unread(resident_a, req) == set()  # rating answered the "please rate"


# --- reading -----------------------------------------------------------------------------------------------
def test_opening_the_request_marks_only_the_viewers_notices_about_it_read(
    client, login, tree, resident_a, resident_a2, entrance_leader_a
):
    req = at_entrance(resident_a, tree)
    other = at_entrance(resident_a, tree, text="楼道堆放杂物")
    login(entrance_leader_a)
    assert client.get(reverse("requests:detail", args=[req.pk])).status_code == 200
    assert unread(entrance_leader_a, req) == set()
    assert unread(entrance_leader_a, other) == {"request.new"}  # another request's notice stays
    services.join_request(resident_a2, req)
    services.accept_request(entrance_leader_a, req)
    assert unread(resident_a2, req) == {"request.accepted"} and unread(resident_a, req) == {
        "request.accepted"
    }
    login(resident_a2)
    assert (
        client.get(reverse("requests:co_rate", args=[req.pk])).status_code == 200
    )  # the co-requester's page
    assert unread(resident_a2, req) == set() and unread(resident_a, req) == {"request.accepted"}
