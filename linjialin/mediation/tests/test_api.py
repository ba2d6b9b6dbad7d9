"""/api/v1/mediation: the case list and file with the visibility rule (404 for anyone outside), masked
numbers and the audited view, a resident's application (201, 200 on replay, 404 for another household),
and a party's own cases with their public steps."""

from __future__ import annotations

import json

import pytest

from linjialin.core.models import AuditEvent
from linjialin.mediation.models import Case
from linjialin.mediation.services import cases

from .test_cases_fixtures import _english, accept, accepted_fixture, case_fixture, register  # noqa: F401

URL = "/api/v1/mediation"


def get(client, path, **params):
    return client.get(URL + path, params, HTTP_ACCEPT_LANGUAGE="en")


def post(client, path, body):
    return client.post(
        URL + path, json.dumps(body), content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"
    )


def apply_body(tree, key="tok-1", **kw):
    body = {
        "household_id": tree.household_a1.pk,
        "dispute_type": "neighbour",
        "title": "噪音扰民",
        "facts": "楼上每晚装修到十二点",
        "other_party_name": "李四",
        "other_party_mobile": "13800000002",
        "client_token": key,
    }
    return {**body, **kw}


def test_anonymous_gets_401(client, case):
    assert get(client, "/cases").status_code == 401
    assert get(client, f"/cases/{case.pk}").status_code == 401
    assert post(client, "/apply", {}).status_code == 401


def test_the_list_shows_only_visible_cases_with_filters(
    tree, login, case, mediator_a, mediation_manager, outsider
):
    other = accept(mediator_a, register(mediator_a, tree, dispute_type="housing"))
    body = get(login(mediation_manager), "/cases").json()
    assert body["count"] == 2 and {c["id"] for c in body["items"]} == {case.pk, other.pk}
    body = get(login(mediation_manager), "/cases", state="accepted").json()
    assert [c["id"] for c in body["items"]] == [other.pk] and body["items"][0]["due_status"] == "ok"
    assert [c["id"] for c in get(login(mediation_manager), "/cases", type="neighbour").json()["items"]] == [
        case.pk
    ]
    assert get(login(outsider), "/cases").json() == {"count": 0, "limit": 50, "offset": 0, "items": []}
    assert get(login(mediation_manager), "/cases", state="nonsense").status_code == 422


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("mediation_manager", 200),
        ("mediator_a", 200),
        ("resident_a", 200),
        ("mediator_b", 404),
        ("outsider", 404),
        ("community_secretary", 404),
        ("grid_worker", 404),
        ("entrance_leader_a", 404),
    ],
)
def test_the_case_file_matrix(request, login, case, persona, status):
    user = request.getfixturevalue(persona)
    response = get(login(user), f"/cases/{case.pk}")
    assert response.status_code == status
    views = AuditEvent.objects.filter(action="mediation.case.viewed", object_id=str(case.pk), actor=user)
    assert views.count() == (1 if status == 200 else 0)


def test_the_case_file_masks_numbers_and_shows_a_party_the_public_steps(
    login, accepted, mediator_a, resident_a
):
    staff = get(login(mediator_a), f"/cases/{accepted.pk}").json()
    zhang = next(p for p in staff["parties"] if p["name"] == "张三")
    assert zhang["mobile"] == "138****0001" and zhang["id_number"] == "1101**********002X"
    assert zhang["consent"] == "given" and zhang["rights_told"] is True
    assert "13800000001" not in json.dumps(staff, ensure_ascii=False)
    assert staff["roles"] == ["lead", "member"] and staff["team"][0]["lead"] is True
    assert "consent" in [e["kind"] for e in staff["events"]]
    assert staff["court"] == {"apply_by": None, "accept_by": None, "decide_by": None}
    party = get(login(resident_a), f"/cases/{accepted.pk}").json()
    assert party["roles"] == ["party"]
    assert [e["kind"] for e in party["events"]] == ["registered", "accepted"]


def test_a_residents_application_and_its_replay(tree, login, resident_a, resident_b, mediation_manager):
    client = login(resident_a)
    first = post(client, "/apply", apply_body(tree))
    second = post(client, "/apply", apply_body(tree))
    assert (first.status_code, second.status_code) == (201, 200), first.content
    assert first.json()["id"] == second.json()["id"] and Case.objects.count() == 1
    assert first.json()["state"] == "registered" and first.json()["source"] == "application"
    assert AuditEvent.objects.filter(action="mediation.case.registered", actor=resident_a).count() == 1
    assert (
        post(client, "/apply", apply_body(tree, household_id=tree.household_b1.pk, key="x")).status_code
        == 404
    )
    assert post(login(mediation_manager), "/apply", apply_body(tree, key="y")).status_code == 404
    bad = post(client, "/apply", apply_body(tree, other_party_name=" ", other_party_mobile="123", key="z"))
    assert bad.status_code == 422 and {"other_party_name", "other_party_mobile"} <= set(bad.json()["fields"])
    assert Case.objects.count() == 1


def test_my_cases_with_their_public_steps(tree, login, accepted, resident_a, mediator_a, resident_b):
    cases.record_session(
        mediator_a,
        accepted,
        held_at=accepted.accepted_at,
        location="调解室",
        public=False,
        attendees="双方",
        minutes="保密的记录",
    )
    mine = get(login(resident_a), "/mine").json()
    assert [c["id"] for c in mine] == [accepted.pk]
    assert [e["kind"] for e in mine[0]["events"]] == ["registered", "accepted", "session"]
    assert "保密的记录" not in json.dumps(mine, ensure_ascii=False)
    assert get(login(resident_b), "/mine").json() == []
