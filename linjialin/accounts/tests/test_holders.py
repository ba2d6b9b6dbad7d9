"""Who is on duty at a place: `holders` (one plain statement, read at every step of the request loop)
answers exactly as `users_holding` (the queryset) for every permission, level and role filter."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from linjialin.accounts.roles import Role
from linjialin.accounts.scope import DEPARTMENT_LEVEL
from linjialin.accounts.selectors import holders, users_holding
from linjialin.testing.plugin import make_user

PERMS = ("requests.handle", "requests.supervise", "requests.dispatch", "mediation.work", "mutual_aid.care")
LEVEL_SETS = (None, {1}, {2}, {3}, {4}, {3, 4}, {DEPARTMENT_LEVEL}, {DEPARTMENT_LEVEL, 1}, set())


@pytest.fixture
def staff(tree, entrance_leader_a, grid_worker, community_worker, community_secretary, outsider, admin):
    today = timezone.localdate()
    make_user("13900000020", "区住建委", Role.DEPARTMENT_HANDLER, tree.subdistrict)
    make_user("13900000021", "派单员", Role.SUBDISTRICT_DISPATCHER, tree.subdistrict)
    make_user("13900000022", "调解员", Role.MEDIATOR, tree.community_1)
    make_user("13900000023", "楼长", Role.BUILDING_LEADER, tree.community_1, building=tree.building_1)
    make_user("13900000024", "层长", Role.FLOOR_LEADER, tree.entrance_a, floor=1)
    make_user(
        "13900000025", "明天上任", Role.ENTRANCE_LEADER, tree.entrance_a, valid_from=today + timedelta(1)
    )
    gone = make_user("13900000026", "已停用", Role.GRID_WORKER, tree.grid_1)
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    return tree


def test_holders_answers_as_users_holding(staff):
    places = [staff.household_a1, staff.entrance_a, staff.grid_1, staff.community_1, staff.community_2]
    checked = 0
    for place in places:
        for perm in PERMS:
            for levels in LEVEL_SETS:
                for roles in (None, {Role.MEDIATOR}, {Role.ENTRANCE_LEADER, Role.GRID_WORKER}):
                    expected = list(users_holding(perm, place.path, levels=levels, roles=roles))
                    assert holders(perm, place.path, levels=levels, roles=roles) == expected
                    checked += bool(expected)
    assert checked > 50  # most combinations find someone: the comparison is not of empty lists


def test_holders_leave_out_admins_parts_of_entrances_future_and_inactive_grants(staff):
    found = {u.display_name for u in holders("requests.handle", staff.household_a1.path)}
    assert {"楼门长A", "网格员", "社区工作者"} <= found
    assert not found & {"系统管理员", "楼长", "层长", "明天上任", "已停用"}
    assert [u.display_name for u in holders("requests.handle", staff.entrance_a.path, levels={4})] == [
        "楼门长A"
    ]
    assert [u.display_name for u in holders("requests.handle", staff.subdistrict.path, levels={0})] == [
        "区住建委"
    ]


def test_holders_reads_with_one_statement(staff, django_assert_num_queries):
    with django_assert_num_queries(1):
        holders("requests.handle", staff.household_a1.path, levels={4, 3, 0})
