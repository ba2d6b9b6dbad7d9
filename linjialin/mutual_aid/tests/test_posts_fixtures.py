"""Shared fixtures and helpers of the post tests (imported by test_posts*.py, test_api.py and
test_workflow_machine.py).

The test tree (linjialin/testing/tree.py) has entrances A and B in 紫荆雅园 1号楼 (community 1) and X in
community 2. `aid_tree` adds, in community 1: entrance C in 紫荆雅园 2号楼 (same compound, another
building) and entrance D in 桂园 3号楼 (another compound), each with a household; and residents:
resident_c (C1), resident_d (D1), resident_x (X1, community 2), resident_a2 (A2, A's entrance, a minor
when asked). Mobiles 13700001xxx.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.utils import translation

from linjialin.mutual_aid.models import Reach
from linjialin.mutual_aid.services import posts
from linjialin.places.models import Building, Compound, Level, Place, Resident
from linjialin.places.services import new_place
from linjialin.testing.plugin import make_user


@pytest.fixture(autouse=True)
def _english():
    """The assertions read messages in English (the source language)."""
    with translation.override("en"):
        yield


@dataclass
class AidTree:
    entrance_c: Place
    entrance_d: Place
    household_c1: Place
    household_d1: Place
    building_2: Building
    compound_2: Compound


def _save(place: Place) -> Place:
    place.save()
    return place


@pytest.fixture(name="aid_tree")
def aid_tree_fixture(tree) -> AidTree:
    zj = tree.compound_1
    gy = Compound.objects.create(community=tree.community_1, name="桂园", path=tree.community_1.path)
    b2 = Building.objects.create(compound=zj, number="2号楼", path=tree.community_1.path)
    b3 = Building.objects.create(compound=gy, number="3号楼", path=tree.community_1.path)
    ec = _save(
        new_place(
            tree.grid_1, level=Level.ENTRANCE, code="3", name="紫荆雅园2号楼1单元", compound=zj, building=b2
        )
    )
    ed = _save(
        new_place(
            tree.grid_1, level=Level.ENTRANCE, code="4", name="桂园3号楼1单元", compound=gy, building=b3
        )
    )
    hc = _save(new_place(ec, level=Level.HOUSEHOLD, code="101", name="紫荆雅园2号楼1单元101", room="101"))
    hd = _save(new_place(ed, level=Level.HOUSEHOLD, code="101", name="桂园3号楼1单元101", room="101"))
    return AidTree(ec, ed, hc, hd, b2, gy)


def resident(mobile: str, name: str, household: Place, *, birth_year: int = 1980):
    """A resident user of `household` with a resident record (for the age)."""
    user = make_user(mobile, name, "resident", household)
    Resident.objects.create(
        household=household, path=household.path, name=name, birth_year=birth_year, user=user
    )
    return user


@pytest.fixture(name="resident_c")
def resident_c_fixture(aid_tree):
    return resident("13700001003", "赵C", aid_tree.household_c1)


@pytest.fixture(name="resident_d")
def resident_d_fixture(aid_tree):
    return resident("13700001004", "钱D", aid_tree.household_d1)


@pytest.fixture(name="resident_x")
def resident_x_fixture(tree):
    return resident("13700001005", "孙X", tree.household_x1)


@pytest.fixture(name="resident_a2")
def resident_a2_fixture(tree):
    """李四's household A2 (entrance A): a second neighbour of resident_a's entrance."""
    user = make_user("13700001002", "李四", "resident", tree.household_a2)
    tree.resident_a2.user = user
    tree.resident_a2.save(update_fields=["user"])
    return user


def subscribe(user, reach=Reach.COMMUNITY, categories=(), quiet=None):
    quiet_from, quiet_until = quiet or (None, None)
    return posts.subscribe(
        user,
        active=True,
        reach=reach,
        categories=list(categories),
        quiet_from=quiet_from,
        quiet_until=quiet_until,
    )


def need(author, household, **kw):
    values = {
        "household": household,
        "kind": "need",
        "category": "medicine",
        "text": "孩子发烧，急需退烧药（布洛芬混悬液）",
        "urgency": "urgent",
    }
    values.update(kw)
    return posts.create_post(author, **values)


@pytest.fixture(name="post")
def post_fixture(tree, resident_a):
    """resident_a's need for fever medicine, at entrance A."""
    return need(resident_a, tree.household_a1)


def matched(post, author, helper, household, **kw):
    """`helper` responds, the author picks them: (response, handoff)."""
    response = posts.respond(helper, post, household=household)
    handoff = posts.pick(author, post, response, **kw)
    return response, handoff
