"""/api/v1/mutual-aid: the list (only what the caller may see, no household or phone, the contact only for
the two sides after the pick, audited), posting (201, 200 on replay, 404 for a household outside, 422 for
the medicine rule naming the field), "我能帮" (201, 200 again, 403 own post or not in reach, 404 outside,
409 when someone acted first) and 401 for the anonymous."""

from __future__ import annotations

import json

import pytest

from linjialin.core.models import AuditEvent
from linjialin.mutual_aid.models import Post, PostState, Response
from linjialin.mutual_aid.services import posts

from .test_posts_fixtures import _english, need, post_fixture, resident_a2_fixture, resident_x_fixture  # noqa: F401

URL = "/api/v1/mutual-aid"


def get(client, path, **params):
    return client.get(URL + path, params, HTTP_ACCEPT_LANGUAGE="en")


def post_json(client, path, body):
    return client.post(
        URL + path, json.dumps(body), content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"
    )


def body(**kw):
    values = {"kind": "need", "category": "lending", "text": "借个梯子用一下", "client_token": "t-1"}
    values.update(kw)
    return values


def test_anonymous_gets_401(client, post):
    assert get(client, "/posts").status_code == 401
    assert post_json(client, "/posts", body()).status_code == 401
    assert post_json(client, f"/posts/{post.pk}/respond", {}).status_code == 401


def test_the_list_shows_what_the_caller_may_see(
    login, post, tree, resident_a, resident_a2, resident_b, resident_x, outsider, entrance_leader_a
):
    items = get(login(resident_a2), "/posts").json()["items"]
    assert [i["id"] for i in items] == [post.pk]
    item = items[0]
    assert item["relation"] == 1 and item["mine"] is False and item["responses"] is None
    assert item["contact"] is None and item["care"] is False
    assert "household" not in json.dumps(item) and "1380000" not in json.dumps(item)
    mine = get(login(resident_a), "/posts").json()["items"][0]
    assert mine["mine"] is True and mine["responses"] == 0
    for user in (resident_b, resident_x, outsider):
        assert get(login(user), "/posts").json() == {"count": 0, "limit": 50, "offset": 0, "items": []}
    assert get(login(entrance_leader_a), "/posts").json()["count"] == 1  # moderator of entrance A
    assert get(login(resident_a2), "/posts", kind="offer").json()["count"] == 0
    assert get(login(resident_a2), "/posts", category="cars").status_code == 422


def test_the_contact_appears_for_the_two_after_the_pick_and_is_audited(
    login, post, tree, resident_a, resident_a2
):
    response = posts.respond(resident_a2, post, household=tree.household_a2)
    assert get(login(resident_a), "/posts").json()["items"][0]["contact"] is None
    posts.pick(resident_a, post, response, contact="door")
    contact = get(login(resident_a2), "/posts", mine=True).json()["items"][0]["contact"]
    assert (
        contact["kind"] == "door"
        and contact["value"] == tree.household_a1.name
        and contact["side"] == "requester"
    )
    contact = get(login(resident_a), "/posts").json()["items"][0]["contact"]
    assert contact["kind"] == "relay" and contact["value"].startswith("95013 转 ")
    viewed = AuditEvent.objects.filter(action="mutual_aid.contact.viewed")
    assert {e.actor_id for e in viewed} == {resident_a.pk, resident_a2.pk}


def test_posting_a_need(login, tree, resident_a, resident_b, entrance_leader_a):
    client = login(resident_a)
    created = post_json(client, "/posts", body())
    assert created.status_code == 201
    data = created.json()
    assert data["state"] == "open" and data["reach"] == 1 and data["mine"] is True
    assert Post.objects.get(pk=data["id"]).household == tree.household_a1  # the default: their home
    again = post_json(client, "/posts", body())
    assert again.status_code == 200 and again.json()["id"] == data["id"]
    assert Post.objects.count() == 1
    outside = post_json(client, "/posts", body(household_id=tree.household_b1.pk, client_token="t-2"))  # noqa: S106
    assert outside.status_code == 404
    for_elder = post_json(
        login(entrance_leader_a),
        "/posts",
        body(household_id=tree.household_a1.pk, client_token="t-3"),  # noqa: S106
    )
    assert for_elder.status_code == 201


def test_posting_refuses_prescription_drugs_naming_the_field(login, tree, resident_a):
    response = post_json(login(resident_a), "/posts", body(category="medicine", text="有多余的头孢，谁要"))
    assert response.status_code == 422
    data = response.json()
    assert "头孢" in data["fields"]["text"][0] and "120" in data["detail"]
    assert not Post.objects.exists()
    bad = post_json(login(resident_a), "/posts", body(kind="sell", text=" "))
    assert bad.status_code == 422 and {"kind", "text"} <= set(bad.json()["fields"])


def test_staff_without_a_home_and_outside_the_household_get_403_or_404(
    login, tree, community_secretary, auditor
):
    assert post_json(login(auditor), "/posts", body()).status_code == 403
    assert post_json(login(auditor), "/posts", body(household_id=tree.household_a1.pk)).status_code == 404


def test_responding(login, post, tree, resident_a, resident_a2, resident_b, resident_x):
    url = f"/posts/{post.pk}/respond"
    first = post_json(login(resident_a2), url, {"note": "我有，马上送"})
    assert first.status_code == 201 and first.json()["state"] == "offered"
    again = post_json(login(resident_a2), url, {})
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert post_json(login(resident_a), url, {}).status_code == 403  # own post
    assert post_json(login(resident_b), url, {}).status_code == 404  # not reached: not visible
    assert post_json(login(resident_x), url, {}).status_code == 404
    assert post_json(login(resident_a2), "/posts/999999/respond", {}).status_code == 404
    assert post_json(login(resident_a2), "/posts/abc/respond", {}).status_code == 422
    bad = post_json(login(resident_a2), url, {"note": "x" * 201})
    assert bad.status_code == 422
    assert Response.objects.count() == 1


def test_responding_after_the_pick_is_refused(login, post, tree, resident_a, resident_a2, entrance_leader_a):
    from linjialin.places.models import Resident
    from linjialin.testing.plugin import make_user

    late = make_user("13700001090", "晚到的邻居", "resident", tree.household_a2)
    Resident.objects.create(
        household=tree.household_a2, path=tree.household_a2.path, name="晚到的邻居", user=late
    )
    response = posts.respond(resident_a2, post, household=tree.household_a2)
    posts.pick(resident_a, post, response)
    assert post_json(login(late), f"/posts/{post.pk}/respond", {}).status_code == 404  # no longer open
    posts.hide(entrance_leader_a, post, reason="核实")
    assert Post.objects.get(pk=post.pk).state == PostState.HIDDEN


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("resident_a2", 200),
        ("entrance_leader_a", 200),
        ("grid_worker", 200),
        ("community_worker", 200),
        ("resident_b", 404),
        ("resident_x", 404),
        ("outsider", 404),
    ],
)
def test_who_sees_the_post_in_the_list(request, login, post, persona, status):
    user = request.getfixturevalue(persona)
    ids = [i["id"] for i in get(login(user), "/posts").json()["items"]]
    assert (post.pk in ids) == (status == 200)
