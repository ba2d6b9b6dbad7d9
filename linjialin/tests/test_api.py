"""Behaviour of the /api/v1/ endpoints beyond the permission matrix: what each answer contains."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from linjialin.core.models import AuditEvent
from linjialin.places import services
from linjialin.places.models import TagType

API = "/api/v1"


def test_me_lists_roles_with_their_places_and_masks_the_mobile(tree, entrance_leader_a, login):
    body = login(entrance_leader_a).get(f"{API}/me").json()
    assert body["display_name"] == "楼门长A"
    assert body["mobile_masked"] == "139****0003"
    assert [(r["role"], r["place"]["id"]) for r in body["roles"]] == [("entrance_leader", tree.entrance_a.pk)]
    assert "places.unmask" in body["permissions"] and "places.import_roster" not in body["permissions"]


def test_children_carry_counts_below_each_child(tree, community_worker, login):
    rows = login(community_worker).get(f"{API}/places/{tree.grid_1.pk}/children").json()
    by_name = {r["name"]: r for r in rows}
    assert set(by_name) == {"紫荆雅园1号楼1单元", "紫荆雅园1号楼2单元"}
    assert (by_name["紫荆雅园1号楼1单元"]["households"], by_name["紫荆雅园1号楼1单元"]["residents"]) == (2, 2)
    assert (by_name["紫荆雅园1号楼2单元"]["households"], by_name["紫荆雅园1号楼2单元"]["residents"]) == (1, 1)


def test_children_are_filtered_by_scope(tree, grid_worker, login):
    # the grid worker may open grid 1 only; the community's other children are not listed
    client = login(grid_worker)
    assert client.get(f"{API}/places/{tree.community_1.pk}/children").status_code == 404
    assert [r["id"] for r in client.get(f"{API}/places/{tree.grid_1.pk}/children").json()] == [
        tree.entrance_a.pk,
        tree.entrance_b.pk,
    ]


def test_profile_of_an_entrance_and_404_for_other_levels(tree, entrance_leader_a, login):
    client = login(entrance_leader_a)
    services.update_entrance_profile(entrance_leader_a, tree.entrance_a, ebikes=22, spare_keys=6)
    body = client.get(f"{API}/places/{tree.entrance_a.pk}/profile").json()
    assert (body["households"], body["ebikes"], body["spare_keys"]) == (2, 22, 6)
    assert body["empty_nest_elderly_households"] == 1  # 张三, born 1949, lives alone in A1
    assert client.get(f"{API}/places/{tree.household_a1.pk}/profile").status_code == 404


@pytest.fixture
def tagged(tree, community_worker):
    """Resident A1 with one ordinary and one sensitive tag (consent recorded)."""
    services.tag_resident(community_worker, tree.resident_a1, tag=TagType.objects.get(code="volunteer"))
    services.tag_resident(
        community_worker,
        tree.resident_a1,
        tag=TagType.objects.get(code="elderly_alone"),
        consent_source="signed form 2026-03-01",
    )
    return tree


@pytest.mark.parametrize(
    ("persona", "sees_sensitive"),
    [
        ("resident_a", False),
        ("entrance_leader_a", True),
        ("community_worker", True),
        ("subdistrict_staff", False),
    ],
)
def test_residents_are_masked_and_sensitive_tags_need_the_permission(
    tagged, persona, sees_sensitive, login, request
):
    client = login(request.getfixturevalue(persona))
    [resident] = client.get(f"{API}/places/{tagged.household_a1.pk}/residents").json()
    assert resident["mobile_masked"] == "138****0001"
    assert resident["id_number_masked"] == "1101**********002X"
    assert "13800000001" not in str(resident) and "11010519491231002X" not in str(resident)
    codes = {t["code"] for t in resident["tags"]}
    assert codes == ({"volunteer", "elderly_alone"} if sees_sensitive else {"volunteer"})


def test_unmask_returns_full_numbers_and_writes_an_audit_event_with_reason_ip_and_request_id(
    tree, grid_worker, login
):
    client = login(grid_worker)
    response = client.post(
        f"{API}/residents/{tree.resident_a1.pk}/unmask",
        {"reason": "home visit"},
        content_type="application/json",
        headers={"X-Request-ID": "req-unmask-1"},
        REMOTE_ADDR="10.1.2.3",
    )
    assert response.status_code == 200
    assert response.json() == {
        "resident_id": tree.resident_a1.pk,
        "mobile": "13800000001",
        "id_number": "11010519491231002X",
    }
    event = AuditEvent.objects.get(action="resident.unmasked")
    assert (event.actor, event.reason, event.object_id) == (
        grid_worker,
        "home visit",
        str(tree.resident_a1.pk),
    )
    assert (event.ip, event.request_id, event.path) == ("10.1.2.3", "req-unmask-1", tree.resident_a1.path)
    assert "13800000001" not in str(event.after)  # the audit trail itself keeps the numbers masked


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}, {"reason": " x "}])
def test_unmask_without_a_reason_is_422_naming_the_field_and_writes_nothing(tree, grid_worker, login, body):
    response = login(grid_worker).post(
        f"{API}/residents/{tree.resident_a1.pk}/unmask", body, content_type="application/json"
    )
    assert response.status_code == 422
    assert "reason" in response.json()["fields"]
    assert not AuditEvent.objects.filter(action="resident.unmasked").exists()


def test_unmask_needs_the_csrf_token_with_a_session(tree, grid_worker):
    client = Client(enforce_csrf_checks=True)
    client.force_login(grid_worker)
    url = f"{API}/residents/{tree.resident_a1.pk}/unmask"
    refused = client.post(url, {"reason": "home visit"}, content_type="application/json")
    assert refused.status_code == 403
    assert not AuditEvent.objects.filter(action="resident.unmasked").exists()
    client.get("/api/v1/docs")  # any page that uses the token sets the cookie
    token = client.cookies["csrftoken"].value
    accepted = client.post(
        url, {"reason": "home visit"}, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert accepted.status_code == 200


def test_coverage_counts_entrances_with_a_current_leader(tree, community_worker, entrance_leader_a, login):
    [row] = login(community_worker).get(f"{API}/coverage/{tree.community_1.pk}").json()
    assert (row["entrances"], row["covered"], row["uncovered"], row["percent"]) == (2, 1, 1, 50.0)


# --- the audit log ------------------------------------------------------------------------------
@pytest.fixture
def history(tree, community_worker, outsider, grid_worker):
    """A few events at known times in both communities, plus a failed login (no place)."""
    from linjialin.accounts.models import RoleGrant
    from linjialin.accounts.scope import clear_cache
    from linjialin.accounts.services import record_login_failure

    start = timezone.now()
    # the personas were granted their roles today; let the grants reach back before the events
    RoleGrant.objects.update(valid_from=timezone.localdate() - timedelta(days=30))
    for user in (community_worker, outsider, grid_worker):
        clear_cache(user)
    with time_machine.travel(start - timedelta(days=3), tick=False):
        services.unmask_resident(grid_worker, tree.resident_a1, reason="visit 1")
    with time_machine.travel(start - timedelta(days=2), tick=False):
        services.unmask_resident(community_worker, tree.resident_b1, reason="visit 2")
        services.unmask_resident(outsider, tree.resident_x1, reason="visit 3")
    with time_machine.travel(start - timedelta(days=1), tick=False):
        record_login_failure("13912345678")
    # everything else in these tests (persona grants, logins) happens "now"; `before` isolates the four
    return {"start": start, "before": (start - timedelta(hours=1)).isoformat()}


def test_audit_events_newest_first_with_filters(history, tree, auditor, grid_worker, login):
    client = login(auditor)
    assert client.get(f"{API}/audit/events").json()["count"] > 4  # grants and logins of the personas
    all_events = client.get(f"{API}/audit/events", {"to": history["before"]}).json()
    assert all_events["count"] == 4
    assert [e["action"] for e in all_events["items"]] == [
        "login.failure",
        "resident.unmasked",
        "resident.unmasked",
        "resident.unmasked",
    ]
    # a failed login has no place, and the subdistrict auditor still sees it, with the mobile masked
    assert all_events["items"][0]["actor_name"] == "139****5678"

    by_actor = client.get(f"{API}/audit/events", {"actor": grid_worker.pk, "to": history["before"]}).json()
    assert [e["reason"] for e in by_actor["items"]] == ["visit 1"]
    by_action = client.get(f"{API}/audit/events", {"action": "login.failure"}).json()
    assert [e["action"] for e in by_action["items"]] == ["login.failure"]
    by_prefix = client.get(f"{API}/audit/events", {"action": "resident."}).json()
    assert [e["reason"] for e in by_prefix["items"]] == ["visit 3", "visit 2", "visit 1"]
    by_place = client.get(
        f"{API}/audit/events", {"path": tree.community_2.path, "to": history["before"]}
    ).json()
    assert [e["reason"] for e in by_place["items"]] == ["visit 3"]
    window = {
        "from": (history["start"] - timedelta(days=2, hours=1)).isoformat(),
        "to": (history["start"] - timedelta(days=1, hours=1)).isoformat(),
    }
    assert {e["reason"] for e in client.get(f"{API}/audit/events", window).json()["items"]} == {
        "visit 2",
        "visit 3",
    }


def test_audit_events_are_paginated(history, auditor, login):
    client = login(auditor)
    first = client.get(f"{API}/audit/events", {"limit": 3, "to": history["before"]}).json()
    second = client.get(f"{API}/audit/events", {"limit": 3, "offset": 3, "to": history["before"]}).json()
    assert (first["count"], second["count"]) == (4, 4)
    assert len(first["items"]) == 3 and len(second["items"]) == 1
    seqs = [e["seq"] for e in first["items"] + second["items"]]
    assert seqs == sorted(seqs, reverse=True) and len(set(seqs)) == 4
    assert client.get(f"{API}/audit/events", {"limit": 0}).status_code == 422
    assert client.get(f"{API}/audit/events", {"limit": 201}).status_code == 422


def test_community_auditor_sees_only_their_community(history, tree, community_secretary, login):
    items = login(community_secretary).get(f"{API}/audit/events", {"limit": 200}).json()["items"]
    # community 1's unmasking and persona grants; not community 2's, not logins without a place
    assert {e["reason"] for e in items if e["action"] == "resident.unmasked"} == {"visit 1", "visit 2"}
    assert all(e["path"].startswith(tree.community_1.path) for e in items)
    assert "login.failure" not in {e["action"] for e in items}


def test_the_api_answers_in_the_clients_language(client, db):
    assert client.get("/api/v1/me").json()["detail"] != client.get(
        "/api/v1/me", HTTP_ACCEPT_LANGUAGE="en"
    ).json()["detail"]
    english = client.get("/api/v1/me", HTTP_ACCEPT_LANGUAGE="en")
    assert english["Content-Language"] == "en" and english.json()["detail"].isascii()
    assert client.get("/api/v1/me")["Content-Language"] == "zh-hans"  # the default
