"""The home page per role."""

from django.urls import reverse

from linjialin.places.models import EntranceProfile


def test_resident_sees_their_household_and_entrance_leader(tree, resident_a, entrance_leader_a, login):
    page = login(resident_a).get(reverse("home")).content.decode()
    assert reverse("places:detail", args=[tree.household_a1.pk]) in page
    assert "楼门长A" in page
    assert reverse("places:detail", args=[tree.household_b1.pk]) not in page


def test_resident_without_entrance_leader_is_told_so(tree, resident_b, entrance_leader_a, login):
    response = login(resident_b).get(reverse("home"))
    [card] = response.context["cards"]
    assert card["kind"] == "resident" and card["entrance_leaders"] == []
    assert "楼门长A" not in response.content.decode()


def test_entrance_leader_sees_profile_figures_and_links(tree, entrance_leader_a, login):
    EntranceProfile.objects.create(
        entrance=tree.entrance_a, path=tree.entrance_a.path, ebikes=22, spare_keys=2
    )
    response = login(entrance_leader_a).get(reverse("home"))
    [card] = response.context["cards"]
    assert card["kind"] == "entrance" and card["figures"].ebikes == 22 and card["figures"].households == 2
    page = response.content.decode()
    assert reverse("places:profile_edit", args=[tree.entrance_a.pk]) in page


def test_community_worker_gets_coverage_and_import_links(tree, community_worker, entrance_leader_a, login):
    response = login(community_worker).get(reverse("home"))
    [card] = response.context["cards"]
    assert card["coverage_row"].covered == 1 and card["totals"]["households"] == 3
    page = response.content.decode()
    assert reverse("accounts:coverage_community", args=[tree.community_1.pk]) in page
    assert reverse("places:import") in page
    assert reverse("audit:list") not in page


def test_subdistrict_staff_sees_counts_per_community(tree, subdistrict_staff, login):
    response = login(subdistrict_staff).get(reverse("home"))
    [card] = response.context["cards"]
    assert card["kind"] == "subdistrict"
    assert [(r.place.name, r.households) for r in card["children"]] == [("社区一", 3), ("社区二", 1)]


def test_the_home_page_shows_the_menu_of_what_the_user_may_open(tree, community_worker, login):
    from django.urls import reverse

    page = login(community_worker).get(reverse("home")).content.decode()
    for name in ("places:browse", "accounts:coverage", "places:import"):
        assert f'href="{reverse(name)}"' in page
