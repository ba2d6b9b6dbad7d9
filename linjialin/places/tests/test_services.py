"""places.services: permission checks, validation before writing, computed entrance figures, and the
rules that build place paths and Beijing grid codes."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from linjialin.core.models import AuditEvent
from linjialin.places import selectors, services
from linjialin.places.models import EntranceProfile, Level, Place, Resident, ResidentTag, TagType
from linjialin.places.services import new_place


def sensitive_tag() -> TagType:
    return TagType.objects.get(code="disability")


# --- resident tags --------------------------------------------------------------------------------
@pytest.mark.parametrize("consent", ["", "   "])
def test_sensitive_tag_without_consent_is_refused_and_nothing_written(tree, community_worker, consent):
    with pytest.raises(ValidationError) as exc:
        services.tag_resident(community_worker, tree.resident_a1, tag=sensitive_tag(), consent_source=consent)
    assert "consent_source" in exc.value.message_dict
    assert not ResidentTag.objects.exists()
    assert not AuditEvent.objects.filter(action="resident.tagged").exists()


def test_sensitive_tag_with_consent_records_its_source_and_who_recorded_it(tree, community_worker):
    item = services.tag_resident(
        community_worker, tree.resident_a1, tag=sensitive_tag(), consent_source="  signed form  "
    )
    item.refresh_from_db()
    assert (item.consent_source, item.recorded_by, item.path) == (
        "signed form",
        community_worker,
        tree.resident_a1.path,
    )


def test_ordinary_tag_needs_no_consent(tree, entrance_leader_a):
    services.tag_resident(entrance_leader_a, tree.resident_a1, tag=TagType.objects.get(code="volunteer"))
    assert ResidentTag.objects.filter(resident=tree.resident_a1, tag_id="volunteer").exists()


@pytest.mark.parametrize("persona", ["outsider", "resident_a", "subdistrict_staff", "auditor"])
def test_tagging_outside_ones_edit_scope_is_refused_and_nothing_written(tree, persona, request):
    actor = request.getfixturevalue(persona)
    for tag in (sensitive_tag(), TagType.objects.get(code="volunteer")):
        with pytest.raises(PermissionDenied):
            services.tag_resident(actor, tree.resident_a1, tag=tag, consent_source="signed form")
    assert not ResidentTag.objects.exists()
    assert not AuditEvent.objects.filter(action="resident.tagged").exists()


def test_outsider_cannot_untag(tree, community_worker, outsider):
    tag = TagType.objects.get(code="volunteer")
    services.tag_resident(community_worker, tree.resident_a1, tag=tag)
    with pytest.raises(PermissionDenied):
        services.untag_resident(outsider, tree.resident_a1, tag=tag)
    assert ResidentTag.objects.filter(resident=tree.resident_a1).count() == 1


def test_unmask_needs_the_permission_and_a_reason(tree, resident_a, grid_worker):
    with pytest.raises(PermissionDenied):  # sees their own household, but may not unmask
        services.unmask_resident(resident_a, tree.resident_a1, reason="curious")
    with pytest.raises(ValidationError) as exc:
        services.unmask_resident(grid_worker, tree.resident_a1, reason=" x ")
    assert "reason" in exc.value.message_dict
    assert not AuditEvent.objects.filter(action="resident.unmasked").exists()


# --- entrance profile -----------------------------------------------------------------------------
def test_profile_update_is_saved(tree, entrance_leader_a):
    services.update_entrance_profile(
        entrance_leader_a,
        tree.entrance_a,
        ebikes=22,
        wechat_group="251单元邻里群",
        wechat_members=40,
        spare_keys=6,
    )
    profile = EntranceProfile.objects.get(entrance=tree.entrance_a)
    assert (profile.ebikes, profile.wechat_group, profile.wechat_members, profile.spare_keys) == (
        22,
        "251单元邻里群",
        40,
        6,
    )
    assert profile.path == tree.entrance_a.path


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"ebikes": -1}, "ebikes"),
        ({"spare_keys": -3}, "spare_keys"),
        ({"ebikes": "many"}, "ebikes"),
        ({"wechat_group": "群" * 101}, "wechat_group"),
        ({"ebikes": 5, "wechat_members": -1}, "wechat_members"),
    ],
)
def test_bad_profile_values_name_the_field_and_write_nothing(tree, entrance_leader_a, values, field):
    with pytest.raises(ValidationError) as exc:
        services.update_entrance_profile(entrance_leader_a, tree.entrance_a, **values)
    assert field in exc.value.message_dict
    assert not EntranceProfile.objects.exists()
    assert not AuditEvent.objects.filter(action="entrance_profile.updated").exists()


def test_a_bad_update_keeps_the_previous_values(tree, entrance_leader_a):
    services.update_entrance_profile(entrance_leader_a, tree.entrance_a, ebikes=22, spare_keys=6)
    with pytest.raises(ValidationError):
        services.update_entrance_profile(entrance_leader_a, tree.entrance_a, ebikes=-5, spare_keys=7)
    profile = EntranceProfile.objects.get(entrance=tree.entrance_a)
    assert (profile.ebikes, profile.spare_keys) == (22, 6)
    assert AuditEvent.objects.filter(action="entrance_profile.updated").count() == 1


def test_unknown_profile_field_is_refused(tree, entrance_leader_a):
    with pytest.raises(ValidationError):
        services.update_entrance_profile(entrance_leader_a, tree.entrance_a, households=99)
    assert not EntranceProfile.objects.exists()


def test_only_an_entrance_has_a_profile(tree, community_worker):
    with pytest.raises(ValidationError):
        services.update_entrance_profile(community_worker, tree.grid_1, ebikes=1)


@pytest.mark.parametrize("persona", ["outsider", "resident_a", "auditor", "subdistrict_staff"])
def test_profile_update_outside_edit_scope_is_refused(tree, persona, request):
    with pytest.raises(PermissionDenied):
        services.update_entrance_profile(request.getfixturevalue(persona), tree.entrance_a, ebikes=1)
    assert not EntranceProfile.objects.exists()


# --- computed entrance figures --------------------------------------------------------------------
TODAY = date(2026, 6, 1)


def test_entrance_figures_are_computed_from_households_and_residents(tree):
    """A hand-built entrance whose figures are known (ages as of 2026)."""
    entrance = new_place(tree.grid_1, level=Level.ENTRANCE, code="9", name="测试楼门")
    entrance.save()

    def household(code, *birth_years, occupied=True):
        h = new_place(entrance, level=Level.HOUSEHOLD, code=code, name=code, is_occupied=occupied)
        h.save()
        for i, year in enumerate(birth_years):
            Resident.objects.create(household=h, path=h.path, name=f"{code}-{i}", birth_year=year)
        return h

    household("101", 1956, 1961)  # 70 and 65: empty-nest elderly
    household("102", 1946)  # 80 living alone: empty-nest elderly
    household("103", 1966)  # exactly 60: empty-nest elderly
    household("201", 1956, 1986, 2020, 2009)  # elderly with family; children aged 6 and 17 (school)
    household("202", 1990, 2021, 2008)  # children aged 5 and 18: not school age
    household("301", 1950, None)  # one age unknown: not counted as empty-nest
    household("302", 1940, occupied=False)  # elderly but nobody lives here
    household("401")  # occupied, no resident records

    figures = selectors.entrance_figures(entrance, today=TODAY)
    assert figures.households == 8
    assert figures.resident_households == 7
    assert figures.empty_nest_elderly_households == 3
    assert figures.school_children == 2
    assert (figures.ebikes, figures.spare_keys, figures.wechat_group) == (0, 0, "")


def test_entered_figures_come_from_the_profile(tree, entrance_leader_a):
    services.update_entrance_profile(
        entrance_leader_a, tree.entrance_a, ebikes=22, spare_keys=6, notes="门禁已修"
    )
    figures = selectors.entrance_figures(tree.entrance_a, today=TODAY)
    assert (figures.ebikes, figures.spare_keys, figures.notes) == (22, 6, "门禁已修")
    assert (figures.households, figures.resident_households, figures.empty_nest_elderly_households) == (
        2,
        2,
        1,
    )


# --- building the tree: paths, code widths, grid codes ---------------------------------------------
def test_grid_code_is_the_15_digit_beijing_code(tree):
    grid = new_place(tree.community_1, level=Level.GRID, code="2", name="网格二")
    assert grid.grid_code == "110112008001002"
    assert len(grid.grid_code) == 15 and grid.grid_code.isdigit()
    assert tree.grid_2.grid_code == "110112008002001"


def test_codes_are_zero_padded_to_their_level_width_in_the_path(tree):
    community = new_place(tree.subdistrict, level=Level.COMMUNITY, code="7", name="社区七")
    assert (community.code, community.path) == ("007", "110112008.007.")
    entrance = new_place(tree.grid_1, level=Level.ENTRANCE, code="12", name="楼门")
    assert entrance.path == "110112008.001.001.0012."
    household = new_place(tree.entrance_a, level=Level.HOUSEHOLD, code=305, name="305")
    assert household.path == "110112008.001.001.0001.0305."


@pytest.mark.parametrize(
    ("parent", "level", "code"),
    [
        ("community_1", Level.COMMUNITY, "3"),  # a community under a community
        ("subdistrict", Level.GRID, "3"),  # skipping the community level
        ("entrance_a", Level.ENTRANCE, "3"),
        (None, Level.COMMUNITY, "3"),  # only a subdistrict has no parent
    ],
)
def test_a_place_must_be_exactly_one_level_below_its_parent(tree, parent, level, code):
    with pytest.raises(ValidationError):
        new_place(getattr(tree, parent) if parent else None, level=level, code=code, name="x")


@pytest.mark.parametrize(
    ("parent", "level", "code"),
    [
        ("subdistrict", Level.COMMUNITY, "1234"),  # community codes are 3 digits
        ("community_1", Level.GRID, "1000"),  # grid codes are 3 digits (15-digit grid code)
        ("grid_1", Level.ENTRANCE, "12345"),
        ("entrance_a", Level.HOUSEHOLD, "10101"),
        ("subdistrict", Level.COMMUNITY, "A1"),  # digits only
        ("subdistrict", Level.COMMUNITY, "-1"),
        ("subdistrict", Level.COMMUNITY, ""),
    ],
)
def test_codes_that_do_not_fit_their_level_are_refused(tree, parent, level, code):
    with pytest.raises(ValidationError) as exc:
        new_place(getattr(tree, parent), level=level, code=code, name="x")
    assert "code" in exc.value.message_dict


@pytest.mark.parametrize("code", ["1101120", "1101120081", "11011200X"])
def test_a_subdistrict_code_is_the_full_9_digit_administrative_code(db, code):
    with pytest.raises(ValidationError):
        new_place(None, level=Level.SUBDISTRICT, code=code, name="x")


def test_create_place_checks_the_actor_and_validates_before_writing(tree, community_worker, outsider):
    with pytest.raises(PermissionDenied):
        services.create_place(outsider, tree.entrance_a, level=Level.HOUSEHOLD, code="301", name="301")
    created = services.create_place(
        community_worker, tree.entrance_a, level=Level.HOUSEHOLD, code="301", name="301"
    )
    assert Place.objects.get(pk=created.pk).path == "110112008.001.001.0001.0301."
    with pytest.raises(ValidationError):  # the same code twice under one parent
        services.create_place(
            community_worker, tree.entrance_a, level=Level.HOUSEHOLD, code="301", name="又一个"
        )
    assert Place.objects.filter(parent=tree.entrance_a, code="0301").count() == 1
    assert AuditEvent.objects.filter(action="place.created").count() == 1


def test_link_resident_account_once_and_only_in_scope(tree, community_worker, outsider):
    from django.core.exceptions import PermissionDenied, ValidationError

    from linjialin.accounts.models import User
    from linjialin.places.services import link_resident_account

    user = User.objects.create_user("13711112222", None, display_name="李四")
    with pytest.raises(PermissionDenied):
        link_resident_account(outsider, tree.resident_a2, user=user)
    link_resident_account(community_worker, tree.resident_a2, user=user)
    tree.resident_a2.refresh_from_db()
    assert tree.resident_a2.user == user
    with pytest.raises(ValidationError):
        link_resident_account(community_worker, tree.resident_a2, user=user)
