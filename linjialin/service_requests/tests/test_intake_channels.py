"""The staff entry page (docs/intake.md §5): one page, one code path, three channels — 代报 in person, a
phone call (电话受理) and a patrol finding (巡查发现, no requester) — at a household or a shared place
(entrance, building, a compound's public area, the community) in the submitter's requests.submit scope."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from linjialin.core.models import AuditEvent
from linjialin.service_requests import services, views
from linjialin.service_requests.models import Category, Channel, Diversion, ServiceRequest, State

URL = "requests:behalf"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def corridor():
    return Category.objects.get(code="corridor")


def staff_form(**kw):
    data = {
        "channel": "patrol",
        "request_type": "report",
        "description": "楼道堆放纸箱，堵住了消防通道",
        "category": "",
        "urgency": "normal",
        "client_token": "c-1",
    }
    data.update(kw)
    return data


def where_values(response) -> dict:
    return {t.value: t for t in response.context["form"].targets.values()}


# --- who may use it ---------------------------------------------------------------------------------
def test_a_resident_gets_403_and_writes_nothing(login, resident_a, tree):
    client = login(resident_a)
    assert client.get(reverse(URL)).status_code == 403
    response = client.post(reverse(URL), staff_form(channel="phone", household=tree.household_a1.pk))
    assert response.status_code == 403 and not ServiceRequest.objects.exists()
    assert client.get(reverse("requests:mine")).context["can_behalf"] is False


def test_the_grid_worker_sees_the_channels_and_only_the_places_of_their_grid(login, grid_worker, tree):
    page = login(grid_worker).get(reverse(URL) + "?channel=patrol")
    assert page.status_code == 200
    form = page.context["form"]
    assert form["channel"].value() == "patrol"  # preselected from the queue's link
    targets = where_values(page)
    assert targets[f"p:{tree.community_1.pk}"].place == tree.community_1
    assert targets[f"b:{tree.building_1.pk}"].place == tree.grid_1  # a building is filed at the grid
    assert targets[f"c:{tree.compound_1.pk}"].place == tree.community_1
    assert {f"p:{tree.entrance_a.pk}", f"p:{tree.entrance_b.pk}"} <= set(targets)
    assert f"p:{tree.community_2.pk}" not in targets and f"p:{tree.entrance_x.pk}" not in targets
    households = set(form.fields["household"].queryset)
    assert tree.household_a1 in households and tree.household_x1 not in households


def test_the_queue_links_to_the_three_channels(login, grid_worker):
    html = login(grid_worker).get(reverse("requests:queue")).content.decode()
    assert reverse(URL) + "?channel=phone" in html and reverse(URL) + "?channel=patrol" in html


def test_an_outsider_cannot_file_in_another_community(login, outsider, tree):
    client = login(outsider)
    for data in (
        staff_form(
            channel="phone", household=tree.household_a1.pk, contact_name="王五", contact_mobile="13800001111"
        ),
        staff_form(where=f"p:{tree.community_1.pk}"),
        staff_form(where=f"b:{tree.building_1.pk}"),
        staff_form(where=f"p:{tree.entrance_a.pk}"),
    ):
        response = client.post(reverse(URL), data)
        html = response.content.decode()
        assert response.status_code == 422
        assert "search for the household again" in html or "Choose a place from the list." in html
    assert not ServiceRequest.objects.exists()
    # their own community works
    response = client.post(reverse(URL), staff_form(where=f"p:{tree.entrance_x.pk}"))
    assert response.status_code == 302 and ServiceRequest.objects.get().place == tree.entrance_x


# --- patrol findings --------------------------------------------------------------------------------
def test_a_patrol_finding_at_a_building_has_no_requester_and_no_contact(
    login, grid_worker, community_worker, subdistrict_dispatcher, tree
):
    client = login(grid_worker)
    response = client.post(
        reverse(URL),
        staff_form(where=f"b:{tree.building_1.pk}", contact_name="不该留", contact_mobile="13800009999"),
    )
    req = ServiceRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("requests:detail", args=[req.pk])
    assert (req.channel, req.place, req.requester, req.submitted_by) == (
        Channel.PATROL,
        tree.grid_1,
        None,
        grid_worker,
    )
    # the same 【building】 prefix as the resident page's "my building"
    assert req.description == "【1号楼】楼道堆放纸箱，堵住了消防通道"
    assert (req.contact_name, req.contact_mobile) == ("", "")
    assert AuditEvent.objects.filter(action="request.submitted", object_id=str(req.pk)).exists()
    for user in (grid_worker, community_worker, subdistrict_dispatcher):
        page = login(user).get(reverse("requests:detail", args=[req.pk]))
        assert page.context["contact"]["name"] == "" and page.context["contact"]["mobile"] == ""
        assert 'id="request-contact"' not in page.content.decode()


def test_a_patrol_finding_at_a_public_area_and_the_community(login, community_worker, tree):
    client = login(community_worker)
    client.post(reverse(URL), staff_form(where=f"c:{tree.compound_1.pk}"))
    area = ServiceRequest.objects.get()
    assert area.place == tree.community_1
    assert area.description.startswith(f"【{views.public_area_prefix(tree.compound_1)}】")
    assert views.public_area_prefix(tree.compound_1).startswith("紫荆雅园")
    client.post(
        reverse(URL),
        staff_form(where=f"p:{tree.community_1.pk}", client_token="c-2", description="路灯不亮"),  # noqa: S106
    )
    whole = ServiceRequest.objects.exclude(pk=area.pk).get()
    assert (whole.place, whole.description, whole.channel) == (tree.community_1, "路灯不亮", Channel.PATROL)


def test_a_patrol_finding_needs_a_shared_place_not_a_household(login, grid_worker, tree):
    client = login(grid_worker)
    response = client.post(reverse(URL), staff_form(household=tree.household_a1.pk))
    assert response.status_code == 422
    assert "A patrol finding is about a shared place, not a household." in response.content.decode()
    response = client.post(reverse(URL), staff_form())
    assert response.status_code == 422 and "Choose where it was found" in response.content.decode()
    response = client.post(
        reverse(URL), staff_form(household=tree.household_a1.pk, where=f"p:{tree.entrance_a.pk}")
    )
    assert "Choose a household or a shared place, not both." in response.content.decode()
    assert not ServiceRequest.objects.exists()


def test_a_patrol_finding_is_asked_about_an_open_request_at_the_place_with_its_category(
    login, resident_a, grid_worker, tree
):
    open_req = services.submit_request(
        resident_a, place=tree.entrance_a, request_type="help", description="楼道灯坏了", category=corridor()
    )
    client = login(grid_worker)
    data = staff_form(where=f"p:{tree.entrance_a.pk}", category=corridor().pk)
    response = client.post(reverse(URL), data)
    assert response.status_code == 200 and response.context["repeat"]["req"] == open_req
    assert ServiceRequest.objects.count() == 1  # asked first: nothing written
    response = client.post(reverse(URL), {**data, "repeat_answer": "link"})
    linked = ServiceRequest.objects.exclude(pk=open_req.pk).get()
    assert response.status_code == 302
    assert (linked.state, linked.repeat_of, linked.channel) == (State.MERGED, open_req, Channel.PATROL)


def test_a_patrol_finding_of_another_category_is_not_a_repeat(login, resident_a, grid_worker, tree):
    services.submit_request(
        resident_a, place=tree.entrance_a, request_type="help", description="楼道灯坏了", category=corridor()
    )
    other = Category.objects.filter(active=True).exclude(pk=corridor().pk).first()
    response = login(grid_worker).post(
        reverse(URL), staff_form(where=f"p:{tree.entrance_a.pk}", category=other.pk)
    )
    assert response.status_code == 302 and ServiceRequest.objects.count() == 2


def test_a_patrol_emergency_is_diverted_and_shows_the_numbers(login, grid_worker, tree):
    client = login(grid_worker)
    response = client.post(
        reverse(URL), staff_form(where=f"p:{tree.entrance_a.pk}", description="楼道里着火了")
    )
    req = ServiceRequest.objects.get()
    assert response["Location"] == reverse("requests:outcome", args=[req.pk])
    assert (req.diversion, req.state) == (Diversion.EMERGENCY, State.NOT_ACCEPTED)
    html = client.get(response["Location"]).content.decode()
    assert "tel:119" in html and reverse(URL) + f"?again={req.pk}" in html
    # "not about that" comes back to the same page with the channel and the place filled in
    page = client.get(reverse(URL) + f"?again={req.pk}")
    initial = page.context["form"].initial
    assert (initial["channel"], initial["where"]) == (Channel.PATROL, f"p:{tree.entrance_a.pk}")


def test_a_patrol_finding_at_a_building_is_filled_in_again_without_its_prefix(login, grid_worker, tree):
    client = login(grid_worker)
    client.post(
        reverse(URL), staff_form(where=f"b:{tree.building_1.pk}", description="上周着火的痕迹还没清理")
    )
    req = ServiceRequest.objects.get()
    initial = client.get(reverse(URL) + f"?again={req.pk}").context["form"].initial
    assert (initial["where"], initial["description"]) == (f"b:{tree.building_1.pk}", "上周着火的痕迹还没清理")


# --- phone calls ------------------------------------------------------------------------------------
def test_a_phone_call_for_a_household_keeps_the_callers_contact_masked_for_others(
    login, grid_worker, community_worker, subdistrict_dispatcher, tree
):
    client = login(grid_worker)
    response = client.post(
        reverse(URL),
        staff_form(
            channel="phone",
            household=tree.household_a2.pk,
            contact_name="李奶奶",
            contact_mobile="138 0000-1234",
            description="水管漏水",
            request_type="help",
        ),
    )
    req = ServiceRequest.objects.get()
    assert response.status_code == 302
    assert (req.channel, req.place, req.requester, req.contact_name, req.contact_mobile) == (
        Channel.PHONE,
        tree.household_a2,
        None,
        "李奶奶",
        "13800001234",
    )
    page = login(community_worker).get(reverse("requests:detail", args=[req.pk]))
    assert page.context["contact"] == {"name": "李*", "mobile": "138****1234", "full": False}
    assert "13800001234" not in page.content.decode() and "李奶奶" not in page.content.decode()
    page = login(subdistrict_dispatcher).get(reverse("requests:detail", args=[req.pk]))
    assert page.context["contact"]["mobile"] == "13800001234"


@pytest.mark.parametrize(
    ("mobile", "message"),
    [
        ("1380000123", "A mobile number has 11 digits and starts with 1."),
        ("23800001234", "A mobile number has 11 digits and starts with 1."),
        ("1380000abcd", "A mobile number has 11 digits and starts with 1."),
        ("", "Enter the caller&#x27;s mobile number."),
    ],
)
def test_a_phone_call_with_a_bad_mobile_is_refused_and_nothing_written(
    login, grid_worker, tree, mobile, message
):
    response = login(grid_worker).post(
        reverse(URL),
        staff_form(
            channel="phone", household=tree.household_a2.pk, contact_name="李奶奶", contact_mobile=mobile
        ),
    )
    assert response.status_code == 422 and message in response.content.decode()
    assert not ServiceRequest.objects.exists()


def test_a_phone_call_needs_the_callers_name_and_a_place(login, grid_worker):
    response = login(grid_worker).post(
        reverse(URL), staff_form(channel="phone", contact_mobile="13800001234")
    )
    html = response.content.decode()
    assert response.status_code == 422 and "Enter the caller&#x27;s name." in html
    assert "Choose the caller&#x27;s household or the place the call is about." in html
    assert not ServiceRequest.objects.exists()


def test_a_phone_call_about_an_entrance(login, grid_worker, tree):
    login(grid_worker).post(
        reverse(URL),
        staff_form(
            channel="phone",
            where=f"p:{tree.entrance_b.pk}",
            contact_name="赵六",
            contact_mobile="13800005678",
        ),
    )
    req = ServiceRequest.objects.get()
    assert (req.channel, req.place, req.contact_name) == (Channel.PHONE, tree.entrance_b, "赵六")


def test_a_phone_call_is_screened_like_daibao(login, grid_worker, tree):
    client = login(grid_worker)
    response = client.post(
        reverse(URL),
        staff_form(
            channel="phone",
            household=tree.household_a2.pk,
            contact_name="李奶奶",
            contact_mobile="13800001234",
            description="我要去法院起诉物业",
        ),
    )
    req = ServiceRequest.objects.get()
    assert (req.diversion, req.state) == (Diversion.LITIGATION, State.NOT_ACCEPTED)
    assert response["Location"] == reverse("requests:outcome", args=[req.pk])
    initial = client.get(reverse(URL) + f"?again={req.pk}").context["form"].initial
    assert (initial["channel"], initial["household"], initial["contact_mobile"]) == (
        Channel.PHONE,
        tree.household_a2.pk,
        "13800001234",
    )


def test_daibao_without_a_channel_still_works_and_needs_a_household(login, entrance_leader_a, tree):
    client = login(entrance_leader_a)
    response = client.post(
        reverse(URL), staff_form(channel="on_behalf", where=f"p:{tree.entrance_a.pk}", contact_name="李奶奶")
    )
    assert response.status_code == 422
    assert "代报 is for a resident&#x27;s household: choose the household." in response.content.decode()
    data = staff_form(household=tree.household_a1.pk, contact_name="李奶奶")
    del data["channel"]
    assert client.post(reverse(URL), data).status_code == 302
    assert ServiceRequest.objects.get().channel == Channel.ON_BEHALF


# --- links ------------------------------------------------------------------------------------------
def test_a_diverted_requests_page_links_to_its_explanation(login, resident_a, tree):
    client = login(resident_a)
    client.post(
        reverse("requests:submit"),
        {
            "request_type": "help",
            "description": "我要上访",
            "place": "household",
            "urgency": "normal",
            "client_token": "r-1",
        },
    )
    req = ServiceRequest.objects.get()
    html = client.get(reverse("requests:detail", args=[req.pk])).content.decode()
    assert reverse("requests:outcome", args=[req.pk]) in html
    ordinary = services.submit_request(
        resident_a, place=tree.household_a1, request_type="help", description="灯坏了"
    )
    html = client.get(reverse("requests:detail", args=[ordinary.pk])).content.decode()
    assert reverse("requests:outcome", args=[ordinary.pk]) not in html


def test_the_hotline_import_is_linked_from_the_desk_and_the_nav_for_dispatchers(
    login, subdistrict_dispatcher, grid_worker
):
    url = reverse("requests:hotline_import")
    html = login(subdistrict_dispatcher).get(reverse("requests:desk")).content.decode()
    assert html.count(f'href="{url}"') == 2  # the button under the title and the nav
    html = login(grid_worker).get(reverse("requests:queue")).content.decode()
    assert url not in html
