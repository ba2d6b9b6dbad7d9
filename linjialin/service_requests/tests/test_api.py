"""/api/v1/requests: submit (idempotent), list/detail with scope, transitions with their error codes,
the masked contact and its audit, and the rates endpoint."""

from __future__ import annotations

import json

import pytest
from django.utils import translation

from linjialin.core.models import AuditEvent
from linjialin.core.workflow import TransitionNotAllowed
from linjialin.service_requests.models import ServiceRequest, State
from linjialin.service_requests.workflow import workflow

from .test_metrics import fixed_set, nov  # noqa: F401 (the fixture)

URL = "/api/v1/requests/"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def submit_body(tree, **kw):
    body = {
        "place_id": tree.household_a1.pk,
        "request_type": "help",
        "description": "楼道灯坏了",
        "category": "corridor",
        "client_token": "tok-1",
        "contact_mobile": "13912345678",
    }
    return {**body, **kw}


@pytest.fixture
def submitted(tree, resident_a, client):
    client.force_login(resident_a)
    response = post(client, URL, submit_body(tree))
    assert response.status_code == 201, response.content
    client.logout()
    return ServiceRequest.objects.get(pk=response.json()["id"])


def test_submit_twice_with_the_same_token_is_one_request(tree, resident_a, login):
    client = login(resident_a)
    first = post(client, URL, submit_body(tree))
    second = post(client, URL, submit_body(tree))
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert ServiceRequest.objects.count() == 1
    assert first.json()["state"] == "submitted" and first.json()["level"] == 4


def test_the_same_token_again_is_the_first_request_whatever_screening_would_say(tree, resident_a, login):
    """The replay is found before anything else: not answered 409 because of a newer open request
    like it, and a diverted (not queued) submission sent twice is one request too."""
    from linjialin.testing.plugin import make_user

    client = login(resident_a)
    first = post(client, URL, submit_body(tree, client_token=TOKEN["r-1"]))
    spouse = make_user("13900000071", "李四", "resident", tree.household_a1)
    newer = post(login(spouse), URL, submit_body(tree, client_token=TOKEN["r-1"], repeat="new"))
    assert (first.status_code, newer.status_code) == (201, 201)  # the spouse's token is theirs
    again = post(login(resident_a), URL, submit_body(tree, client_token=TOKEN["r-1"]))
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]

    court = submit_body(tree, description="我已经向法院起诉了物业", client_token=TOKEN["c-1"])
    diverted, twice = post(client, URL, court), post(client, URL, court)
    assert (diverted.status_code, twice.status_code) == (201, 200)
    assert twice.json()["id"] == diverted.json()["id"] and twice.json()["state"] == "not_accepted"
    assert ServiceRequest.objects.count() == 3


def test_a_residents_flat_or_entrance_is_read_with_their_grants(tree, resident_a, login):
    """The place of a submission at one's own flat or its entrance comes with the grants read for the
    scope check; any other place is read on its own (and checked as before)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(resident_a)
    for n, place in enumerate((tree.household_a1, tree.entrance_a)):
        with CaptureQueriesContext(connection) as ctx:
            r = post(client, URL, submit_body(tree, place_id=place.pk, client_token=f"p-{n}", repeat="new"))
        assert r.status_code == 201 and r.json()["place_name"] == place.name
        assert not [q for q in ctx.captured_queries if 'FROM "places_place"' in q["sql"]]
        # read once, for the place and the scope check alike (not once more through request.user's wrapper);
        # the users told of the request are another read (of users, by their grants)
        grants = [
            q["sql"]
            for q in ctx.captured_queries
            if 'FROM "accounts_rolegrant"' in q["sql"] and 'FROM "accounts_user"' not in q["sql"]
        ]
        assert len(grants) == 1
    elsewhere = post(client, URL, submit_body(tree, place_id=tree.household_b1.pk, client_token="p-9"))  # noqa: S106
    assert elsewhere.status_code == 404  # not the resident's: outside their view


def test_a_double_submission_on_someones_behalf_is_one_request(tree, entrance_leader_a, login):
    client = login(entrance_leader_a)
    body = {**submit_body(tree), "channel": "on_behalf", "client_token": "daibao-1"}
    first, second = post(client, URL, body), post(client, URL, body)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"] and ServiceRequest.objects.count() == 1


def test_bad_input_is_422_naming_the_field_and_writes_nothing(tree, resident_a, login):
    client = login(resident_a)
    response = post(client, URL, submit_body(tree, description="   "))
    assert response.status_code == 422 and "description" in response.json()["fields"]
    response = post(client, URL, submit_body(tree, contact_mobile="12ab"))
    assert response.status_code == 422 and "contact_mobile" in response.json()["fields"]
    response = post(client, URL, submit_body(tree, request_type="praise"))
    assert response.status_code == 422 and "request_type" in response.json()["fields"]
    response = post(client, URL, submit_body(tree, place_id=2**63))  # beyond any id column
    assert response.status_code == 422 and "place_id" in response.json()["fields"]
    response = post(client, URL, submit_body(tree, category="no-such"))
    assert response.status_code == 404 and response.json()["detail"] in ("Unknown category.", "未知的类别。")
    assert ServiceRequest.objects.count() == 0


def test_submitting_for_someone_elses_place_is_refused(tree, resident_a, login):
    client = login(resident_a)
    response = post(client, URL, submit_body(tree, place_id=tree.household_x1.pk))
    assert response.status_code == 404
    assert ServiceRequest.objects.count() == 0


def test_the_loop_through_the_api(submitted, resident_a, entrance_leader_a, login):
    client = login(entrance_leader_a)
    base = f"{URL}{submitted.pk}/"
    response = post(client, base + "accept", {})
    assert response.status_code == 200 and response.json()["state"] == "accepted"
    assert post(client, base + "contact", {"note": "上门沟通"}).json()["state"] == "in_progress"
    body = post(client, base + "resolve", {"result": "已更换灯泡"}).json()
    assert body["state"] == "resolved" and [e["kind"] for e in body["timeline"]] == [
        "submitted",
        "accept",
        "contact",
        "resolve",
    ]
    client = login(resident_a)
    response = post(client, base + "rate", {"solved": True, "satisfaction": "satisfied"})
    assert response.status_code == 200 and response.json()["transitions"] == []
    detail = client.get(base.rstrip("/")).json()
    assert detail["state"] == "closed" and detail["satisfaction"] == "satisfied"


def test_an_illegal_transition_is_403_with_the_reason(submitted, resident_a, entrance_leader_a, login):
    client = login(entrance_leader_a)
    response = post(client, f"{URL}{submitted.pk}/resolve", {"result": "done"})
    assert response.status_code == 403
    with translation.override("zh-hans"), pytest.raises(TransitionNotAllowed) as reason:
        workflow.check(submitted, "resolve", entrance_leader_a)
    assert response.json()["detail"] == str(reason.value)  # the API answers in zh-hans (the default)
    client = login(resident_a)
    response = post(client, f"{URL}{submitted.pk}/accept", {})
    assert response.status_code == 403
    submitted.refresh_from_db()
    assert submitted.state == State.SUBMITTED


def test_outsiders_and_other_residents_get_404(submitted, outsider, resident_b, login):
    for user in (outsider, resident_b):
        client = login(user)
        assert client.get(f"{URL}{submitted.pk}").status_code == 404
        assert post(client, f"{URL}{submitted.pk}/accept", {}).status_code == 404
        assert client.get(URL).json()["items"] == []
    assert client.get(f"{URL}999999").status_code == 404


def test_transition_bad_input_is_422(submitted, entrance_leader_a, login):
    client = login(entrance_leader_a)
    post(client, f"{URL}{submitted.pk}/accept", {})
    response = post(client, f"{URL}{submitted.pk}/contact", {"note": " "})
    assert response.status_code == 422 and "note" in response.json()["fields"]
    response = post(client, f"{URL}{submitted.pk}/contact", {})
    assert response.status_code == 422 and "note" in response.json()["fields"]
    response = post(client, f"{URL}{submitted.pk}/request_extension", {"reason": "x"})
    assert response.status_code == 422 and "days" in response.json()["fields"]


def test_list_filters_and_scope(submitted, tree, grid_worker, outsider, resident_a, login):
    client = login(grid_worker)
    assert [r["id"] for r in client.get(URL).json()["items"]] == [submitted.pk]
    assert client.get(URL, {"state": "closed"}).json()["items"] == []
    assert client.get(URL, {"level": 4}).json()["count"] == 1
    assert client.get(URL, {"overdue": "false"}).json()["count"] == 1
    assert client.get(URL, {"place": tree.entrance_b.pk}).json()["count"] == 0
    assert client.get(URL, {"place": 99999}).json()["count"] == 0
    assert client.get(URL, {"state": "lost"}).status_code == 422
    assert login(resident_a).get(URL, {"mine": "true"}).json()["count"] == 1


def test_contact_masked_except_for_the_handler_and_viewing_it_is_audited(
    submitted, grid_worker, entrance_leader_a, subdistrict_dispatcher, login
):
    masked = login(grid_worker).get(f"{URL}{submitted.pk}").json()["contact"]
    assert masked == {"name": "张*", "mobile": "139****5678", "masked": True}
    assert not AuditEvent.objects.filter(action="request.contact_viewed").exists()
    client = login(entrance_leader_a)
    post(client, f"{URL}{submitted.pk}/accept", {})  # now the owning handler
    contact = client.get(f"{URL}{submitted.pk}").json()["contact"]
    assert contact == {"name": "张三", "mobile": "13912345678", "masked": False}
    assert login(subdistrict_dispatcher).get(f"{URL}{submitted.pk}").json()["contact"]["masked"] is False
    viewers = set(
        AuditEvent.objects.filter(action="request.contact_viewed").values_list("actor__mobile", flat=True)
    )
    assert viewers == {entrance_leader_a.mobile, subdistrict_dispatcher.mobile}


def test_rates_endpoint(fixed_set, tree, subdistrict_dispatcher, outsider, login):  # noqa: F811
    client = login(subdistrict_dispatcher)
    query = {"place": tree.subdistrict.pk, "from": "2026-11-01", "to": "2026-11-30"}
    body = client.get(URL + "rates", query).json()
    assert body["total"]["response"]["percent"] == "60.0%"
    with translation.override("zh-hans"):  # the API answers in the default language
        expected = nov(ServiceRequest.objects.all()).satisfaction.formula
    assert body["total"]["satisfaction"]["formula"] == expected and "0.80" in expected
    assert [c["place_id"] for c in body["children"]] == [tree.community_1.pk, tree.community_2.pk]
    assert body["children"][1]["rates"]["resolution"]["percent"] == "—"
    assert body["children"][1]["rates"]["resolution"]["value"] is None
    levels = {row["level"]: row["rates"]["response"]["denominator"] for row in body["by_level"]}
    assert levels == {0: 0, 1: 0, 2: 1, 3: 0, 4: 4}
    backwards = client.get(URL + "rates", {**query, "from": "2026-11-30", "to": "2026-11-01"}).json()
    assert backwards["total"] == body["total"]
    response = client.get(URL + "rates", {**query, "to": "30.11.2026"})
    assert response.status_code == 422 and "to" in response.json()["fields"]
    assert client.get(URL + "rates", {"from": "2026-11-01"}).status_code == 422
    outsider_client = login(outsider)
    assert outsider_client.get(URL + "rates", {**query, "place": tree.community_1.pk}).status_code == 404
    body = outsider_client.get(URL + "rates", {**query, "place": tree.community_2.pk}).json()
    assert body["total"]["response"]["denominator"] == 1 and body["total"]["score"] == "100"


# --- handling units over the API: dispatch to a unit, 吹哨, 报到, report back, reassign -----------------
def test_units_dispatch_whistle_check_in_and_reassign_over_the_api(
    tree, submitted, login, subdistrict_dispatcher, housing_unit, housing_handler, city_unit, city_handler
):
    from linjialin.service_requests.models import HandlingLevel

    ServiceRequest.objects.filter(pk=submitted.pk).update(
        level=HandlingLevel.SUBDISTRICT, state=State.ESCALATED
    )
    desk = login(subdistrict_dispatcher)
    units = desk.get(f"{URL}units", {"place": tree.household_a1.pk}).json()
    assert {u["code"] for u in units} == {"housing", "city"}
    r = post(desk, f"{URL}{submitted.pk}/dispatch", {"level": 0})
    assert r.status_code == 422 and "unit" in r.json()["fields"]
    r = post(desk, f"{URL}{submitted.pk}/dispatch", {"level": 0, "unit_id": 999999})
    assert r.status_code == 422
    r = post(desk, f"{URL}{submitted.pk}/dispatch", {"level": 0, "unit_id": housing_unit.pk})
    assert r.status_code == 200 and r.json()["unit_id"] == housing_unit.pk
    r = post(login(housing_handler), f"{URL}{submitted.pk}/accept", {"note": ""})
    assert r.status_code == 200
    desk = login(subdistrict_dispatcher)  # one test client: each login switches who it is
    r = post(
        desk, f"{URL}{submitted.pk}/summon", {"kind": "whistle", "unit_ids": [city_unit.pk], "note": "现场会"}
    )
    assert r.status_code == 200
    (assist,) = r.json()["assists"]
    assert assist["unit_name"] == "区城管委" and assist["checked_in_at"] is None
    url = f"{URL}{submitted.pk}/assists/{assist['id']}/check_in"
    assert post(login(housing_handler), url, {}).status_code == 403  # not a member of the summoned unit
    city = login(city_handler)
    assert post(city, url, {}).status_code == 200
    assert post(city, url, {}).status_code == 409  # reported already
    r = post(city, f"{URL}{submitted.pk}/assists/{assist['id']}/report_back", {"report": "已配合清理"})
    assert r.json()["assists"][0]["report"] == "已配合清理"
    desk = login(subdistrict_dispatcher)
    r = post(
        desk, f"{URL}{submitted.pk}/reassign", {"level": 0, "unit_id": city_unit.pk, "reason": "城管职责"}
    )
    assert r.status_code == 200, r.content.decode()
    assert r.json()["unit_id"] == city_unit.pk and r.json()["state"] == "submitted"


def test_an_outsider_cannot_reach_a_requests_assists(tree, submitted, login, outsider):
    assert post(login(outsider), f"{URL}{submitted.pk}/assists/1/check_in", {}).status_code == 404


# --- screening over the API (docs/intake.md) ----------------------------------------------------------
TOKEN = {name: f"client-{name}" for name in ("c-1", "c-2", "r-1", "r-2", "r-3")}  # idempotency tokens


def test_a_court_matter_over_the_api_is_not_accepted_with_the_channel_unless_confirmed(
    tree, resident_a, login
):
    client = login(resident_a)
    r = post(client, URL, submit_body(tree, description="我已经向法院起诉了物业", client_token=TOKEN["c-1"]))
    assert r.status_code == 201
    body = r.json()
    assert (body["state"], body["diversion"]) == ("not_accepted", "litigation")
    assert body["diversion_message"] and body["referred_to"]
    r = post(
        client,
        URL,
        submit_body(tree, description="我已经向法院起诉了物业", client_token=TOKEN["c-2"], not_diverted=True),
    )
    assert r.status_code == 201 and r.json()["state"] == "submitted" and r.json()["diversion"] is None


def test_a_repeat_over_the_api_answers_409_then_links(tree, resident_a, login):
    client = login(resident_a)
    first = post(client, URL, submit_body(tree, client_token=TOKEN["r-1"])).json()
    r = post(client, URL, submit_body(tree, client_token=TOKEN["r-2"]))
    assert r.status_code == 409
    assert r.json()["repeat_of"] == first["id"] and r.json()["repeat_of_number"] == first["number"]
    assert ServiceRequest.objects.count() == 1  # nothing written
    r = post(client, URL, submit_body(tree, client_token=TOKEN["r-2"], repeat="link"))
    assert r.status_code == 201
    assert (r.json()["state"], r.json()["repeat_of"]) == ("merged", first["id"])
    r = post(client, URL, submit_body(tree, client_token=TOKEN["r-3"], repeat="new"))
    assert r.status_code == 201 and r.json()["state"] == "submitted"


def test_the_rates_answer_has_a_row_per_owning_unit(
    tree, submitted, login, subdistrict_dispatcher, housing_unit
):
    from linjialin.service_requests import services
    from linjialin.service_requests.models import HandlingLevel

    ServiceRequest.objects.filter(pk=submitted.pk).update(
        level=HandlingLevel.SUBDISTRICT, state=State.ESCALATED
    )
    submitted.refresh_from_db()
    services.dispatch_request(
        subdistrict_dispatcher, submitted, level=HandlingLevel.DEPARTMENT, unit=housing_unit
    )
    body = login(subdistrict_dispatcher).get(f"{URL}rates", {"place": tree.subdistrict.pk}).json()
    (row,) = body["by_unit"]
    assert (row["unit_id"], row["unit_name"]) == (housing_unit.pk, "区住建委")
    # due for acceptance later than now: nothing is due yet, so the response rate has no denominator
    assert row["rates"]["response"]["denominator"] == 0
