"""Extensions have a total cap and the requester is told (接诉即办条例 Art. 15(2): an extension is
explained to the requester). The extensions granted to one request add up to at most the policy's
maximum (10 working days by default, 3 for a utility outage): after a grant of 6 days an ask for 6 more
is refused, saying 4 are left (decided: refused, not cut — the handler asks again for what is left, so
the requester is never told a deadline nobody asked for). A grant the maximum no longer allows (lowered
in the admin since the ask) is refused the same way, with nothing written. Each grant tells the
requester and the co-requesters the new deadline and the handler's reason, in their own language."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import translation

from linjialin.accounts.models import RoleGrant
from linjialin.notifications.models import Notification
from linjialin.notifications.services import subject_of
from linjialin.service_requests import services
from linjialin.service_requests.models import Category, ServiceRequest, State, TimeLimitPolicy
from linjialin.testing.plugin import make_user

SH = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 11, 2, 9, 0, tzinfo=SH)


@pytest.fixture(autouse=True)
def _english_site():
    with translation.override("en"), time_machine.travel(MONDAY, tick=False):
        yield


def end_of(day: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, 23, 59, 59, 999999, tzinfo=SH)


@pytest.fixture
def resident_a2(tree):
    user = make_user("13900000012", "李四", "resident", tree.household_a2)
    tree.resident_a2.user = user
    tree.resident_a2.save(update_fields=["user"])
    return user


def in_progress(tree, resident, leader, code="corridor") -> ServiceRequest:
    RoleGrant.objects.update(valid_from="2026-01-01")
    req = services.submit_request(
        resident,
        place=tree.entrance_a,
        request_type="help",
        description="楼道灯坏了",
        category=Category.objects.get(code=code),
    )
    services.accept_request(leader, req)
    services.record_contact(leader, req, note="电话联系")
    return req


def days_error(exc) -> str:
    (message,) = exc.value.message_dict["days"]
    return message


def test_two_asks_of_six_days_the_second_is_refused_with_what_is_left(
    tree, resident_a, entrance_leader_a, community_secretary
):
    req = in_progress(tree, resident_a, entrance_leader_a)
    assert req.resolve_by == end_of(11)  # 7 working days from Monday 2 Nov
    services.request_extension(entrance_leader_a, req, days=6, reason="等物业配件")
    services.decide_extension(community_secretary, req, grant=True)
    assert (req.resolve_by, req.extension_granted) == (end_of(19), 6)
    with pytest.raises(ValidationError) as exc:
        services.request_extension(entrance_leader_a, req, days=6, reason="配件还没到")
    assert days_error(exc) == "An extension is 1 to 4 days: 4 of the 10 days allowed in all are left."
    req.refresh_from_db()
    assert req.state == State.IN_PROGRESS and req.extension_granted == 6  # nothing written
    services.request_extension(entrance_leader_a, req, days=4, reason="配件还没到")
    services.decide_extension(community_secretary, req, grant=True)
    assert (req.resolve_by, req.extension_granted) == (end_of(25), 10)
    with pytest.raises(ValidationError) as exc:
        services.request_extension(entrance_leader_a, req, days=1, reason="再等一天")
    assert days_error(exc) == (
        "No more extension is possible: 10 days in all have already been granted. Resolve it, or escalate it."
    )


def test_a_refused_extension_does_not_count(tree, resident_a, entrance_leader_a, community_secretary):
    req = in_progress(tree, resident_a, entrance_leader_a)
    services.request_extension(entrance_leader_a, req, days=6, reason="等物业配件")
    services.decide_extension(community_secretary, req, grant=False, note="请按期办结")
    assert req.extension_granted == 0
    services.request_extension(entrance_leader_a, req, days=10, reason="等物业配件")
    assert req.state == State.EXTENSION_REQUESTED


def test_a_grant_beyond_a_lowered_maximum_is_refused_and_nothing_written(
    tree, resident_a, entrance_leader_a, community_secretary
):
    req = in_progress(tree, resident_a, entrance_leader_a)
    services.request_extension(entrance_leader_a, req, days=6, reason="等物业配件")
    services.decide_extension(community_secretary, req, grant=True)
    services.request_extension(entrance_leader_a, req, days=4, reason="配件还没到")
    TimeLimitPolicy.objects.filter(request_type="", category=None, urgency="").update(max_extension_amount=8)
    before = Notification.objects.filter(kind="request.extension_granted").count()
    with pytest.raises(ValidationError) as exc:
        services.decide_extension(community_secretary, req, grant=True)
    assert days_error(exc) == "An extension is 1 to 2 days: 2 of the 8 days allowed in all are left."
    req.refresh_from_db()
    assert (req.state, req.resolve_by, req.extension_granted) == (State.EXTENSION_REQUESTED, end_of(19), 6)
    assert Notification.objects.filter(kind="request.extension_granted").count() == before


def test_a_utility_outage_has_its_own_smaller_cap(tree, resident_a, entrance_leader_a, community_secretary):
    req = in_progress(tree, resident_a, entrance_leader_a, code="corridor")
    req.category = Category.objects.get(code="utilities-water")  # the 3-working-day cap of utilities
    ServiceRequest.objects.filter(pk=req.pk).update(category=req.category)
    with pytest.raises(ValidationError) as exc:
        services.request_extension(entrance_leader_a, req, days=4, reason="管网抢修")
    assert days_error(exc) == "An extension is 1 to 3 days: 3 of the 3 days allowed in all are left."


def test_each_grant_tells_the_requester_and_co_requesters_the_new_deadline_and_the_reason(
    tree, resident_a, resident_a2, entrance_leader_a, community_secretary
):
    resident_a.language = "en"
    resident_a.save(update_fields=["language"])  # resident_a2 reads Chinese (the default)
    req = in_progress(tree, resident_a, entrance_leader_a)
    services.join_request(resident_a2, req)
    services.request_extension(entrance_leader_a, req, days=6, reason="等物业配件")
    services.decide_extension(community_secretary, req, grant=True, note="同意")
    rows = Notification.objects.filter(kind="request.extension_granted", subject=subject_of(req))
    en, zh = rows.get(user=resident_a), rows.get(user=resident_a2)
    assert en.title == f"Request {req.number} has more time: the new deadline is 2026-11-19 23:59"
    assert zh.title == f"诉求 {req.number} 已延期：新的办结期限为 2026-11-19 23:59"
    assert en.body == zh.body == "等物业配件\n同意"  # the handler's reason, then the decider's note
    assert rows.filter(user=entrance_leader_a).exists()


def test_the_page_says_how_many_days_may_still_be_asked(
    tree, resident_a, entrance_leader_a, community_secretary, login
):
    from django.urls import reverse

    req = in_progress(tree, resident_a, entrance_leader_a)
    services.request_extension(entrance_leader_a, req, days=6, reason="等物业配件")
    services.decide_extension(community_secretary, req, grant=True)
    page = login(entrance_leader_a).get(reverse("requests:detail", args=[req.pk]))
    assert page.context["extension_left"] == 4
    html = page.content.decode()
    assert 'max="4"' in html and "At most 4 more days in all." in html
