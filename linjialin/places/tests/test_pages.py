"""Place pages: entrance profile edit, resident tags with consent, who sees sensitive tags."""

import re

import pytest
from django.urls import reverse

from linjialin.core.models import AuditEvent
from linjialin.places import services
from linjialin.places.models import EntranceProfile, ResidentTag, TagType
from linjialin.testing.plugin import make_user

PROFILE = {
    "ebikes": "22",
    "wechat_group": "251单元邻里群",
    "wechat_members": "48",
    "spare_keys": "1",
    "notes": "楼门长保管备用钥匙",
}


@pytest.fixture
def floor_leader_a(tree):
    return make_user("13900000020", "层长A", "floor_leader", tree.entrance_a, floor=1)


def edit_url(place):
    return reverse("places:profile_edit", args=[place.pk])


def tags_url(resident):
    return reverse("places:resident_tags", args=[resident.pk])


def test_entrance_leader_edits_the_profile_and_sees_it(tree, entrance_leader_a, login):
    client = login(entrance_leader_a)
    assert client.get(edit_url(tree.entrance_a)).status_code == 200
    response = client.post(edit_url(tree.entrance_a), PROFILE)
    assert response.status_code == 302 and response["Location"] == reverse(
        "places:detail", args=[tree.entrance_a.pk]
    )
    profile = EntranceProfile.objects.get(entrance=tree.entrance_a)
    assert (profile.ebikes, profile.wechat_group, profile.wechat_members, profile.spare_keys) == (
        22,
        "251单元邻里群",
        48,
        1,
    )
    event = AuditEvent.objects.get(action="entrance_profile.updated")
    assert event.actor == entrance_leader_a and event.after["ebikes"] == 22
    page = client.get(response["Location"]).content.decode()
    assert "251单元邻里群" in page and "楼门长保管备用钥匙" in page


def test_unchanged_profile_writes_nothing(tree, entrance_leader_a, login):
    client = login(entrance_leader_a)
    client.post(edit_url(tree.entrance_a), PROFILE)
    count = AuditEvent.objects.count()
    response = client.post(edit_url(tree.entrance_a), PROFILE, follow=True)
    assert AuditEvent.objects.count() == count
    assert any("Nothing was changed" in str(m) or "没有" in str(m) for m in response.context["messages"])


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("ebikes", "-1"),
        ("ebikes", "很多"),
        ("ebikes", ""),
        ("wechat_members", "1.5"),
        ("spare_keys", "3"),
        ("wechat_group", "群" * 101),
    ],
)
def test_bad_profile_input_is_named_per_field_and_nothing_written(
    tree, entrance_leader_a, login, field, value
):
    response = login(entrance_leader_a).post(edit_url(tree.entrance_a), {**PROFILE, field: value})
    assert response.status_code == 422
    assert list(response.context["form"].errors) == [field]
    assert 'aria-invalid="true"' in response.content.decode()
    assert not EntranceProfile.objects.exists()
    assert not AuditEvent.objects.filter(action="entrance_profile.updated").exists()


def test_more_spare_keys_than_households_says_so(tree, entrance_leader_a, login):
    response = login(entrance_leader_a).post(edit_url(tree.entrance_a), {**PROFILE, "spare_keys": "3"})
    message = response.context["form"].errors["spare_keys"][0]  # English "(3)" or Chinese "（3）"
    assert re.search(r"[(（]3[)）]", message)
    assert re.search(r"[(（]2[)）]", message)  # entrance A has 2 households


def test_profile_edit_only_for_entrances_and_only_with_edit_roster(
    tree, entrance_leader_a, floor_leader_a, community_worker, outsider, login, client
):
    assert login(community_worker).get(edit_url(tree.grid_1)).status_code == 404
    assert login(community_worker).get(edit_url(tree.household_a1)).status_code == 404
    client.force_login(floor_leader_a)  # sees the entrance's households on floor 1 only: not the entrance
    assert client.get(edit_url(tree.entrance_a)).status_code == 404
    client.force_login(outsider)
    assert client.post(edit_url(tree.entrance_a), PROFILE).status_code == 404
    client.force_login(entrance_leader_a)
    assert client.get(edit_url(tree.entrance_b)).status_code == 404
    assert not EntranceProfile.objects.exists()


def test_add_plain_tag_and_remove_it(tree, entrance_leader_a, login):
    client = login(entrance_leader_a)
    response = client.post(tags_url(tree.resident_a1), {"action": "add", "tag": "volunteer"})
    assert response.status_code == 302
    assert response["Location"].endswith(f"#resident-{tree.resident_a1.pk}")
    assert ResidentTag.objects.filter(resident=tree.resident_a1, tag_id="volunteer").exists()
    client.post(tags_url(tree.resident_a1), {"action": "remove", "tag": "volunteer"})
    assert not ResidentTag.objects.exists()
    assert list(
        AuditEvent.objects.filter(action__startswith="resident.").values_list("action", flat=True)
    ) == ["resident.untagged", "resident.tagged"]


def test_sensitive_tag_without_consent_is_refused_with_a_clear_message(tree, entrance_leader_a, login):
    client = login(entrance_leader_a)
    response = client.post(
        tags_url(tree.resident_a1), {"action": "add", "tag": "elderly_alone"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert "consent" in response.content.decode() or "同意" in response.content.decode()
    assert not ResidentTag.objects.exists()
    plain = client.post(
        tags_url(tree.resident_a1),
        {"action": "add", "tag": "elderly_alone", "consent_source": " "},
        follow=True,
    )
    assert any("张三" in str(m) for m in plain.context["messages"])
    assert not ResidentTag.objects.exists()


def test_sensitive_tag_with_consent_is_recorded(tree, entrance_leader_a, login):
    response = login(entrance_leader_a).post(
        tags_url(tree.resident_a1),
        {"action": "add", "tag": "elderly_alone", "consent_source": "本人书面同意 2026-03-01"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    tag = ResidentTag.objects.get()
    assert (tag.tag_id, tag.consent_source, tag.recorded_by) == (
        "elderly_alone",
        "本人书面同意 2026-03-01",
        entrance_leader_a,
    )
    assert "独居老人" in response.content.decode()


def test_unknown_tag_is_a_clear_error(tree, entrance_leader_a, login):
    response = login(entrance_leader_a).post(
        tags_url(tree.resident_a1), {"action": "add", "tag": "nope"}, HTTP_HX_REQUEST="true"
    )
    page = response.content.decode()
    assert response.status_code == 422 and ("Unknown tag" in page or "未知标签" in page)
    assert not ResidentTag.objects.exists()


def test_resident_and_outsider_cannot_tag(tree, resident_a, outsider, login, client):
    assert (
        login(resident_a).post(tags_url(tree.resident_a1), {"action": "add", "tag": "volunteer"}).status_code
        == 403
    )
    client.force_login(outsider)
    assert client.post(tags_url(tree.resident_a1), {"action": "add", "tag": "volunteer"}).status_code == 404
    assert not ResidentTag.objects.exists()


@pytest.fixture
def tagged(tree, entrance_leader_a):
    services.tag_resident(entrance_leader_a, tree.resident_a1, tag=TagType.objects.get(code="party_member"))
    services.tag_resident(
        entrance_leader_a,
        tree.resident_a1,
        tag=TagType.objects.get(code="disability"),
        consent_source="本人口头同意，有记录",
    )
    return tree


def test_sensitive_tag_is_shown_to_the_entrance_leader(tagged, entrance_leader_a, login):
    page = (
        login(entrance_leader_a).get(reverse("places:detail", args=[tagged.household_a1.pk])).content.decode()
    )
    assert "党员" in page and "残疾" in page
    assert "Add a tag" in page or "添加标签" in page


def test_sensitive_tag_is_hidden_from_the_floor_leader_and_the_resident(
    tagged, floor_leader_a, resident_a, login, client
):
    url = reverse("places:detail", args=[tagged.household_a1.pk])
    for user in (floor_leader_a, resident_a):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200
        page = response.content.decode()
        assert "党员" in page, user
        assert "残疾" not in page, user
        assert "Add a tag" not in page and "添加标签" not in page, user  # no edit_roster → no tag form


def test_tag_form_offers_sensitive_tags_only_to_who_may_see_them(tagged, entrance_leader_a, login):
    response = login(entrance_leader_a).get(reverse("places:detail", args=[tagged.household_a1.pk]))
    assert any(t.sensitive for t in response.context["tag_types"])


def test_household_page_links_export_and_profile_edit_where_permitted(
    tree, community_worker, entrance_leader_a, login, client
):
    page = login(community_worker).get(reverse("places:detail", args=[tree.entrance_a.pk])).content.decode()
    assert reverse("places:export", args=[tree.entrance_a.pk, "xlsx"]) in page
    assert reverse("places:profile_edit", args=[tree.entrance_a.pk]) in page
    client.force_login(entrance_leader_a)
    page = client.get(reverse("places:detail", args=[tree.entrance_a.pk])).content.decode()
    assert reverse("places:export", args=[tree.entrance_a.pk, "xlsx"]) not in page  # no export permission
    assert reverse("places:profile_edit", args=[tree.entrance_a.pk]) in page


@pytest.mark.parametrize(
    "who", ["subdistrict_dispatcher", "entrance_leader_a", "community_worker", "floor_leader_a"]
)
def test_an_entrance_page_links_only_the_households_its_viewer_may_open(tree, who, request, client):
    user = request.getfixturevalue(who)
    client.force_login(user)
    response = client.get(reverse("places:detail", args=[tree.entrance_a.pk]))
    if response.status_code == 404:  # a 层长 may see only their floor, not the entrance page
        assert who == "floor_leader_a"
        return
    page = response.content.decode()
    for household in (tree.household_a1, tree.household_a2):
        url = reverse("places:detail", args=[household.pk])
        opens = client.get(url).status_code == 200
        assert (f'href="{url}"' in page) == opens, (who, household.name, opens)
    if who == "subdistrict_dispatcher":  # listed, but not as links: the dispatcher sees no households
        assert (
            tree.household_a1.name in page
            and 'href="{}"'.format(reverse("places:detail", args=[tree.household_a1.pk])) not in page
        )
