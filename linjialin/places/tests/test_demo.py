"""The demo subdistrict: 630 entrances, a 楼门长 each, the real 251单元, logins for every role, determinism.

The full demo is built once for the class TestFullDemo (inside a transaction rolled back afterwards, so
other tests never see it); determinism is checked on a smaller demo (the first community).
"""

from __future__ import annotations

import io
import re
from collections import Counter

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Count
from django.test import override_settings
from django.utils import timezone

from linjialin.accounts.models import RoleGrant, User
from linjialin.accounts.roles import Perm, Role
from linjialin.core.audit import verify
from linjialin.places import demo
from linjialin.places.models import Building, Compound, EntranceProfile, Level, Place, Resident, ResidentTag
from linjialin.places.selectors import entrance_figures

FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # the demo's logins, checked quickly


@pytest.fixture(scope="class")
def full_demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHER):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield demo.load_demo(seed=demo.DEFAULT_SEED)
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def entrance_251(full_demo, db):
    return Place.objects.select_related("building", "compound").get(
        level=Level.ENTRANCE, compound__name="紫荆雅园", building__number="16号楼", unit_no="251单元"
    )


def user(mobile: str) -> User:
    return User.objects.get(mobile=mobile)


@pytest.mark.xdist_group("places-full-demo")  # one worker builds the demo once for the class
@pytest.mark.usefixtures("full_demo", "db")
class TestFullDemo:
    def test_exactly_630_entrances_each_with_exactly_one_current_entrance_leader(self):
        entrances = set(Place.objects.filter(level=Level.ENTRANCE).values_list("pk", flat=True))
        assert len(entrances) == 630
        leaders = Counter(
            RoleGrant.objects.current().filter(role=Role.ENTRANCE_LEADER).values_list("place_id", flat=True)
        )
        assert set(leaders) == entrances
        assert set(leaders.values()) == {1}

    def test_ten_communities_under_tongyun_with_the_compounds_of_the_article(self):
        subdistrict = Place.objects.get(level=Level.SUBDISTRICT)
        assert (subdistrict.code, subdistrict.name) == ("110112008", "通运街道")
        assert Place.objects.filter(level=Level.COMMUNITY, parent=subdistrict).count() == 10
        names = set(Compound.objects.values_list("name", flat=True))
        for named in ("紫荆雅园", "牡丹园", "京贺家园", "荔景园", "运河湾", "芙蓉小区"):
            assert named in names
        assert Building.objects.filter(compound__name="京贺家园", number="308号楼").exists()
        assert (
            Building.objects.filter(
                compound__name="芙蓉小区", number__in=["3号楼", "7号楼", "10号楼"]
            ).count()
            == 3
        )

    def test_entrance_251_has_the_real_profile_from_the_article(self, entrance_251):
        figures = entrance_figures(entrance_251, today=timezone.localdate())
        assert figures.households == 54
        assert figures.resident_households == 38
        assert figures.empty_nest_elderly_households == 9
        assert figures.school_children == 23
        assert figures.ebikes == 22
        assert figures.spare_keys == 6
        assert figures.wechat_group
        leader = RoleGrant.objects.current().get(role=Role.ENTRANCE_LEADER, place=entrance_251)
        assert leader.user.display_name == "周治国"
        assert leader.user.mobile == "13800000004"
        assert leader.valid_from.year == timezone.localdate().year - 8

    def test_grid_codes_are_beijing_15_digit_codes_of_the_grid_path(self):
        grids = list(Place.objects.filter(level=Level.GRID))
        assert len(grids) >= 10
        for grid in grids:
            assert re.fullmatch(r"110112008\d{6}", grid.grid_code), grid.grid_code
            community, code = grid.path.rstrip(".").split(".")[1:]
            assert grid.grid_code == f"110112008{community}{code}"
        assert len({g.grid_code for g in grids}) == len(grids)

    def test_households_per_entrance_between_20_and_60_with_rooms_by_floor(self):
        sizes = Place.objects.filter(level=Level.HOUSEHOLD).values("parent").annotate(n=Count("id"))
        assert {row["parent"] for row in sizes} == set(
            Place.objects.filter(level=Level.ENTRANCE).values_list("pk", flat=True)
        )
        assert all(20 <= row["n"] <= 60 for row in sizes)
        for room, floor, area, tenure, occupied in Place.objects.filter(level=Level.HOUSEHOLD).values_list(
            "room", "floor", "area_m2", "tenure", "is_occupied"
        )[:3000]:
            assert room[:-2] == str(floor)
            assert area > 0
            assert tenure in ("owner", "tenant", "vacant")
            assert not (tenure == "vacant" and occupied)

    def test_paths_are_those_of_the_place_services(self):
        for place in Place.objects.filter(level__gt=Level.SUBDISTRICT).select_related("parent")[:5000]:
            assert place.path == f"{place.parent.path}{place.code}."
        assert not Resident.objects.exclude(path=models_household_path()).exists()

    def test_mobiles_are_11_digits_and_unique(self):
        mobiles = list(Resident.objects.exclude(mobile="").values_list("mobile", flat=True))
        assert len(mobiles) > 20000
        assert all(re.fullmatch(r"1\d{10}", m) for m in mobiles)
        assert len(set(mobiles)) == len(mobiles)
        users = list(User.objects.values_list("mobile", flat=True))
        assert all(re.fullmatch(r"1\d{10}", m) for m in users)

    def test_every_id_number_has_a_valid_check_digit_and_the_birth_year(self):
        rows = list(Resident.objects.exclude(id_number="").values_list("id_number", "birth_year"))
        assert len(rows) > 1000
        for number, birth_year in rows:
            assert demo.id_number_is_valid(number), number
            assert int(number[6:10]) == birth_year

    def test_sensitive_tags_record_where_consent_came_from(self):
        sensitive = ResidentTag.objects.filter(tag__sensitive=True)
        assert sensitive.count() > 100
        assert not sensitive.filter(consent_source="").exists()
        assert ResidentTag.objects.filter(tag_id="party_member").exists()
        for tag in sensitive.select_related("resident")[:500]:
            assert tag.path == tag.resident.path

    def test_every_entrance_has_a_profile(self):
        assert EntranceProfile.objects.count() == 630
        assert not EntranceProfile.objects.exclude(
            path__in=Place.objects.filter(level=Level.ENTRANCE).values("path")
        ).exists()

    def test_some_building_and_floor_leaders_with_their_building_and_floor(self):
        building_grants = RoleGrant.objects.filter(role=Role.BUILDING_LEADER).select_related(
            "building__compound"
        )
        floor_grants = RoleGrant.objects.filter(role=Role.FLOOR_LEADER).select_related("place")
        assert building_grants.count() > 10
        assert floor_grants.count() > 10
        for g in building_grants:
            assert g.building.compound.community_id == g.place_id
        for g in floor_grants:
            assert g.place.level == Level.ENTRANCE
            assert Place.objects.filter(parent=g.place, floor=g.floor).exists()

    def test_every_role_has_a_demo_login_that_can_log_in(self, client):
        mobiles = [login.mobile for login in demo.DEMO_LOGINS]
        assert len(set(mobiles)) == len(mobiles)
        roles = set(
            RoleGrant.objects.current().filter(user__mobile__in=mobiles).values_list("role", flat=True)
        )
        assert roles == set(Role.values)
        for mobile in mobiles:
            assert client.login(username=mobile, password=demo.DEMO_PASSWORD), mobile
            client.logout()
        assert not client.login(username=mobiles[0], password="wrong-Password-1")  # noqa: S106
        assert all(u.language == "zh-hans" for u in User.objects.all())

    def test_entrance_leaders_can_log_in_and_live_in_their_entrance(self):
        grants = RoleGrant.objects.current().filter(role=Role.ENTRANCE_LEADER).select_related("user")
        linked = 0
        for g in grants:
            assert g.user.check_password(demo.DEMO_PASSWORD)
            record = Resident.objects.filter(user=g.user).first()
            if record is not None:
                assert record.path.startswith(g.path)
                assert record.mobile == g.user.mobile
                linked += 1
        assert linked >= 600

    def test_resident_logins_see_their_own_household_only(self, entrance_251):
        resident_1, resident_2 = user("13800000001"), user("13800000002")
        own = Resident.objects.get(user=resident_1)
        assert own.path.startswith(entrance_251.path)
        visible = Resident.objects.visible_to(resident_1, Perm.VIEW_HOUSEHOLD)
        assert set(visible.values_list("household_id", flat=True)) == {own.household_id}
        other = Resident.objects.get(user=resident_2)
        assert not other.path.startswith(entrance_251.path)
        assert not visible.filter(pk=other.pk).exists()

    def test_outsider_cannot_see_251_but_its_community_worker_can(self, entrance_251):
        outsider, worker = user("13800000022"), user("13800000007")
        assert not Place.objects.visible_to(outsider, Perm.VIEW_PLACE).filter(pk=entrance_251.pk).exists()
        assert Place.objects.visible_to(outsider, Perm.VIEW_PLACE).filter(name="牡丹园社区").exists()
        assert Place.objects.visible_to(worker, Perm.VIEW_PLACE).filter(pk=entrance_251.pk).exists()

    def test_floor_building_and_grid_logins_reach_what_the_table_says(self, entrance_251):
        floor_leader, building_leader, grid_worker = (
            user("13800000003"),
            user("13800000005"),
            user("13800000006"),
        )
        floor_households = Place.objects.visible_to(floor_leader, Perm.VIEW_HOUSEHOLD).filter(
            level=Level.HOUSEHOLD
        )
        assert set(floor_households.values_list("floor", flat=True)) == {9}
        assert floor_households.count() == 3
        seen = Place.objects.visible_to(building_leader, Perm.VIEW_PLACE).filter(level=Level.ENTRANCE)
        assert set(seen.values_list("building_id", flat=True)) == {entrance_251.building_id}
        assert seen.count() == 4
        grid = Place.objects.visible_to(grid_worker, Perm.VIEW_PLACE).filter(level=Level.GRID)
        assert list(grid) == [entrance_251.parent]

    def test_the_load_is_audited_and_the_chain_verifies(self):
        from linjialin.core.models import AuditEvent

        assert AuditEvent.objects.filter(action="demo.loaded").count() == 1
        assert AuditEvent.objects.filter(action="grant.created").count() >= len(demo.DEMO_LOGINS) - 1
        assert verify().ok

    def test_demo_refuses_a_database_with_places_and_if_empty_skips(self):
        before = Place.objects.count()
        with pytest.raises(CommandError, match="already has places"):
            call_command("demo", "--no-progress")
        out = io.StringIO()
        call_command("demo", "--if-empty", stdout=out)
        assert "already loaded" in out.getvalue()
        assert Place.objects.count() == before


def models_household_path():
    from django.db.models import OuterRef, Subquery

    return Subquery(Place.objects.filter(pk=OuterRef("household_id")).values("path")[:1])


def _digest_of_small_demo(seed: int) -> str:
    with transaction.atomic():  # rolled back: the next build starts from an empty database again
        call_command("demo", "--communities", "1", "--seed", str(seed), "--no-progress", stdout=io.StringIO())
        digest = demo.demo_digest()
        transaction.set_rollback(True)
    return digest


@override_settings(PASSWORD_HASHERS=FAST_HASHER)
def test_same_seed_gives_the_same_data_and_another_seed_does_not(db):
    first = _digest_of_small_demo(7)
    assert not Place.objects.exists()
    assert _digest_of_small_demo(7) == first
    assert _digest_of_small_demo(8) != first


@override_settings(PASSWORD_HASHERS=FAST_HASHER)
def test_smaller_demo_still_has_every_login(db):
    call_command("demo", "--communities", "2", "--no-progress", stdout=io.StringIO())
    assert Place.objects.filter(level=Level.COMMUNITY).count() == 2
    assert User.objects.filter(mobile__in=[x.mobile for x in demo.DEMO_LOGINS]).count() == len(
        demo.DEMO_LOGINS
    )


def test_demo_rejects_a_bad_community_count(db):
    with pytest.raises(CommandError, match="--communities"):
        call_command("demo", "--communities", "11")
    assert not Place.objects.exists()


@pytest.mark.parametrize("rate", ["0", "-0.3", "2.5"])
def test_demo_rejects_a_bad_request_rate(db, rate):
    with pytest.raises(CommandError, match="--requests-per-household"):
        call_command("demo", "--requests-per-household", rate)
    assert not Place.objects.exists()


@override_settings(PASSWORD_HASHERS=FAST_HASHER)
def test_the_request_rate_reaches_the_demo_year(db, monkeypatch):
    from linjialin.service_requests import demo_year

    asked = []
    monkeypatch.setattr(demo_year, "load", lambda *a, **kw: asked.append(kw["per_household"]) or {})
    call_command(
        "demo", "--communities", "1", "--requests-per-household", "0.3", "--no-progress", stdout=io.StringIO()
    )
    assert asked == [0.3]


def test_logins_option_prints_every_login_and_the_password(db):
    out = io.StringIO()
    call_command("demo", "--logins", stdout=out)
    text = out.getvalue()
    assert demo.DEMO_PASSWORD in text
    for login in demo.DEMO_LOGINS:
        assert login.mobile in text
    assert not Place.objects.exists()


def test_id_check_digit_follows_gb11643():
    assert demo.id_number_is_valid("11010519491231002X")
    assert demo.id_number_is_valid("11010519491231002x")
    assert not demo.id_number_is_valid("110105194912310021")
    assert not demo.id_number_is_valid("11010519491331002X")  # month 13
    assert not demo.id_number_is_valid("1101051949123100")
    assert demo.id_check_digit("34052419800101001") == "X"


def test_demo_password_passes_the_password_validators():
    from django.contrib.auth.password_validation import validate_password

    validate_password(demo.DEMO_PASSWORD)
