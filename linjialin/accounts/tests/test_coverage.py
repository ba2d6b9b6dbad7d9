"""楼门长 coverage pages: assign, replace, end with reason, history, scope and conflicts."""

import pytest
from django.urls import reverse

from linjialin.accounts import services
from linjialin.accounts.models import RoleGrant, User
from linjialin.accounts.roles import Role
from linjialin.core.errors import Conflict
from linjialin.core.models import AuditEvent
from linjialin.testing.plugin import make_user


def current_leaders(place, role=Role.ENTRANCE_LEADER, **post):
    return list(RoleGrant.objects.current().filter(place=place, role=role, **post))


def seen(place):
    """The hidden `seen` value the page renders: the current leader grants on the post."""
    return ",".join(str(g.pk) for g in RoleGrant.objects.current().filter(place=place))


def assign_url(place):
    return reverse("accounts:coverage_assign", args=[place.pk])


def test_overview_counts_covered_and_uncovered_entrances(tree, community_worker, entrance_leader_a, login):
    response = login(community_worker).get(reverse("accounts:coverage"))
    assert response.status_code == 200
    rows = {r.community.pk: r for r in response.context["rows"]}
    assert set(rows) == {tree.community_1.pk}  # community 2 is not in this worker's scope
    row = rows[tree.community_1.pk]
    assert (row.entrances, row.covered, row.uncovered, row.percent) == (2, 1, 1, 50.0)


def test_subdistrict_staff_sees_every_community(tree, subdistrict_staff, login):
    response = login(subdistrict_staff).get(reverse("accounts:coverage"))
    assert {r.community.pk for r in response.context["rows"]} == {tree.community_1.pk, tree.community_2.pk}
    assert response.context["total"].entrances == 3


def test_community_page_lists_entrances_and_filters_uncovered(
    tree, community_worker, entrance_leader_a, login
):
    client = login(community_worker)
    url = reverse("accounts:coverage_community", args=[tree.community_1.pk])
    page = client.get(url)
    assert [r.entrance for r in page.context["rows"]] == [tree.entrance_a, tree.entrance_b]
    assert "楼门长A" in page.content.decode() and "139****0003" in page.content.decode()
    assert "13900000003" not in page.content.decode()  # masked
    uncovered = client.get(url, {"uncovered": "1"})
    assert [r.entrance for r in uncovered.context["rows"]] == [tree.entrance_b]


def test_assign_an_existing_resident_account_as_entrance_leader(tree, community_worker, resident_b, login):
    client = login(community_worker)
    response = client.post(
        assign_url(tree.entrance_b),
        {"role": "entrance_leader", "candidate": f"user:{resident_b.pk}", "seen": seen(tree.entrance_b)},
    )
    assert response.status_code == 302
    [grant] = current_leaders(tree.entrance_b)
    assert grant.user == resident_b and grant.granted_by == community_worker
    assert AuditEvent.objects.filter(
        action="grant.created", object_id=str(grant.pk), actor=community_worker
    ).exists()
    page = client.get(response["Location"])
    assert "王五" in page.content.decode()


def test_search_finds_residents_by_name_and_mobile_digits_in_scope_only(tree, community_worker, login):
    client = login(community_worker)
    url = reverse("accounts:coverage_community", args=[tree.entrance_b.pk])
    by_name = client.get(url, {"q": "王"}).context["candidates"]
    assert [c.name for c in by_name] == ["王五"]
    by_digits = client.get(url, {"q": "0003"}).context["candidates"]
    assert [c.value for c in by_digits] == [f"resident:{tree.resident_b1.pk}"]
    assert by_digits[0].mobile_masked == "138****0003"
    # 赵六 lives in community 2: never offered to a community-1 worker
    assert client.get(url, {"q": "赵"}).context["candidates"] == []


def test_assign_a_resident_without_account_creates_one_with_initial_password(tree, community_worker, login):
    client = login(community_worker)
    response = client.post(
        assign_url(tree.entrance_b),
        {"role": "entrance_leader", "candidate": f"resident:{tree.resident_b1.pk}", "seen": ""},
        follow=True,
    )
    user = User.objects.get(mobile="13800000003")
    assert user.display_name == "王五" and user.has_usable_password()
    assert current_leaders(tree.entrance_b)[0].user == user
    texts = [str(m) for m in response.context["messages"]]
    assert any("13800000003" in t and ("Initial password" in t or "初始密码" in t) for t in texts)
    assert AuditEvent.objects.filter(action="user.created", object_id=str(user.pk)).exists()
    tree.resident_b1.refresh_from_db()
    assert tree.resident_b1.user == user  # the new account is the resident's: they see their own household
    assert AuditEvent.objects.filter(
        action="resident.account_linked", object_id=str(tree.resident_b1.pk)
    ).exists()


def test_assign_new_person_by_mobile_and_name(tree, community_worker, login):
    client = login(community_worker)
    response = client.post(
        assign_url(tree.entrance_b),
        {"role": "entrance_leader", "mobile": "13712345678", "name": "新楼门长", "seen": ""},
    )
    assert response.status_code == 302
    assert current_leaders(tree.entrance_b)[0].user.display_name == "新楼门长"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"mobile": "1371234"}, "mobile", "11"),
        ({"mobile": "13712345678"}, "name", ""),
        ({}, "mobile", ""),
        ({"role": "floor_leader", "mobile": "13712345678", "name": "甲"}, "floor", ""),
        ({"candidate": "user:999999"}, "candidate", ""),
    ],
)
def test_bad_assign_input_names_the_field_and_writes_nothing(
    tree, community_worker, login, data, field, message
):
    client = login(community_worker)
    before = (RoleGrant.objects.count(), User.objects.count(), AuditEvent.objects.count())
    response = client.post(assign_url(tree.entrance_b), {"role": "entrance_leader", "seen": "", **data})
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert field in errors and message in " ".join(errors[field])
    assert (RoleGrant.objects.count(), User.objects.count(), AuditEvent.objects.count()) == before


def test_replace_ends_the_old_leader_with_reason_and_keeps_one_current(
    tree, community_worker, entrance_leader_a, resident_a, login
):
    client = login(community_worker)
    old = current_leaders(tree.entrance_a)[0]
    response = client.post(
        assign_url(tree.entrance_a),
        {
            "role": "entrance_leader",
            "candidate": f"user:{resident_a.pk}",
            "reason": "搬走了",
            "seen": seen(tree.entrance_a),
        },
    )
    assert response.status_code == 302
    old.refresh_from_db()
    assert old.valid_to is not None and old.end_reason == "搬走了" and old.ended_by == community_worker
    assert [g.user for g in current_leaders(tree.entrance_a)] == [resident_a]
    history = client.get(reverse("accounts:coverage_community", args=[tree.entrance_a.pk])).context["history"]
    assert {g.user for g in history} == {resident_a, entrance_leader_a}


def test_replace_is_one_transaction_a_failure_keeps_the_old_leader(
    tree, community_worker, entrance_leader_a, resident_a, monkeypatch
):
    def broken_grant_role(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "grant_role", broken_grant_role)
    with pytest.raises(RuntimeError):
        services.assign_leader(
            community_worker, role="entrance_leader", place=tree.entrance_a, user=resident_a
        )
    assert [g.user for g in current_leaders(tree.entrance_a)] == [entrance_leader_a]
    assert not AuditEvent.objects.filter(action="grant.ended").exists()


def test_end_with_reason_and_history_shows_it(tree, community_worker, entrance_leader_a, login):
    client = login(community_worker)
    grant = current_leaders(tree.entrance_a)[0]
    response = client.post(
        reverse("accounts:coverage_end", args=[grant.pk]), {"reason": "身体原因"}, follow=True
    )
    assert response.status_code == 200
    assert current_leaders(tree.entrance_a) == []
    grant.refresh_from_db()
    assert grant.end_reason == "身体原因"
    assert AuditEvent.objects.filter(
        action="grant.ended", object_id=str(grant.pk), reason="身体原因"
    ).exists()
    assert "身体原因" in response.content.decode()  # history on the entrance page


def test_end_without_reason_is_refused(tree, community_worker, entrance_leader_a, login):
    grant = current_leaders(tree.entrance_a)[0]
    response = login(community_worker).post(
        reverse("accounts:coverage_end", args=[grant.pk]), {"reason": " "}, follow=True
    )
    assert any("reason" in str(m).lower() or "原因" in str(m) for m in response.context["messages"])
    assert current_leaders(tree.entrance_a) == [grant]


def test_second_end_of_the_same_grant_gets_a_clear_message(
    tree, community_worker, community_secretary, entrance_leader_a, login, client
):
    grant = current_leaders(tree.entrance_a)[0]
    url = reverse("accounts:coverage_end", args=[grant.pk])
    assert login(community_worker).post(url, {"reason": "第一次"}).status_code == 302
    client.force_login(community_secretary)
    response = client.post(url, {"reason": "第二次"}, follow=True)
    texts = " ".join(str(m) for m in response.context["messages"])
    assert "already been ended" in texts or "已经结束" in texts
    grant.refresh_from_db()
    assert grant.end_reason == "第一次"
    assert AuditEvent.objects.filter(action="grant.ended", object_id=str(grant.pk)).count() == 1


def test_concurrent_end_one_wins_the_other_gets_conflict(
    tree, community_worker, community_secretary, entrance_leader_a
):
    stale_1, stale_2 = (RoleGrant.objects.get(pk=current_leaders(tree.entrance_a)[0].pk) for _ in range(2))
    services.end_grant(community_worker, stale_1, reason="甲")
    with pytest.raises(Conflict):
        services.end_grant(community_secretary, stale_2, reason="乙")
    assert RoleGrant.objects.get(pk=stale_1.pk).end_reason == "甲"


def test_assign_on_a_post_changed_meanwhile_is_refused(
    tree, community_worker, entrance_leader_a, resident_a, login
):
    client = login(community_worker)
    stale_seen = ""  # the page was shown before 楼门长A was assigned
    response = client.post(
        assign_url(tree.entrance_a),
        {"role": "entrance_leader", "candidate": f"user:{resident_a.pk}", "seen": stale_seen},
        follow=True,
    )
    texts = " ".join(str(m) for m in response.context["messages"])
    assert "changed this post" in texts or "更改" in texts
    assert [g.user for g in current_leaders(tree.entrance_a)] == [entrance_leader_a]


def test_assign_floor_leader_and_building_leader(tree, community_worker, resident_a, resident_b, login):
    client = login(community_worker)
    r1 = client.post(
        assign_url(tree.entrance_a),
        {"role": "floor_leader", "floor": "2", "candidate": f"user:{resident_a.pk}", "seen": ""},
    )
    assert r1.status_code == 302
    [floor_grant] = current_leaders(tree.entrance_a, Role.FLOOR_LEADER)
    assert floor_grant.floor == 2 and floor_grant.user == resident_a
    r2 = client.post(
        assign_url(tree.community_1),
        {
            "role": "building_leader",
            "building": tree.building_1.pk,
            "candidate": f"user:{resident_b.pk}",
            "seen": "",
        },
    )
    assert r2.status_code == 302
    [b_grant] = current_leaders(tree.community_1, Role.BUILDING_LEADER)
    assert b_grant.building == tree.building_1 and b_grant.user == resident_b
    page = client.get(reverse("accounts:coverage_community", args=[tree.community_1.pk]))
    assert page.context["summary"].buildings_covered == 1 and page.context["summary"].floor_leaders == 1


def test_building_of_another_community_is_404(tree, community_worker, resident_a, login):
    from linjialin.places.models import Building

    other = Building.objects.exclude(pk=tree.building_1.pk).get()
    client = login(community_worker)
    assert (
        client.get(
            reverse("accounts:coverage_community", args=[tree.community_1.pk]), {"building": other.pk}
        ).status_code
        == 404
    )
    assert (
        client.post(
            assign_url(tree.community_1),
            {"role": "building_leader", "building": other.pk, "candidate": f"user:{resident_a.pk}"},
        ).status_code
        == 404
    )


def test_outsider_gets_404_everywhere_in_another_community(
    tree, outsider, entrance_leader_a, resident_a, login
):
    client = login(outsider)
    grant = current_leaders(tree.entrance_a)[0]
    assert client.get(reverse("accounts:coverage_community", args=[tree.community_1.pk])).status_code == 404
    assert client.get(reverse("accounts:coverage_community", args=[tree.entrance_a.pk])).status_code == 404
    assert (
        client.post(
            assign_url(tree.entrance_a), {"role": "entrance_leader", "candidate": f"user:{resident_a.pk}"}
        ).status_code
        == 404
    )
    assert client.post(reverse("accounts:coverage_end", args=[grant.pk]), {"reason": "x"}).status_code == 404
    assert current_leaders(tree.entrance_a) == [grant]


def test_visible_without_permission_is_403(tree, subdistrict_dispatcher, entrance_leader_a, login):
    client = login(subdistrict_dispatcher)  # sees the whole subdistrict, manages no coverage
    grant = current_leaders(tree.entrance_a)[0]
    assert client.get(reverse("accounts:coverage")).status_code == 403
    assert client.get(reverse("accounts:coverage_community", args=[tree.community_1.pk])).status_code == 403
    assert client.post(reverse("accounts:coverage_end", args=[grant.pk]), {"reason": "x"}).status_code == 403


def test_entrance_leader_cannot_manage_coverage_of_their_own_entrance(tree, entrance_leader_a, login):
    client = login(entrance_leader_a)
    assert client.get(reverse("accounts:coverage")).status_code == 403
    assert client.get(reverse("accounts:coverage_community", args=[tree.entrance_a.pk])).status_code == 403
    assert client.get(reverse("accounts:coverage_community", args=[tree.entrance_b.pk])).status_code == 404


def test_anonymous_is_sent_to_login(tree, client):
    response = client.get(reverse("accounts:coverage"))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_candidate_from_another_community_cannot_be_smuggled_in(tree, community_worker, login):
    stranger = make_user("13600000000", "路人")
    response = login(community_worker).post(
        assign_url(tree.entrance_b),
        {"role": "entrance_leader", "candidate": f"user:{stranger.pk}", "seen": ""},
    )
    assert response.status_code == 422
    assert current_leaders(tree.entrance_b) == []


def test_community_page_queries_do_not_grow_with_entrances(tree, community_worker, entrance_leader_a, login):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from linjialin.accounts.services import grant_role
    from linjialin.places.models import Level
    from linjialin.places.services import new_place

    client = login(community_worker)
    url = reverse("accounts:coverage_community", args=[tree.community_1.pk])
    client.get(url)  # warm the session
    with CaptureQueriesContext(connection) as before:
        client.get(url)
    for i in range(3, 9):
        entrance = new_place(
            tree.grid_1,
            level=Level.ENTRANCE,
            code=str(i),
            name=f"新楼门{i}",
            compound=tree.compound_1,
            building=tree.building_1,
            unit_no=f"{i}单元",
        )
        entrance.save()
        leader = make_user(f"1350000000{i}", f"楼门长{i}")
        grant_role(None, user=leader, role="entrance_leader", place=entrance, check=False)
    with CaptureQueriesContext(connection) as after:
        response = client.get(url)
    assert len(response.context["rows"]) == 8
    assert len(after) == len(before)


def test_assign_leader_refuses_when_the_post_changed_since_it_was_seen(
    tree, community_worker, entrance_leader_a, resident_a
):
    from linjialin.core.errors import Conflict

    # the worker saw the entrance without a leader, but entrance_leader_a holds it now
    with pytest.raises(Conflict):
        services.assign_leader(
            community_worker,
            role="entrance_leader",
            place=tree.entrance_a,
            user=resident_a,
            expected_holders=[],
        )
    assert [g.user for g in current_leaders(tree.entrance_a)] == [entrance_leader_a]
    seen = [g.pk for g in current_leaders(tree.entrance_a)]
    grant = services.assign_leader(
        community_worker,
        role="entrance_leader",
        place=tree.entrance_a,
        user=resident_a,
        expected_holders=seen,
    )
    assert [g.user for g in grant.replaced] == [entrance_leader_a]
    assert [g.user for g in current_leaders(tree.entrance_a)] == [resident_a]
