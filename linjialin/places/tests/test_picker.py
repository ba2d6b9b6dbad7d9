"""The household picker (places/picker.py) on 代报 and the mutual-aid post page: a scoped search that
answers at most 20 households, a hidden input checked against the scope, and pages that never carry
the whole list of households (with and without JavaScript)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from linjialin.mutual_aid.models import Post
from linjialin.places import selectors
from linjialin.places.models import Level
from linjialin.places.services import new_place
from linjialin.service_requests.models import ServiceRequest

pytestmark = pytest.mark.django_db
SEARCH = reverse("places:household_search")
BEHALF = reverse("requests:behalf")
NEW_POST = reverse("mutual_aid:new")


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def add_households(entrance, n: int):
    """n more households in the entrance, rooms 301, 302, …"""
    made = []
    for i in range(n):
        room = str(301 + i)
        name = f"{entrance.name}{room}"
        place = new_place(entrance, level=Level.HOUSEHOLD, code=room, name=name, room=room)
        place.save()
        made.append(place)
    return made


def behalf_form(**kw):
    data = {
        "channel": "on_behalf",
        "request_type": "help",
        "description": "水管漏水，需要维修",
        "category": "",
        "urgency": "normal",
        "contact_name": "李奶奶",
        "client_token": "p-1",
    }
    data.update(kw)
    return data


def post_form(**kw):
    data = {
        "kind": "need",
        "category": "errands",
        "text": "帮忙取个快递",
        "urgency": "normal",
        "max_reach": "1",
        "expires_in_hours": "24",
        "client_token": "a-1",
    }
    data.update(kw)
    return data


# --- the search --------------------------------------------------------------------------------------
def test_search_finds_by_room_building_and_resident_name_within_scope(tree, grid_worker):
    def found(query):
        return set(selectors.search_households_for_user(grid_worker, "requests", query))

    assert found("1单元 201") == {tree.household_a2}
    assert found("1-1-201") == {tree.household_a2}  # building-unit-room as people type it
    assert found("李四") == {tree.household_a2}  # a resident's name
    assert found("101") == {tree.household_a1, tree.household_b1}  # not 牡丹园's 101: another grid
    assert found("赵六") == set() and found("牡丹园") == set()
    assert found("") == set() and found("   ") == set()  # no query, no list


def test_an_outsider_gets_nothing_from_another_community(login, tree, outsider):
    assert selectors.search_households_for_user(outsider, "requests", "紫荆雅园") == []
    html = login(outsider).get(SEARCH, {"for": "requests", "household_q": "紫荆"}).content.decode()
    assert tree.household_a1.name not in html and "没有您可选择的匹配住户" in html
    own = login(outsider).get(SEARCH, {"for": "requests", "household_q": "101"}).content.decode()
    assert f'value="{tree.household_x1.pk}"' in own


def test_the_search_answers_at_most_twenty_and_says_there_are_more(login, tree, entrance_leader_a):
    add_households(tree.entrance_a, 30)
    response = login(entrance_leader_a).get(SEARCH, {"for": "requests", "household_q": "紫荆雅园"})
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("data-picker-pick") == selectors.PICKER_LIMIT == 20
    assert "匹配的住户较多" in html
    narrow = login(entrance_leader_a).get(SEARCH, {"for": "requests", "household_q": "1单元 310"})
    assert narrow.content.decode().count("data-picker-pick") == 1


def test_the_search_endpoint_refuses_unknown_purposes_and_anonymous(client, login, tree, grid_worker):
    assert client.get(SEARCH, {"for": "requests", "household_q": "101"}).status_code == 302
    assert login(grid_worker).get(SEARCH, {"for": "places", "household_q": "101"}).status_code == 403
    bad_field = login(grid_worker).get(SEARCH, {"for": "requests", "field": "x<y", "x<y_q": "101"})
    assert bad_field.status_code == 403


def test_a_resident_finds_only_their_own_household(tree, resident_a):
    assert selectors.search_households_for_user(resident_a, "aid", "紫荆雅园") == [tree.household_a1]


# --- 代报 -------------------------------------------------------------------------------------------------
def test_the_daibao_page_carries_no_household_list(login, tree, grid_worker):
    extra = add_households(tree.entrance_b, 25)
    html = login(grid_worker).get(BEHALF).content.decode()
    assert 'name="household_q"' in html and 'type="hidden" name="household"' in html
    assert not any(h.name in html for h in [*extra, tree.household_a1, tree.household_a2])
    assert "<option" not in html.split('name="household_q"')[0].split("data-picker")[-1]


def test_daibao_with_a_household_outside_the_scope_is_refused_with_a_clear_message(login, tree, grid_worker):
    response = login(grid_worker).post(BEHALF, behalf_form(household=tree.household_x1.pk))
    assert response.status_code == 422
    assert "您无权为该住户登记诉求" in response.content.decode()
    assert not ServiceRequest.objects.exists()


def test_daibao_with_a_picked_household_is_filed_there(login, tree, entrance_leader_a):
    response = login(entrance_leader_a).post(BEHALF, behalf_form(household=tree.household_a2.pk))
    assert response.status_code == 302
    assert ServiceRequest.objects.get().place == tree.household_a2


def test_daibao_without_javascript_searches_and_picks_on_the_page(login, tree, grid_worker):
    client = login(grid_worker)
    searched = client.post(BEHALF, behalf_form(household_q="李四", household_search="1"))
    html = searched.content.decode()
    assert searched.status_code == 200 and not ServiceRequest.objects.exists()
    assert f'name="household_pick" value="{tree.household_a2.pk}"' in html
    assert "水管漏水，需要维修" in html  # what was typed stays
    picked = client.post(BEHALF, behalf_form(household_pick=str(tree.household_a2.pk)))
    html = picked.content.decode()
    assert picked.status_code == 200 and not ServiceRequest.objects.exists()
    assert f'type="hidden" name="household" id="id_household" value="{tree.household_a2.pk}"' in html
    assert f"<strong>{tree.household_a2.name}</strong>" in html
    # a pick of a household outside the scope is not shown as chosen
    other = client.post(BEHALF, behalf_form(household_pick=str(tree.household_x1.pk))).content.decode()
    assert tree.household_x1.name not in other and "尚未选择住户。" in other


# --- the mutual-aid post page -------------------------------------------------------------------------
def test_the_post_page_uses_the_picker_for_a_leader_and_not_the_whole_list(login, tree, entrance_leader_a):
    extra = add_households(tree.entrance_a, 25)
    html = login(entrance_leader_a).get(NEW_POST).content.decode()
    assert 'name="household_q"' in html and f"{SEARCH}?for=aid" in html.replace("&amp;", "&")
    assert not any(h.name in html for h in extra)
    response = login(entrance_leader_a).post(NEW_POST, post_form(household=extra[3].pk))
    assert response.status_code == 302 and Post.objects.get().household == extra[3]


def test_a_post_for_a_household_outside_the_scope_is_refused(login, tree, entrance_leader_a):
    response = login(entrance_leader_a).post(NEW_POST, post_form(household=tree.household_b1.pk))
    assert response.status_code == 422
    assert "您无权为该住户发布" in response.content.decode()
    assert not Post.objects.exists()


def test_the_post_page_without_javascript_searches(login, tree, entrance_leader_a):
    html = login(entrance_leader_a).post(NEW_POST, post_form(household_q="201", household_search="1"))
    text = html.content.decode()
    assert html.status_code == 200 and not Post.objects.exists()
    assert f'name="household_pick" value="{tree.household_a2.pk}"' in text


def test_a_resident_posts_for_their_home_without_a_picker(login, tree, resident_a):
    html = login(resident_a).get(NEW_POST).content.decode()
    assert 'name="household_q"' not in html and f'value="{tree.household_a1.pk}"' in html


def test_the_post_page_shows_the_pickers_error_once(login, tree, entrance_leader_a):
    """The picker draws the household's errors itself; the hidden fields' loop must not repeat them
    (each copy is a role="alert", announced twice)."""
    response = login(entrance_leader_a).post(NEW_POST, post_form(household=tree.household_b1.pk))
    assert response.content.decode().count("您无权为该住户发布") == 1


def test_the_pickers_help_text_describes_the_search_box(login, tree, grid_worker):
    html = login(grid_worker).get(BEHALF).content.decode()
    assert 'class="form-text" id="id_household_helptext"' in html
    search_box = html.split('name="household_q"')[1].split(">")[0]
    assert 'aria-describedby="id_household_helptext"' in search_box
