"""Duplicates (docs/duplicates.md): similar open requests near a resident's home, 我也遇到 (co-requesters),
a co-requester's own rating, merge and unmerge, and how co-requesters count in the rates."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from linjialin.core.models import AuditEvent
from linjialin.notifications.models import Notification
from linjialin.service_requests import duplicates, metrics, services
from linjialin.service_requests.models import (
    CoRequester,
    DuplicateRules,
    RequestEvent,
    RequestRules,
    Satisfaction,
    ServiceRequest,
    State,
)
from linjialin.testing.plugin import make_user


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def submit(user, place, text, *, days_ago=0):
    req = services.submit_request(user, place=place, request_type="help", description=text)
    if days_ago:
        ServiceRequest.objects.filter(pk=req.pk).update(
            submitted_at=timezone.now() - timedelta(days=days_ago)
        )
        req.refresh_from_db()
    return req


@pytest.fixture
def resident_x(tree):
    """A resident of 牡丹园 (another compound, another community)."""
    return make_user("13900000031", "赵六", "resident", tree.household_x1)


@pytest.fixture
def resident_a2(tree):
    """张三's neighbour upstairs (the same entrance)."""
    return make_user("13900000032", "李四", "resident", tree.household_a2)


@pytest.fixture
def nearby(tree, resident_a, resident_a2, resident_b, resident_x):
    """Open requests around 紫荆雅园1号楼 and one far away."""
    area = duplicates.public_area_prefix(tree.compound_1)
    return {
        "entrance": submit(resident_a2, tree.entrance_a, "楼道灯坏了，晚上看不见"),
        "building": submit(
            resident_a2, tree.grid_1, "【1号楼】楼道灯坏了，晚上看不见"
        ),  # a tie: nearer first
        "compound": submit(resident_a2, tree.community_1, f"【{area}】小区路灯坏了"),
        "unrelated": submit(resident_a2, tree.entrance_a, "垃圾桶满了没人清理"),
        "household": submit(resident_a2, tree.household_a2, "楼道灯坏了"),  # private: never offered
        "old": submit(resident_b, tree.entrance_b, "楼道灯坏了", days_ago=40),  # outside the 30 days
        "far": submit(resident_x, tree.entrance_x, "楼道灯坏了"),  # another compound
        "other_grid_text": submit(resident_a2, tree.grid_1, "楼道灯坏了"),  # the grid itself, no building
    }


# --- similar open requests -----------------------------------------------------------------------------
def test_similarity_is_explainable():
    assert duplicates.similarity("楼道灯坏了", "楼道灯坏了") == 100
    assert (
        duplicates.similarity("楼道灯坏了", "【1号楼】楼道灯坏了！") == 100
    )  # prefix and punctuation dropped
    assert duplicates.similarity("ＡＢＣ楼道灯坏了", "abc楼道灯坏了") == 100  # NFKC + lower case
    high = duplicates.similarity("楼道灯坏了", "楼道的灯不亮了")
    low = duplicates.similarity("楼道灯坏了", "垃圾桶满了没人清理")
    assert 40 <= high < 100 and low < 25
    assert duplicates.similarity("", "楼道灯坏了") == 0


def test_shown_text_hides_phone_numbers_and_the_prefix():
    text = duplicates.shown_text("【1号楼】楼道灯坏了，请打13812345678")
    assert "13812345678" not in text and "【" not in text and text.startswith("楼道灯坏了")


def test_a_resident_sees_similar_open_requests_of_entrance_building_and_compound_ranked(
    tree, resident_a, nearby
):
    found = duplicates.similar_open(tree.household_a1, "楼道灯坏了", user=resident_a)
    numbers = [s.request.number for s in found]
    assert numbers[:2] == [nearby["entrance"].number, nearby["building"].number]
    assert nearby["compound"].number in numbers
    for key in ("unrelated", "household", "old", "far", "other_grid_text"):
        assert nearby[key].number not in numbers, key
    by = {s.request.number: s for s in found}
    assert by[nearby["entrance"].number].near == "entrance"
    assert by[nearby["building"].number].near == "building"
    assert by[nearby["compound"].number].near == "compound"
    assert all(found[i].similarity >= found[i + 1].similarity for i in range(len(found) - 1))
    assert by[nearby["entrance"].number].voices == 1 and not by[nearby["entrance"].number].joined


def test_the_window_threshold_and_count_are_data(tree, resident_a, nearby):
    DuplicateRules.objects.create(days=50, min_similarity=40, shown=5)
    numbers = [s.request.number for s in duplicates.similar_open(tree.household_a1, "楼道灯坏了")]
    assert nearby["old"].number in numbers
    DuplicateRules.objects.update(shown=1)
    assert len(duplicates.similar_open(tree.household_a1, "楼道灯坏了")) == 1
    DuplicateRules.objects.update(min_similarity=101, shown=5)
    assert duplicates.similar_open(tree.household_a1, "楼道灯坏了") == []


def test_closed_and_own_requests_are_not_offered(tree, resident_a, resident_a2, entrance_leader_a, nearby):
    req = nearby["entrance"]
    services.not_accept_request(entrance_leader_a, req, reason="不归楼门管")
    numbers = [s.request.number for s in duplicates.similar_open(tree.household_a1, "楼道灯坏了")]
    assert req.number not in numbers
    own = submit(resident_a, tree.entrance_a, "楼道灯坏了")
    mine = duplicates.similar_open(tree.household_a1, "楼道灯坏了", user=resident_a)
    assert own.number not in [s.request.number for s in mine]


def test_dispatcher_candidates_include_the_households_of_the_entrance(tree, resident_a, nearby):
    req = submit(resident_a, tree.household_a1, "我家门口楼道灯坏了")
    numbers = [s.request.number for s in duplicates.candidates_for(req)]
    assert nearby["household"].number in numbers and nearby["entrance"].number in numbers
    assert req.number not in numbers and nearby["far"].number not in numbers
    # a building request finds its building by the 【prefix】
    numbers = [s.request.number for s in duplicates.candidates_for(nearby["building"])]
    assert nearby["entrance"].number in numbers and nearby["other_grid_text"].number not in numbers


def test_the_fragment_offers_to_join(tree, resident_a, nearby, login):
    client = login(resident_a)
    response = client.get(reverse("requests:similar"), {"description": "楼道灯坏了"})
    html = response.content.decode()
    assert response.status_code == 200
    assert (
        nearby["entrance"].number in html and reverse("requests:join", args=[nearby["entrance"].pk]) in html
    )
    assert "Me too" in html and "% similar" in html and "晚上看不见" in html
    assert nearby["household"].number not in html
    assert client.get(reverse("requests:similar"), {"description": ""}).content.strip() == b""


# --- 我也遇到 ---------------------------------------------------------------------------------------------
def test_join_once_idempotent_and_audited(tree, resident_a, resident_a2, nearby):
    req = nearby["entrance"]
    row = services.join_request(resident_a, req, note="我家门口也是")
    again = services.join_request(resident_a, req)
    assert row.pk == again.pk and CoRequester.objects.filter(request=req).count() == 1
    assert row.household == tree.household_a1 and row.source is None
    event = RequestEvent.objects.get(request=req, kind="co_requester_joined")
    assert event.actor is None and "张三" not in event.note and event.data["voices"] == 2
    assert AuditEvent.objects.filter(action="request.co_requester_joined", object_id=str(req.pk)).count() == 1
    found = duplicates.similar_open(tree.household_a1, "楼道灯坏了", user=resident_a)
    assert [s for s in found if s.request.pk == req.pk][0].joined
    assert [s for s in found if s.request.pk == req.pk][0].voices == 2


def test_join_refuses_own_closed_and_outsiders(tree, resident_a, resident_a2, resident_x, nearby, login):
    with pytest.raises(PermissionDenied, match="your own"):
        services.join_request(resident_a2, nearby["entrance"])
    with pytest.raises(PermissionDenied):
        services.join_request(resident_x, nearby["entrance"])
    with pytest.raises(PermissionDenied):  # a household's request is private
        services.join_request(resident_a, nearby["household"])
    services.withdraw_request(resident_a2, nearby["building"])
    with pytest.raises(PermissionDenied, match="no longer open"):
        services.join_request(resident_a, nearby["building"])
    assert not CoRequester.objects.exists()
    # over HTTP: an outsider gets 404, a closed one 403, nothing written
    assert login(resident_x).post(reverse("requests:join", args=[nearby["entrance"].pk])).status_code == 404
    client = login(resident_a)
    assert client.post(reverse("requests:join", args=[nearby["household"].pk])).status_code == 404
    assert client.post(reverse("requests:join", args=[nearby["building"].pk])).status_code == 403
    assert client.post(reverse("requests:join", args=[999999])).status_code == 404
    assert client.get(reverse("requests:join", args=[nearby["entrance"].pk])).status_code == 405
    assert not CoRequester.objects.exists()


def test_join_over_htmx_redirects_to_the_co_requester_page(tree, resident_a, nearby, login):
    client = login(resident_a)
    req = nearby["building"]
    response = client.post(reverse("requests:join", args=[req.pk]), headers={"HX-Request": "true"})
    assert response.status_code == 204 and response["HX-Redirect"] == reverse(
        "requests:co_rate", args=[req.pk]
    )
    page = client.get(response["HX-Redirect"])
    assert page.status_code == 200 and req.number in page.content.decode()
    assert CoRequester.objects.filter(request=req, user=resident_a).exists()


# --- a co-requester is told and rates separately -----------------------------------------------------------
def _resolve(leader, req, result="已更换灯泡"):
    services.accept_request(leader, req)
    services.record_contact(leader, req, note="上门看过")
    services.resolve_request(leader, req, result=result)


def test_co_requester_is_told_and_rates_separately(tree, resident_a, resident_a2, entrance_leader_a, nearby):
    req = nearby["entrance"]
    services.join_request(resident_a, req)
    with pytest.raises(ValidationError):  # not resolved yet
        services.rate_as_co_requester(resident_a, req, solved=True, satisfaction="satisfied")
    _resolve(entrance_leader_a, req)
    notice = Notification.objects.get(user=resident_a, kind="request.co_resolved")
    assert notice.link.endswith(f"/requests/{req.pk}/co-rate/")
    with pytest.raises(ValidationError):  # bad input: nothing written
        services.rate_as_co_requester(resident_a, req, solved=True, satisfaction="great")
    with pytest.raises(PermissionDenied):  # not a co-requester
        services.rate_as_co_requester(resident_a2, req, solved=True, satisfaction="satisfied")
    row = services.rate_as_co_requester(
        resident_a, req, solved=False, satisfaction="unsatisfied", comment="还是暗"
    )
    assert (row.solved, row.satisfaction, row.comment) == (False, "unsatisfied", "还是暗") and row.rated_at
    req.refresh_from_db()
    assert req.state == State.RESOLVED  # the requester's answer decides the work order, not a co-requester's
    assert Notification.objects.filter(user=entrance_leader_a, kind="request.co_unsatisfied").exists()
    assert AuditEvent.objects.filter(action="request.co_rated", object_id=str(req.pk)).exists()
    with pytest.raises(ValidationError):  # once per resolution
        services.rate_as_co_requester(resident_a, req, solved=True, satisfaction="satisfied")
    services.rate_request(resident_a2, req, solved=True, satisfaction="satisfied")
    req.refresh_from_db()
    assert req.state == State.CLOSED and req.satisfaction == "satisfied"


def test_the_co_rate_page(tree, resident_a, resident_a2, entrance_leader_a, nearby, login):
    req = nearby["entrance"]
    url = reverse("requests:co_rate", args=[req.pk])
    assert login(resident_a).get(url).status_code == 404  # not a co-requester
    services.join_request(resident_a, req)
    client = login(resident_a)
    page = client.get(url).content.decode()
    assert req.number in page and 'name="satisfaction"' not in page  # nothing to rate yet
    _resolve(entrance_leader_a, req)
    page = client.get(url).content.decode()
    assert 'name="satisfaction"' in page and "已更换灯泡" in page
    response = client.post(url, {"solved": "yes", "satisfaction": ""})
    assert response.status_code == 422 and "满意" in response.content.decode()
    assert CoRequester.objects.get(user=resident_a).rated_at is None
    response = client.post(url, {"solved": "yes", "satisfaction": "basically", "comment": "好了"})
    assert response.status_code == 302
    assert CoRequester.objects.get(user=resident_a).satisfaction == "basically"


# --- merge and unmerge -------------------------------------------------------------------------------------
def test_merge_makes_co_requesters_and_unmerge_takes_them_back(
    tree, resident_a, resident_a2, resident_b, subdistrict_dispatcher, nearby
):
    parent = nearby["entrance"]
    child = submit(resident_b, tree.entrance_b, "1号楼楼道灯坏了")
    services.join_request(resident_a, child)  # a voice on the child
    services.merge_request(subdistrict_dispatcher, child, into=parent)
    child.refresh_from_db()
    assert child.state == State.MERGED and child.merged_into == parent
    assert duplicates.followed(child) == parent
    voices = {r.user: r.source for r in CoRequester.objects.filter(request=parent)}
    assert voices == {resident_b: child, resident_a: child}
    assert not CoRequester.objects.filter(request=child).exists()
    assert RequestEvent.objects.filter(request=parent, kind="merged_in").exists()
    with pytest.raises(PermissionDenied):  # only a dispatcher
        services.unmerge_request(resident_b, child, reason="不是一回事")
    with pytest.raises(ValidationError):  # a reason is required
        services.unmerge_request(subdistrict_dispatcher, child, reason=" ")
    before = timezone.now()
    services.unmerge_request(subdistrict_dispatcher, child, reason="是2单元的灯，不是1单元")
    child.refresh_from_db()
    assert child.state == State.SUBMITTED and child.merged_into is None and child.accept_by > before
    assert not CoRequester.objects.filter(request=parent).exists()
    assert list(CoRequester.objects.filter(request=child).values_list("user", "source")) == [
        (resident_a.pk, None)
    ]
    assert AuditEvent.objects.filter(action="request.unmerge", object_id=str(child.pk)).exists()
    with pytest.raises(PermissionDenied):  # not merged any more: the transition is not allowed
        services.unmerge_request(subdistrict_dispatcher, child, reason="再来")


def test_unmerge_only_while_the_parent_is_open(tree, resident_a2, resident_b, subdistrict_dispatcher, nearby):
    parent = nearby["entrance"]
    child = submit(resident_b, tree.entrance_b, "楼道灯坏了")
    services.merge_request(subdistrict_dispatcher, child, into=parent)
    services.withdraw_request(resident_a2, parent)
    with pytest.raises(ValidationError):
        services.unmerge_request(subdistrict_dispatcher, child, reason="不是一回事")
    child.refresh_from_db()
    assert child.state == State.MERGED


def test_merging_does_not_duplicate_a_voice(
    tree, resident_a, resident_a2, resident_b, subdistrict_dispatcher, nearby
):
    parent = nearby["entrance"]
    child = submit(resident_b, tree.entrance_b, "楼道灯坏了")
    services.join_request(resident_a, parent)
    services.join_request(resident_a, child)
    services.merge_request(subdistrict_dispatcher, child, into=parent)
    assert CoRequester.objects.filter(request=parent, user=resident_a).count() == 1
    assert CoRequester.objects.filter(request=parent).count() == 2  # resident_a, resident_b


def test_the_desk_fragment_and_unmerge_page(
    tree, resident_a, resident_b, subdistrict_dispatcher, grid_worker, nearby, login
):
    parent = nearby["entrance"]
    child = submit(resident_b, tree.entrance_b, "楼道灯坏了")
    client = login(subdistrict_dispatcher)
    html = client.get(reverse("requests:duplicates", args=[child.pk])).content.decode()
    assert parent.number in html and "% similar" in html
    assert reverse("requests:desk_act", args=[child.pk, "merge"]) in html
    assert login(grid_worker).get(reverse("requests:duplicates", args=[child.pk])).status_code == 403
    assert login(resident_a).get(reverse("requests:duplicates", args=[child.pk])).status_code == 404
    client = login(subdistrict_dispatcher)
    client.post(reverse("requests:desk_act", args=[child.pk, "merge"]), {"into": parent.number})
    child.refresh_from_db()
    assert child.state == State.MERGED
    html = client.get(reverse("requests:duplicates", args=[child.pk])).content.decode()
    assert reverse("requests:unmerge", args=[child.pk]) in html
    response = client.post(reverse("requests:unmerge", args=[child.pk]), {"reason": "两回事"})
    assert response.status_code == 302
    child.refresh_from_db()
    assert child.state == State.SUBMITTED


# --- the API ---------------------------------------------------------------------------------------------
def test_api_similar_and_duplicates(
    tree, resident_a, resident_b, subdistrict_dispatcher, grid_worker, nearby, login
):
    client = login(resident_a)
    response = client.get("/api/v1/requests/similar", {"text": "楼道灯坏了"})
    assert response.status_code == 200
    items = response.json()
    assert items[0]["number"] == nearby["entrance"].number and items[0]["near"] == "entrance"
    assert {"similarity", "voices", "joined", "text"} <= set(items[0])
    child = submit(resident_b, tree.entrance_b, "楼道灯坏了")
    url = f"/api/v1/requests/{child.pk}/duplicates"
    assert login(resident_a).get(url).status_code == 404
    assert login(grid_worker).get(url).status_code == 403
    body = login(subdistrict_dispatcher).get(url).json()
    assert body["followed_state"] == "submitted" and body["merged_into"] is None
    assert nearby["entrance"].number in [c["number"] for c in body["candidates"]]
    services.merge_request(subdistrict_dispatcher, child, into=nearby["entrance"])
    body = login(subdistrict_dispatcher).get(url).json()
    assert body["merged_into"] == nearby["entrance"].pk and body["followed_state"] == "submitted"


# --- the rates with co-requesters ------------------------------------------------------------------------
SH = ZoneInfo("Asia/Shanghai")
T = datetime(2026, 11, 10, 9, 0, tzinfo=SH)
NOV = (datetime(2026, 11, 1, tzinfo=SH), datetime(2026, 12, 1, tzinfo=SH))
H, D = timedelta(hours=1), timedelta(days=1)


def test_co_requesters_count_once_per_work_order_and_per_voice_in_satisfaction(tree):
    """Hand-computed (docs/rates.md "Co-requesters"):
    w1: accepted in time, resolved day 3, requester rated 满意 (solved) day 4; co-requesters c1 基本满意
        (day 5), c2 不满意 not solved (day 5), c3 joined but never rated
    w2: accepted late, resolved day 8, requester rated not solved 基本满意 day 9; co-requester c4 满意 on
        3 December (counts in December, not November)
    m1: merged into w1 (its requester is c1): never counted itself
    响应率 due w1 w2 = 2, in time w1 = 1                                → 50.0% (co-requesters add nothing)
    解决率 rated work orders w1 w2 = 2, solved w1 = 1                          → 50.0%  (per work order)
    满意率 voices: w1 满意, w2 基本满意, c1 基本满意, c2 不满意 = 4;
           (1 + 2 × 0.8) ÷ 4 = 2.6 ÷ 4                                         → 65.0%  (per voice)
    24 h sign-off: submitted w1 w2 = 2, accepted within 24 h w1 = 1            → 50.0%
    """
    e = tree.entrance_a
    users = [make_user(f"1390000005{i}", f"邻居{i}", "resident", tree.household_a2) for i in range(5)]

    def order(number, **fields):
        req = ServiceRequest.objects.create(
            number=number,
            request_type="help",
            description="楼道灯坏了",
            place=e,
            path=e.path,
            submitted_at=T,
            accept_by=T + 24 * H,
            **fields,
        )
        if fields.get("satisfaction"):
            RequestEvent.objects.create(request=req, kind="call_back", at=T + 4 * D)
        return req

    sat, basic, unsat = Satisfaction.SATISFIED, Satisfaction.BASICALLY, Satisfaction.UNSATISFIED
    w1 = order(
        "W1", state=State.CLOSED, accepted_at=T + H, resolved_at=T + 3 * D, solved=True, satisfaction=sat
    )
    w2 = order("W2", state=State.CALLED_BACK, accepted_at=T + 30 * H, resolved_at=T + 8 * D, solved=False,
               satisfaction=basic)  # fmt: skip
    RequestEvent.objects.filter(request=w2).update(at=T + 9 * D)
    order("M1", state=State.MERGED, merged_into=w1)

    def voice(req, user, satisfaction="", solved=None, at=None):
        CoRequester.objects.create(
            request=req, user=user, joined_at=T + H, satisfaction=satisfaction, solved=solved, rated_at=at
        )

    voice(w1, users[0], basic, True, T + 5 * D)
    voice(w1, users[1], unsat, False, T + 5 * D)
    voice(w1, users[2])  # never rated
    voice(w2, users[3], sat, True, datetime(2026, 12, 3, tzinfo=SH))  # rated in December

    rules = RequestRules.objects.get()
    r = metrics.rates(ServiceRequest.objects.all(), period_start=NOV[0], period_end=NOV[1], rules=rules)
    assert (r.response.numerator, r.response.denominator) == (1, 2)
    assert (r.resolution.numerator, r.resolution.denominator) == (1, 2)
    assert (r.satisfaction.numerator, r.satisfaction.denominator) == (Decimal("2.6"), 4)
    assert r.satisfaction.percent == "65.0%"
    assert (r.signoff.numerator, r.signoff.denominator) == (1, 2)
    dec = metrics.rates(
        ServiceRequest.objects.all(),
        period_start=datetime(2026, 12, 1, tzinfo=SH),
        period_end=datetime(2027, 1, 1, tzinfo=SH),
        rules=rules,
    )
    # December: only c4's voice (w2 counts there for nothing else)
    assert (dec.satisfaction.numerator, dec.satisfaction.denominator) == (1, 1)
    assert dec.resolution.denominator == 0 and dec.response.denominator == 0
    # the rates page groups a voice with its work order (per place, level, unit)
    table = metrics.rates_table(
        make_user("13900000060", "街道书记", "subdistrict_staff", tree.subdistrict), tree.subdistrict, NOV
    )
    assert (table.total.satisfaction.numerator, table.total.satisfaction.denominator) == (Decimal("2.6"), 4)
    community_1 = [row for row in table.places if row.place == tree.community_1][0]
    assert community_1.rates.satisfaction.denominator == 4
