"""Who is told about a post: the opted-in neighbours the post reaches (their subscription's reach and
categories, not in their quiet hours at that moment), once per post and level; on widening only the newly
reached; a care-list household's need at once to its 楼门长 and 网格员 (marked care); the live feed's
listeners (selectors.listeners_for) by the same rule; subscription input."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from linjialin.mutual_aid import selectors
from linjialin.mutual_aid.models import FeedEntry, Reach, Subscription
from linjialin.mutual_aid.services import posts
from linjialin.notifications.models import Notification
from linjialin.places.models import ResidentTag, TagType
from linjialin.testing.plugin import make_user

from .test_posts_fixtures import (  # noqa: F401
    _english,
    aid_tree_fixture,
    need,
    resident,
    resident_a2_fixture,
    resident_c_fixture,
    resident_d_fixture,
    resident_x_fixture,
    subscribe,
)

T0 = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0) + timedelta(days=1)


def told(post) -> set[int]:
    return set(
        Notification.objects.filter(dedupe_key__startswith=f"mutual_aid.post:{post.pk}:").values_list(
            "user_id", flat=True
        )
    )


def test_opted_in_neighbours_in_reach_are_told_as_the_post_widens(
    tree, resident_a, resident_a2, resident_b, resident_c, resident_d, resident_x
):
    for user in (resident_a2, resident_b, resident_c, resident_d, resident_x):
        subscribe(user, reach=Reach.COMMUNITY)
    subscribe(resident_a)  # the author is never told about their own post
    with time_machine.travel(T0, tick=False):
        p = need(resident_a, tree.household_a1)
    assert told(p) == {resident_a2.pk}
    notice = Notification.objects.get(user=resident_a2)
    assert notice.kind == "mutual_aid.post.urgent" and p.text[:8] in notice.title  # the recipient's language
    assert notice.link == f"/mutual-aid/posts/{p.pk}/"
    posts.sweep(T0 + timedelta(minutes=31))
    assert told(p) == {resident_a2.pk, resident_b.pk}
    assert Notification.objects.filter(user=resident_a2).count() == 1  # not told again on widening
    posts.sweep(T0 + timedelta(minutes=62))
    posts.sweep(T0 + timedelta(minutes=93))
    assert told(p) == {resident_a2.pk, resident_b.pk, resident_c.pk, resident_d.pk}
    assert resident_x.pk not in told(p)


def test_the_subscription_reach_categories_and_activity_decide(
    tree, resident_a, resident_a2, resident_b, resident_c, resident_d
):
    subscribe(resident_b, reach=Reach.ENTRANCE)  # only their own entrance: never told about A's posts
    subscribe(resident_c, reach=Reach.COMPOUND)
    subscribe(resident_d, reach=Reach.COMMUNITY, categories=["lending"])  # not medicine
    posts.subscribe(resident_a2, active=False, reach=Reach.COMMUNITY, categories=[])
    with time_machine.travel(T0, tick=False):
        p = need(resident_a, tree.household_a1)
    for minutes in (31, 62, 93):
        posts.sweep(T0 + timedelta(minutes=minutes))
    assert told(p) == {resident_c.pk}
    with time_machine.travel(T0 + timedelta(hours=3), tick=False):
        lend = need(resident_a, tree.household_a1, category="lending", text="借个梯子", urgency="normal")
    for minutes in (31, 62, 93):
        posts.sweep(T0 + timedelta(hours=3, minutes=minutes))
    assert told(lend) == {resident_c.pk, resident_d.pk}
    assert Notification.objects.get(user=resident_d).kind == "mutual_aid.post"  # normal urgency


def test_quiet_hours_are_respected_at_that_moment(tree, resident_a, resident_a2):
    subscribe(resident_a2, quiet=(time(22, 0), time(7, 0)))  # across midnight
    night = T0.replace(hour=23, minute=30)
    with time_machine.travel(night, tick=False):
        quiet = need(resident_a, tree.household_a1, text="借个充电宝", category="lending")
    assert told(quiet) == set()
    with time_machine.travel(T0.replace(hour=7, minute=0) + timedelta(days=1), tick=False):
        morning = need(resident_a, tree.household_a1, text="借个雨伞", category="lending")
    assert told(morning) == {resident_a2.pk}
    sub = Subscription.objects.get(user=resident_a2)
    assert selectors.in_quiet_hours(sub, night) and selectors.in_quiet_hours(sub, night + timedelta(hours=7))
    assert not selectors.in_quiet_hours(sub, T0)
    sub.quiet_from, sub.quiet_until = time(12, 0), time(14, 0)  # the same day
    assert selectors.in_quiet_hours(sub, T0.replace(hour=13)) and not selectors.in_quiet_hours(sub, T0)


def test_listeners_of_a_feed_entry_follow_the_same_rule(
    tree, resident_a, resident_a2, resident_b, resident_c, resident_x
):
    for user in (resident_a2, resident_b, resident_c, resident_x):
        subscribe(user)
    subscribe(resident_c, reach=Reach.BUILDING)
    subscribe(resident_b, quiet=(time(9, 0), time(11, 0)))
    with time_machine.travel(T0, tick=False):
        p = need(resident_a, tree.household_a1)
    posts.sweep(T0 + timedelta(minutes=31))
    posts.sweep(T0 + timedelta(minutes=62))
    first, second, third = FeedEntry.objects.filter(post=p)
    assert list(selectors.listeners_for(first, at=T0)) == [resident_a2]
    assert list(selectors.listeners_for(second, at=T0.replace(hour=12))) == [resident_b]
    assert list(selectors.listeners_for(second, at=T0)) == []  # resident_b's quiet hours
    assert list(selectors.listeners_for(third, at=T0.replace(hour=12))) == []  # resident_c: building only
    everyone = selectors.listeners_for(second, at=T0.replace(hour=12), newly=False)
    assert {u.pk for u in everyone} == {resident_a2.pk, resident_b.pk}


@pytest.fixture
def care_household(tree):
    tag = TagType.objects.get_or_create(
        code="elderly_alone", defaults={"name_zh": "独居老人", "name_en": "lives alone", "sensitive": True}
    )[0]
    ResidentTag.objects.create(
        resident=tree.resident_a1, tag=tag, path=tree.resident_a1.path, consent_source="本人书面同意"
    )
    return tree.household_a1


def test_a_care_list_households_need_goes_to_its_entrance_leader_and_grid_worker_at_once(
    tree, care_household, resident_a, entrance_leader_a, grid_worker, community_worker
):
    leader_b = make_user("13700001030", "楼门长B", "entrance_leader", tree.entrance_b)
    p = need(resident_a, care_household)
    assert p.care
    care = set(Notification.objects.filter(kind="mutual_aid.care_need").values_list("user_id", flat=True))
    assert care == {entrance_leader_a.pk, grid_worker.pk}
    assert leader_b.pk not in care and community_worker.pk not in care
    notice = Notification.objects.get(user=entrance_leader_a)
    assert p.text[:8] in notice.title and notice.dedupe_key == f"mutual_aid.care:{p.pk}"
    assert selectors.sees_care(entrance_leader_a, p) and not selectors.sees_care(resident_a, p)


def test_a_tag_without_consent_is_not_the_care_list(tree, resident_a, entrance_leader_a):
    tag = TagType.objects.get_or_create(
        code="elderly_alone", defaults={"name_zh": "独居老人", "name_en": "lives alone", "sensitive": True}
    )[0]
    ResidentTag.objects.create(resident=tree.resident_a1, tag=tag, path=tree.resident_a1.path)
    assert not need(resident_a, tree.household_a1).care
    assert not Notification.objects.filter(kind="mutual_aid.care_need").exists()


def test_subscription_input_is_checked(tree, resident_a, outsider, auditor):
    with pytest.raises(ValidationError) as exc:
        posts.subscribe(resident_a, active=True, reach=7, categories=["cars"], quiet_from=time(22, 0))
    assert {"reach", "categories", "quiet_until"} <= set(exc.value.message_dict)
    with pytest.raises(ValidationError):
        posts.subscribe(
            resident_a, active=True, reach=2, categories=[], quiet_from=time(1), quiet_until=time(1)
        )
    with pytest.raises(PermissionDenied):
        posts.subscribe(auditor, active=True, reach=2, categories=[])
    sub = posts.subscribe(resident_a, active=True, reach=3, categories=["medicine", "medicine", "errands"])
    assert sub.categories == ["errands", "medicine"] and sub.reach == 3
    again = posts.subscribe(resident_a, active=False, reach=1, categories=[])
    assert again.pk == sub.pk and not again.active
