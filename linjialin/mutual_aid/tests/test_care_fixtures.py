"""Shared fixtures of the care-list and emergency tests (imported by test_care*.py and test_emergency*.py).

The care list of the test tree: 张三 (A1, entrance A) is an elderly person living alone, with consent;
李四 (A2, entrance A) has a disability tag recorded WITHOUT consent (not on the list); 王五 (B1, entrance B)
is pregnant, with consent; 赵六 (X1, community 2) lives alone, with consent. Extra people use mobiles
13700003xxx (Engineer C's range)."""

from __future__ import annotations

import pytest
from django.utils import translation

from linjialin.places.models import ResidentTag, TagType
from linjialin.testing.plugin import make_user


@pytest.fixture(autouse=True)
def _english():
    """The assertions read messages in English (the source language)."""
    with translation.override("en"):
        yield


# the tag types places' migration 0002 seeds; re-created if a transactional test on this worker flushed them
SEEDED_TAGS = {
    "elderly_alone": ("独居老人", "elderly living alone", True),
    "disability": ("残疾", "disability", True),
    "pregnancy": ("孕期", "pregnancy", True),
    "party_member": ("党员", "party member", False),
}


def tag(resident, code: str, consent: str = "本人书面同意") -> ResidentTag:
    zh, en, sensitive = SEEDED_TAGS[code]
    tag_type = TagType.objects.get_or_create(
        code=code, defaults={"name_zh": zh, "name_en": en, "sensitive": sensitive}
    )[0]
    return ResidentTag.objects.create(
        resident=resident, tag=tag_type, path=resident.path, consent_source=consent
    )


@pytest.fixture(name="care_tags")
def care_tags_fixture(tree):
    return {
        "a1": tag(tree.resident_a1, "elderly_alone"),
        "a2": tag(tree.resident_a2, "disability", consent=""),  # no consent: not on the list
        "a2_plain": tag(tree.resident_a2, "party_member", consent=""),  # not sensitive
        "b1": tag(tree.resident_b1, "pregnancy", consent="本人口头同意，楼门长记录"),
        "x1": tag(tree.resident_x1, "elderly_alone"),
    }


@pytest.fixture(name="entrance_leader_b")
def entrance_leader_b_fixture(tree):
    return make_user("13700003001", "楼门长B", "entrance_leader", tree.entrance_b)


@pytest.fixture(name="volunteer")
def volunteer_fixture(tree):
    return make_user("13700003002", "志愿者小刘", "volunteer", tree.community_1)


@pytest.fixture(name="volunteer_2")
def volunteer_2_fixture(tree):
    return make_user("13700003003", "志愿者小陈", "volunteer", tree.community_1)


@pytest.fixture(name="outside_volunteer")
def outside_volunteer_fixture(tree):
    return make_user("13700003004", "外社区志愿者", "volunteer", tree.community_2)
