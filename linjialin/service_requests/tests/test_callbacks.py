"""The phone call-back (回访), written from the rule (北京市接诉即办工作条例: when the limit has passed the
requester is called back and asked whether it was solved and how satisfied they are; the hotline calls
back independently of the unit that did the work):

- a request not rated N days (data) after it was resolved appears in the call-back queue, not before;
- the handler, and anyone who acted in its handling, may not call it back and does not see it queued;
- 代报 and hotline requests are called back the same way;
- "not solved" / 不满意 reopens as a resident's rating would, past the maximum 督办;
- no answer: tried again later, after the last try closed as unreachable;
- a configurable share of last month's rated requests is sampled once a month, recorded beside the
  resident's rating; the rates page shows the call-backs beside the residents' own ratings;
- outsiders get 404; every try is audited and on the timeline with a label in both languages.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation

from linjialin.core.models import AuditEvent
from linjialin.service_requests import callbacks, hotline, services
from linjialin.service_requests.labels import event_label
from linjialin.service_requests.models import (
    CallBack,
    CallBackOutcome,
    Category,
    Channel,
    HandlingLevel,
    RequestEvent,
    RequestRules,
    ServiceRequest,
    State,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2027, 1, 11, 10, 0, tzinfo=SHANGHAI)  # a Monday (grants start today)
D = timedelta(days=1)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def submit(user, place, **kw):
    kw.setdefault("request_type", "help")
    kw.setdefault("description", "楼道灯坏了，晚上看不见台阶")
    kw.setdefault("category", Category.objects.get(code="corridor"))
    return services.submit_request(user, place=place, **kw)


def handle(handler, req, result="已更换灯泡"):
    services.accept_request(handler, req)
    services.record_contact(handler, req, note="电话联系")
    services.resolve_request(handler, req, result=result)
    return req


def queued(user) -> set[int]:
    return set(callbacks.due_for_user(user).values_list("pk", flat=True))


def resolved_at_entrance(resident_a, entrance_leader_a, tree):
    with time_machine.travel(T0, tick=False):
        return handle(entrance_leader_a, submit(resident_a, tree.household_a1))


# --- the queue -------------------------------------------------------------------------------------------
def test_an_unrated_request_enters_the_queue_after_the_wait_and_not_before(
    tree, resident_a, entrance_leader_a, subdistrict_dispatcher, community_worker
):
    RequestRules.objects.update(callback_days=3)
    req = resolved_at_entrance(resident_a, entrance_leader_a, tree)
    with time_machine.travel(T0 + 3 * D - timedelta(minutes=1), tick=False):
        assert req.pk not in queued(subdistrict_dispatcher)
        with pytest.raises(ValidationError, match="to rate it"):
            callbacks.record_callback(subdistrict_dispatcher, req, reached=False)
        assert not CallBack.objects.filter(attempts__gt=0).exists()
    with time_machine.travel(T0 + 3 * D + timedelta(minutes=1), tick=False):
        assert req.pk in queued(subdistrict_dispatcher) and req.pk in queued(community_worker)
        assert callbacks.count_due_for_user(community_worker) == 1
    RequestRules.objects.update(callback_days=5)  # data, not a constant
    with time_machine.travel(T0 + 4 * D, tick=False):
        assert req.pk not in queued(subdistrict_dispatcher)


def test_a_rated_request_is_not_called_back(tree, resident_a, entrance_leader_a, subdistrict_dispatcher):
    req = resolved_at_entrance(resident_a, entrance_leader_a, tree)
    services.rate_request(resident_a, req, solved=True, satisfaction="satisfied")
    with time_machine.travel(T0 + 10 * D, tick=False):
        assert req.pk not in queued(subdistrict_dispatcher)


def test_reached_and_satisfied_is_the_requests_rating_and_closes_it(
    tree, resident_a, entrance_leader_a, community_worker
):
    req = resolved_at_entrance(resident_a, entrance_leader_a, tree)
    with time_machine.travel(T0 + 4 * D, tick=False):
        row = callbacks.record_callback(
            community_worker, req, reached=True, solved=True, satisfaction="basically", words="灯亮了，挺好"
        )
    req.refresh_from_db()
    assert req.state == State.CLOSED and req.satisfaction == "basically" and req.solved is True
    assert row.outcome == CallBackOutcome.REACHED and row.caller == community_worker and row.attempts == 1
    kinds = list(req.events.values_list("kind", "actor_id"))
    assert kinds[-3:] == [
        ("callback_call", community_worker.pk),
        ("call_back", community_worker.pk),
        ("close", community_worker.pk),
    ]
    assert AuditEvent.objects.filter(action="request.callback_call", object_id=str(req.pk)).count() == 1
    with time_machine.travel(T0 + 5 * D, tick=False):
        assert req.pk not in queued(community_worker)


def test_the_handler_may_not_rate_their_own_work(tree, resident_a, entrance_leader_a):
    req = resolved_at_entrance(resident_a, entrance_leader_a, tree)
    with pytest.raises(PermissionDenied):
        services.rate_request(entrance_leader_a, req, solved=True, satisfaction="satisfied")
    req.refresh_from_db()
    assert req.state == State.RESOLVED and req.satisfaction == ""


def test_the_handler_is_refused_as_caller_back_and_does_not_see_it(
    tree, client, resident_a, entrance_leader_a, grid_worker, community_worker, community_secretary
):
    """A community-level request handled by a community worker: they (who hold requests.callback) may
    not call it back; the secretary, who took no part, may."""
    with time_machine.travel(T0, tick=False):
        req = submit(resident_a, tree.household_a1)
        services.escalate_request(entrance_leader_a, req, reason="需要网格协调")
        services.escalate_request(grid_worker, req, reason="需要社区协调")
        handle(community_worker, req)
    assert req.level == HandlingLevel.COMMUNITY and req.handler == community_worker
    with time_machine.travel(T0 + 4 * D, tick=False):
        assert req.pk not in queued(community_worker) and req.pk in queued(community_secretary)
        with pytest.raises(PermissionDenied, match="took part in handling"):
            callbacks.record_callback(
                community_worker, req, reached=True, solved=True, satisfaction="satisfied", words="好"
            )
        client.force_login(community_worker)
        assert client.get(reverse("requests:callback", args=[req.pk])).status_code == 404
        assert client.post(reverse("requests:callback", args=[req.pk]), {"reached": "no"}).status_code == 404
    assert not CallBack.objects.exists() and req.events.filter(kind="callback_call").count() == 0


def test_anyone_who_acted_in_its_handling_is_refused(
    tree, resident_a, entrance_leader_a, grid_worker, community_secretary, subdistrict_staff, community_worker
):
    """The secretary accepted it and escalated it to the subdistrict: not its handler at the end, but
    part of its handling — refused; a community worker who did nothing on it may call back."""
    with time_machine.travel(T0, tick=False):
        req = submit(resident_a, tree.household_a1)
        services.escalate_request(entrance_leader_a, req, reason="需要网格协调")
        services.escalate_request(grid_worker, req, reason="需要社区协调")
        services.accept_request(community_secretary, req)
        services.escalate_request(community_secretary, req, reason="需要街道协调")
        handle(subdistrict_staff, req)
    assert req.handler == subdistrict_staff
    with time_machine.travel(T0 + 4 * D, tick=False):
        assert req.pk not in queued(community_secretary) and req.pk in queued(community_worker)
        with pytest.raises(PermissionDenied, match="took part in handling"):
            callbacks.record_callback(community_secretary, req, reached=False)
        callbacks.record_callback(
            community_worker, req, reached=True, solved=True, satisfaction="satisfied", words="修好了"
        )
    req.refresh_from_db()
    assert req.state == State.CLOSED


def test_a_request_filed_on_behalf_is_called_back_the_same_way(
    tree, entrance_leader_a, subdistrict_dispatcher
):
    with time_machine.travel(T0, tick=False):
        req = submit(
            entrance_leader_a,
            tree.household_a1,
            channel=Channel.ON_BEHALF,
            contact_name="王奶奶",
            contact_mobile="13912345678",
        )
        handle(entrance_leader_a, req)
    assert req.requester_id is None
    with time_machine.travel(T0 + 3 * D + timedelta(hours=1), tick=False):
        assert req.pk in queued(subdistrict_dispatcher)
        callbacks.record_callback(
            subdistrict_dispatcher, req, reached=True, solved=True, satisfaction="satisfied", words="谢谢"
        )
    req.refresh_from_db()
    assert req.state == State.CLOSED and req.satisfaction == "satisfied"


def test_a_hotline_work_order_is_called_back_the_same_way(tree, subdistrict_dispatcher, community_worker):
    header = "工单编号,受理时间,诉求内容,联系人,联系电话,诉求分类,所属社区,办理时限\n"
    row = "GD001,2027-01-11 09:30,3号楼门口路灯不亮,李女士,13800001234,parking,社区一,\n"
    with time_machine.travel(T0, tick=False):
        hotline.import_file(subdistrict_dispatcher, io.BytesIO((header + row).encode("utf-8-sig")), "o.csv")
        req = ServiceRequest.objects.get(channel=Channel.HOTLINE)
        if req.level != HandlingLevel.COMMUNITY:
            services.dispatch_request(subdistrict_dispatcher, req, level=HandlingLevel.COMMUNITY)
        handle(community_worker, req)
    with time_machine.travel(T0 + 4 * D, tick=False):
        assert req.pk in queued(subdistrict_dispatcher) and req.pk not in queued(community_worker)
        callbacks.record_callback(
            subdistrict_dispatcher, req, reached=True, solved=False, satisfaction="unsatisfied", words="没修"
        )
    req.refresh_from_db()
    assert req.state == State.IN_PROGRESS and req.reopen_count == 1


# --- what an answer does -----------------------------------------------------------------------------
def test_not_solved_reopens_as_a_residents_rating_would_then_supervision(
    tree, resident_a, entrance_leader_a, subdistrict_dispatcher
):
    RequestRules.objects.update(max_reopen=1)
    req = resolved_at_entrance(resident_a, entrance_leader_a, tree)
    with time_machine.travel(T0 + 4 * D, tick=False):
        callbacks.record_callback(
            subdistrict_dispatcher,
            req,
            reached=True,
            solved=False,
            satisfaction="basically",
            words="还是不亮",
        )
        req.refresh_from_db()
        assert req.state == State.IN_PROGRESS and req.reopen_count == 1 and not req.supervised
        services.resolve_request(entrance_leader_a, req, result="换了线路")
    with time_machine.travel(T0 + 6 * D, tick=False):
        assert req.pk not in queued(subdistrict_dispatcher)  # a new wait after the new resolution
    with time_machine.travel(T0 + 8 * D, tick=False):
        assert req.pk in queued(subdistrict_dispatcher)
        callbacks.record_callback(
            subdistrict_dispatcher, req, reached=True, solved=True, satisfaction="unsatisfied", words="不满意"
        )
    req.refresh_from_db()
    assert req.state == State.CALLED_BACK and req.supervised and req.reopen_count == 1
    assert CallBack.objects.filter(request=req).count() == 2  # one per round of handling


def test_no_answer_is_tried_again_later_then_closed_as_unreachable(
    tree, resident_a, entrance_leader_a, subdistrict_dispatcher
):
    RequestRules.objects.update(callback_attempts=3, callback_retry_hours=24)
    req = resolved_at_entrance(resident_a, entrance_leader_a, tree)
    at = T0 + 4 * D
    for attempt in (1, 2):
        with time_machine.travel(at, tick=False):
            callbacks.record_callback(subdistrict_dispatcher, req, reached=False, words="无人接听")
            assert req.pk not in queued(subdistrict_dispatcher)
            with pytest.raises(ValidationError, match="try again after"):
                callbacks.record_callback(subdistrict_dispatcher, req, reached=False)
        req.refresh_from_db()
        assert req.state == State.RESOLVED and CallBack.objects.get(request=req).attempts == attempt
        at += D + timedelta(minutes=1)
        with time_machine.travel(at, tick=False):
            assert req.pk in queued(subdistrict_dispatcher)
    with time_machine.travel(at, tick=False):
        callbacks.record_callback(subdistrict_dispatcher, req, reached=False)
    req.refresh_from_db()
    row = CallBack.objects.get(request=req)
    assert req.state == State.CLOSED and req.satisfaction == "" and req.closed_at is not None
    assert row.outcome == CallBackOutcome.UNREACHABLE and row.attempts == 3
    assert req.events.filter(kind="callback_call").count() == 3
    assert req.events.filter(kind="close_unreachable").exists()
    assert AuditEvent.objects.filter(action="request.close_unreachable", object_id=str(req.pk)).exists()
    # closed: a late rating by the resident is refused
    with pytest.raises(PermissionDenied):
        services.rate_request(resident_a, req, solved=True, satisfaction="satisfied")


def test_a_reached_call_needs_the_answer_and_writes_nothing_without_it(
    tree, resident_a, entrance_leader_a, subdistrict_dispatcher
):
    req = resolved_at_entrance(resident_a, entrance_leader_a, tree)
    with time_machine.travel(T0 + 4 * D, tick=False):
        with pytest.raises(ValidationError) as caught:
            callbacks.record_callback(subdistrict_dispatcher, req, reached=True, satisfaction="great")
    assert set(caught.value.message_dict) == {"solved", "satisfaction", "words"}
    assert not CallBack.objects.exists() and not req.events.filter(kind="callback_call").exists()


# --- the monthly sample -------------------------------------------------------------------------------
def _closed(tree, n: int, closed_at: datetime, **kw) -> list[ServiceRequest]:
    place = tree.household_a1
    made = []
    for i in range(n):
        made.append(
            ServiceRequest.objects.create(
                number=f"S{closed_at:%Y%m}{i:05d}{kw.get('tag', '')}",
                request_type="help",
                description="路灯不亮",
                place=place,
                path=place.path,
                submitted_at=closed_at - 3 * D,
                resolved_at=closed_at - D,
                closed_at=closed_at,
                state=State.CLOSED,
                solved=True,
                satisfaction=kw.get("satisfaction", "satisfied"),
            )
        )
    return made


def test_ten_percent_of_last_months_rated_requests_are_sampled_once(tree, subdistrict_dispatcher):
    RequestRules.objects.update(callback_sample_percent=10)
    _closed(tree, 50, datetime(2027, 2, 15, 10, tzinfo=SHANGHAI))
    _closed(tree, 7, datetime(2027, 3, 2, 10, tzinfo=SHANGHAI), tag="n")  # this month: not yet
    _closed(tree, 4, datetime(2027, 2, 20, 10, tzinfo=SHANGHAI), tag="u", satisfaction="")  # unrated
    with time_machine.travel(datetime(2027, 3, 1, 7, 20, tzinfo=SHANGHAI), tick=False):
        assert callbacks.sample_month() == 5
        assert callbacks.sample_month() == 0  # the job ran twice: the month is sampled once
    with time_machine.travel(datetime(2027, 3, 2, 7, 20, tzinfo=SHANGHAI), tick=False):
        assert callbacks.sample_month() == 0
        picked = CallBack.objects.filter(reason="sample")
        assert picked.count() == 5
        assert all(r.request.closed_at.month == 2 and r.request.satisfaction for r in picked)
        assert set(callbacks.due_for_user(subdistrict_dispatcher).values_list("pk", flat=True)) == set(
            picked.values_list("request_id", flat=True)
        )
    rated = ServiceRequest.objects.filter(closed_at__month=2).exclude(satisfaction="")
    february = datetime(2027, 2, 1).date()
    expected = sorted(rated.values_list("number", flat=True), key=lambda n: callbacks.sample_key(n, february))
    assert set(picked.values_list("request__number", flat=True)) == set(expected[:5])  # deterministic
    assert RequestEvent.objects.filter(kind="callback_sampled").count() == 5
    assert AuditEvent.objects.filter(action="request.callback_sampled").count() == 5


def test_the_sample_is_a_scheduled_job_and_running_it_twice_picks_once(tree):
    from linjialin.core import beat
    from linjialin.service_requests import tasks

    assert beat.JOBS["requests_callback_sample"].task is tasks.sample_callbacks
    _closed(tree, 20, datetime(2027, 2, 15, 10, tzinfo=SHANGHAI))
    with time_machine.travel(datetime(2027, 3, 1, 7, 20, tzinfo=SHANGHAI), tick=False):
        assert tasks.sample_callbacks.call() == 2
        assert tasks.sample_callbacks.call() == 0
    assert CallBack.objects.filter(reason="sample").count() == 2


def test_a_sampled_call_back_stands_beside_the_residents_rating(
    tree, resident_a, entrance_leader_a, subdistrict_dispatcher, client, community_secretary
):
    RequestRules.objects.update(callback_sample_percent=100, max_reopen=2)
    with time_machine.travel(datetime(2027, 2, 8, 10, tzinfo=SHANGHAI), tick=False):
        req = handle(entrance_leader_a, submit(resident_a, tree.household_a1))
        services.rate_request(resident_a, req, solved=True, satisfaction="satisfied", comment="好")
    with time_machine.travel(datetime(2027, 3, 1, 7, 20, tzinfo=SHANGHAI), tick=False):
        assert callbacks.sample_month() == 1
    with time_machine.travel(datetime(2027, 3, 3, 10, tzinfo=SHANGHAI), tick=False):
        assert req.pk in queued(subdistrict_dispatcher)
        callbacks.record_callback(
            subdistrict_dispatcher,
            req,
            reached=True,
            solved=False,
            satisfaction="unsatisfied",
            words="又坏了",
        )
        req.refresh_from_db()
        # the resident's own rating stays; the call-back's answer is beside it, and the matter is reopened
        assert req.satisfaction == "satisfied" and req.solved is True
        assert req.state == State.IN_PROGRESS and req.reopen_count == 1
        row = CallBack.objects.get(request=req)
        assert row.satisfaction == "unsatisfied" and row.solved is False
        assert req.pk not in queued(subdistrict_dispatcher)
        client.force_login(community_secretary)
        response = client.get(reverse("requests:rates"), {"period": "this_month"})
        page = response.content.decode()
    residents, unrated, sample = response.context["callbacks"]
    assert (sample.count, sample.reached, sample.unsatisfied, sample.solved, sample.agrees) == (1, 1, 1, 0, 0)
    assert unrated.count == 0 and residents.count == 0  # the resident rated in February
    assert 'id="rates-callbacks"' in page
    assert "Sampled call-backs of rated requests" in page and "Residents&#x27; own ratings" in page


def test_a_sampled_request_past_the_maximum_is_supervised_not_reopened(
    tree, resident_a, entrance_leader_a, subdistrict_dispatcher
):
    RequestRules.objects.update(callback_sample_percent=100, max_reopen=0)
    with time_machine.travel(datetime(2027, 2, 8, 10, tzinfo=SHANGHAI), tick=False):
        req = handle(entrance_leader_a, submit(resident_a, tree.household_a1))
        services.rate_request(resident_a, req, solved=True, satisfaction="satisfied")
    with time_machine.travel(datetime(2027, 3, 3, 10, tzinfo=SHANGHAI), tick=False):
        callbacks.sample_month()
        callbacks.record_callback(
            subdistrict_dispatcher,
            req,
            reached=True,
            solved=False,
            satisfaction="unsatisfied",
            words="没解决",
        )
    req.refresh_from_db()
    assert req.state == State.CLOSED and req.supervised


# --- pages and permissions ------------------------------------------------------------------------------
def test_the_queue_page_and_the_call_page(
    tree, client, resident_a, entrance_leader_a, subdistrict_dispatcher, outsider
):
    req = resolved_at_entrance(resident_a, entrance_leader_a, tree)
    with time_machine.travel(T0 + 4 * D, tick=False):
        client.force_login(subdistrict_dispatcher)
        page = client.get(reverse("requests:callbacks"))
        assert page.status_code == 200 and req.number in page.content.decode()
        url = reverse("requests:callback", args=[req.pk])
        assert url in client.get(reverse("requests:detail", args=[req.pk])).content.decode()
        call = client.get(url)
        assert call.status_code == 200 and resident_a.mobile in call.content.decode()  # to dial it
        bad = client.post(url, {"reached": "yes"})
        assert bad.status_code == 422 and "Write down what the requester said" in bad.content.decode()
        done = client.post(
            url, {"reached": "yes", "solved": "yes", "satisfaction": "satisfied", "words": "好"}
        )
        assert done.status_code == 302
        req.refresh_from_db()
        assert req.state == State.CLOSED
        detail = client.get(reverse("requests:detail", args=[req.pk])).content.decode()
        assert "phone call-back (回访): reached" in detail

        client.force_login(outsider)  # a community worker of another community
        assert client.get(reverse("requests:callbacks")).status_code == 200
        assert req.number not in client.get(reverse("requests:callbacks")).content.decode()
        assert client.get(url).status_code == 404
        client.force_login(resident_a)
        assert client.get(reverse("requests:callbacks")).status_code == 403
        client.logout()
        assert client.get(reverse("requests:callbacks")).status_code == 302


def test_an_outsider_is_refused_by_the_service(tree, resident_a, entrance_leader_a, outsider):
    req = resolved_at_entrance(resident_a, entrance_leader_a, tree)
    with time_machine.travel(T0 + 4 * D, tick=False):
        with pytest.raises(PermissionDenied, match="may not call back"):
            callbacks.record_callback(outsider, req, reached=False)


def test_the_home_pages_count_the_call_backs_due(
    tree, client, resident_a, entrance_leader_a, subdistrict_dispatcher, community_worker
):
    resolved_at_entrance(resident_a, entrance_leader_a, tree)
    with time_machine.travel(T0 + 4 * D, tick=False):
        for user in (subdistrict_dispatcher, community_worker):
            client.force_login(user)
            home = client.get("/en/").content.decode()
            assert "Call-backs due (回访)" in home and reverse("requests:callbacks") in home


def test_the_timeline_labels_in_both_languages():
    for language in ("en", "zh-hans"):
        with translation.override(language):
            for kind, data in (
                ("callback_call", {"reached": True}),
                ("callback_call", {"reached": False}),
                ("callback_sampled", {}),
                ("close_unreachable", {}),
                ("callback_reopen", {}),
            ):
                label = event_label(kind, data)
                assert label and "_" not in label, (language, kind, label)


def test_the_pages_read_in_chinese(tree, client, resident_a, entrance_leader_a, subdistrict_dispatcher):
    req = resolved_at_entrance(resident_a, entrance_leader_a, tree)
    with time_machine.travel(T0 + 4 * D, tick=False):
        client.force_login(subdistrict_dispatcher)
        queue = client.get("/requests/callbacks/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
        call = client.get(f"/requests/{req.pk}/callback/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "未评价" in queue and "暂无待回访" not in queue
    assert "记录回访" in call and "是否联系上诉求人" in call and "Record the call-back" not in call
