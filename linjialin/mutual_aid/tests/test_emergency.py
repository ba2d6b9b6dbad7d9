"""Emergency mode: one active episode per community, the team (volunteers and the community's people),
tasks per entrance and per care-list household, claims with compare-and-set (two at once: one wins), the
coverage board against a hand-computed fixture, ending archives (tasks stay readable, the banner goes),
who sees what, audit rows."""

from __future__ import annotations

from functools import partial

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from linjialin.core.errors import Conflict
from linjialin.core.models import AuditEvent
from linjialin.core.workflow import TransitionNotAllowed
from linjialin.mutual_aid import emergency_selectors as selectors
from linjialin.mutual_aid.models import EmergencyTask, Episode, EpisodeMember, EpisodeState, TaskState
from linjialin.mutual_aid.services import emergency
from linjialin.notifications.models import Notification
from linjialin.places.models import Building, Compound, Level, Resident
from linjialin.places.services import new_place
from linjialin.testing.concurrency import at_once, outcomes, winner

from .test_care_fixtures import (  # noqa: F401  (fixtures)
    _english,
    care_tags_fixture,
    outside_volunteer_fixture,
    tag,
    volunteer_2_fixture,
    volunteer_fixture,
)


def start(actor, tree, **kw):
    values = {
        "community": tree.community_1,
        "kind": "epidemic",
        "title": "封控",
        "banner": "请居家，志愿者送菜上门",
    }
    return emergency.start_episode(actor, **{**values, **kw})


def actions(prefix="mutual_aid."):
    return list(
        AuditEvent.objects.filter(action__startswith=prefix).order_by("seq").values_list("action", flat=True)
    )


@pytest.fixture(name="third")
def third_fixture(tree):
    """A second grid in community 1: compound 丁香园, building 3号楼, entrance C with C1 (a resident with a
    disability, consent recorded) and C2 (nobody tagged)."""
    grid = new_place(tree.community_1, level=Level.GRID, code="2", name="网格三")
    grid.save()
    compound = Compound.objects.create(community=tree.community_1, name="丁香园", path=tree.community_1.path)
    building = Building.objects.create(compound=compound, number="3号楼", path=tree.community_1.path)
    entrance = new_place(
        grid, level=Level.ENTRANCE, code="1", name="丁香园3号楼1单元", compound=compound, building=building
    )
    entrance.save()
    households = []
    for code in ("101", "102"):
        h = new_place(entrance, level=Level.HOUSEHOLD, code=code, name=f"丁香园3号楼1单元{code}", room=code)
        h.save()
        households.append(h)
    person = Resident.objects.create(
        household=households[0], path=households[0].path, name="孙七", birth_year=1950
    )
    tag(person, "disability")
    return {
        "grid": grid,
        "compound": compound,
        "entrance": entrance,
        "c1": households[0],
        "c2": households[1],
    }


# --- episodes ----------------------------------------------------------------------------------------------
def test_staff_switch_on_emergency_mode_once_per_community(
    tree, community_worker, community_secretary, volunteer
):
    episode = start(community_worker, tree)
    assert episode.state == EpisodeState.ACTIVE and episode.path == tree.community_1.path
    assert list(EpisodeMember.objects.filter(episode=episode).values_list("user_id", "role")) == [
        (community_worker.pk, "leader")
    ]
    note = Notification.objects.get(user=volunteer, kind="mutual_aid.episode.started")
    assert note.link == f"/mutual-aid/emergency/{episode.pk}/"  # no language prefix
    with pytest.raises(ValidationError) as err:
        start(community_secretary, tree, title="另一个")
    assert "community" in err.value.message_dict
    assert Episode.objects.count() == 1
    assert actions() == ["mutual_aid.episode.started"]


def test_start_checks_permission_then_input(
    tree, entrance_leader_a, outsider, resident_a, community_worker, third
):
    for user in (entrance_leader_a, outsider, resident_a):
        with pytest.raises(PermissionDenied):
            start(user, tree)
    bad = [
        ({"community": tree.grid_1}, "community"),
        ({"kind": "zombies"}, "kind"),
        ({"title": " "}, "title"),
        ({"banner": ""}, "banner"),
        ({"banner": "x" * 301}, "banner"),
        ({"community": tree.community_1, "compound": Compound.objects.get(name="牡丹园")}, "compound"),
    ]
    for kw, field in bad:
        with pytest.raises(ValidationError) as err:
            start(community_worker, tree, **kw)
        assert field in err.value.message_dict
    assert not Episode.objects.exists() and actions() == []


def test_a_second_community_may_be_in_emergency_mode_at_the_same_time(tree, community_worker, outsider):
    start(community_worker, tree)
    other = start(outsider, tree, community=tree.community_2, kind="flood", title="内涝")
    assert other.state == EpisodeState.ACTIVE


def test_ending_archives_and_keeps_the_tasks_readable(tree, community_worker, volunteer, resident_a):
    episode = start(community_worker, tree)
    emergency.join(volunteer, episode)
    tasks = emergency.create_tasks(community_worker, episode, kind="delivery")
    assert [b.pk for b in selectors.banner_episodes_for_user(resident_a)] == [episode.pk]
    with pytest.raises(PermissionDenied):
        emergency.end_episode(volunteer, episode, summary="x")
    with pytest.raises(ValidationError) as err:
        emergency.end_episode(community_worker, episode, summary=" ")
    assert "summary" in err.value.message_dict
    emergency.end_episode(community_worker, episode, summary="解封，共送菜 40 户")
    episode.refresh_from_db()
    assert episode.state == EpisodeState.ARCHIVED and episode.ended_by == community_worker
    assert selectors.banner_episodes_for_user(resident_a) == []
    assert [t.pk for t in selectors.tasks_of(episode)] == [t.pk for t in tasks]  # still there
    assert selectors.get_episode_for_user(volunteer, episode.pk) == episode  # a member reads the archive
    with pytest.raises(TransitionNotAllowed):
        emergency.claim_task(volunteer, tasks[0])
    with pytest.raises(TransitionNotAllowed):
        emergency.end_episode(community_worker, episode, summary="again")
    with pytest.raises(TransitionNotAllowed):
        emergency.create_tasks(community_worker, episode, kind="delivery")
    event = AuditEvent.objects.get(action="mutual_aid.episode.ended")
    assert (
        event.after["tasks"] == {"open": 2, "claimed": 0, "done": 0} and event.reason == "解封，共送菜 40 户"
    )
    start(community_worker, tree, title="第二次")  # a new one may start after the end


# --- the team ----------------------------------------------------------------------------------------------
def test_the_team_is_drawn_from_the_community(
    tree, community_worker, resident_a, volunteer, outside_volunteer, outsider
):
    episode = start(community_worker, tree)
    member = emergency.add_member(community_worker, episode, user=resident_a, role="party_member")
    assert member.role == "party_member"
    assert Notification.objects.filter(user=resident_a, kind="mutual_aid.episode.member_added").exists()
    for user, field in ((outside_volunteer, "user"), (outsider, "user"), (resident_a, "user")):
        with pytest.raises(ValidationError) as err:
            emergency.add_member(community_worker, episode, user=user, role="volunteer")
        assert field in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        emergency.add_member(community_worker, episode, user=volunteer, role="captain")
    assert "role" in err.value.message_dict
    with pytest.raises(PermissionDenied):
        emergency.add_member(volunteer, episode, user=volunteer, role="volunteer")
    assert volunteer in selectors.candidates_for(episode) and resident_a not in selectors.candidates_for(
        episode
    )
    assert actions() == ["mutual_aid.episode.started", "mutual_aid.episode.member_added"]


def test_a_volunteer_joins_once_and_a_resident_may_not_join_alone(
    tree, community_worker, volunteer, resident_a, outside_volunteer
):
    episode = start(community_worker, tree)
    first = emergency.join(volunteer, episode)
    assert emergency.join(volunteer, episode) == first  # twice: nothing more
    for user in (resident_a, outside_volunteer):
        with pytest.raises(PermissionDenied):
            emergency.join(user, episode)
    assert actions() == ["mutual_aid.episode.started", "mutual_aid.episode.joined"]


# --- tasks -------------------------------------------------------------------------------------------------
def test_tasks_per_entrance_and_per_care_household_for_door_checks(tree, care_tags, community_worker, third):
    episode = start(community_worker, tree)
    created = emergency.create_tasks(community_worker, episode, kind="door_check", note="测体温")
    targets = [(t.entrance_id, t.household_id) for t in created]
    assert targets == [
        (tree.entrance_a.pk, None),
        (tree.entrance_b.pk, None),
        (third["entrance"].pk, None),
        (tree.entrance_a.pk, tree.household_a1.pk),  # 张三, consented
        (tree.entrance_b.pk, tree.household_b1.pk),  # 王五, consented
        (third["entrance"].pk, third["c1"].pk),  # 孙七, consented; 李四 (no consent) is not here
    ]
    assert all(t.path == (t.household or t.entrance).path for t in created)
    assert emergency.create_tasks(community_worker, episode, kind="door_check") == []  # nothing doubles
    delivery = emergency.create_tasks(community_worker, episode, kind="delivery", entrances=[tree.entrance_b])
    assert [(t.entrance_id, t.household_id) for t in delivery] == [(tree.entrance_b.pk, None)]
    for kw, field in (
        ({"kind": "party"}, "kind"),
        ({"kind": "delivery", "entrances": [tree.entrance_x]}, "entrances"),
        ({"kind": "delivery", "entrances": []}, "entrances"),
        ({"kind": "delivery", "note": "x" * 301}, "note"),
    ):
        with pytest.raises(ValidationError) as err:
            emergency.create_tasks(community_worker, episode, **kw)
        assert field in err.value.message_dict
    assert EmergencyTask.objects.count() == 7
    event = AuditEvent.objects.filter(action="mutual_aid.episode.tasks_created").order_by("seq").first()
    assert event.after == {"kind": "door_check", "entrances": 3, "households": 3, "note": "测体温"}


def test_a_compound_episode_covers_only_its_entrances(tree, care_tags, community_worker, third, resident_a):
    episode = start(community_worker, tree, compound=third["compound"])
    created = emergency.create_tasks(community_worker, episode, kind="door_check")
    assert [(t.entrance_id, t.household_id) for t in created] == [
        (third["entrance"].pk, None),
        (third["entrance"].pk, third["c1"].pk),
    ]
    assert selectors.banner_episodes_for_user(resident_a) == []  # 紫荆雅园 is not in emergency mode
    assert selectors.banner_episodes_for_user(community_worker) == [episode]


def test_claim_finish_and_give_back(tree, community_worker, volunteer, volunteer_2, resident_a):
    episode = start(community_worker, tree)
    emergency.join(volunteer, episode)
    emergency.join(volunteer_2, episode)
    task = emergency.create_tasks(community_worker, episode, kind="delivery", entrances=[tree.entrance_a])[0]
    with pytest.raises(PermissionDenied):
        emergency.claim_task(resident_a, task)  # not on the team
    emergency.claim_task(volunteer, task)
    assert task.state == TaskState.CLAIMED and task.claimed_by == volunteer
    with pytest.raises(PermissionDenied):
        emergency.finish_task(volunteer_2, task, result="送到")  # not theirs
    with pytest.raises(TransitionNotAllowed):
        emergency.claim_task(volunteer_2, task)  # claimed already
    with pytest.raises(ValidationError) as err:
        emergency.finish_task(volunteer, task, result=" ")
    assert "result" in err.value.message_dict
    emergency.release_task(volunteer, task)
    assert task.state == TaskState.OPEN and task.claimed_by is None
    emergency.claim_task(volunteer_2, EmergencyTask.objects.get(pk=task.pk))
    task.refresh_from_db()
    emergency.finish_task(community_worker, task, result="社区代为确认送达")  # staff may close it
    task.refresh_from_db()
    assert task.state == TaskState.DONE and task.done_at and task.result == "社区代为确认送达"
    assert task.claimed_by == volunteer_2
    assert actions("mutual_aid.task.") == [
        "mutual_aid.task.claimed",
        "mutual_aid.task.released",
        "mutual_aid.task.claimed",
        "mutual_aid.task.finished",
    ]


def test_claiming_a_task_someone_took_a_moment_ago_is_a_conflict(
    tree, community_worker, volunteer, volunteer_2
):
    episode = start(community_worker, tree)
    emergency.join(volunteer, episode)
    emergency.join(volunteer_2, episode)
    task = emergency.create_tasks(community_worker, episode, kind="testing", entrances=[tree.entrance_a])[0]
    stale = EmergencyTask.objects.get(pk=task.pk)  # loaded open
    emergency.claim_task(volunteer, task)
    with pytest.raises(Conflict):
        emergency.claim_task(volunteer_2, stale)
    assert EmergencyTask.objects.get(pk=task.pk).claimed_by == volunteer


@pytest.mark.django_db(transaction=True)
def test_two_volunteers_claim_the_same_task_at_once_one_wins(tree, community_worker, volunteer, volunteer_2):
    episode = start(community_worker, tree)
    emergency.join(volunteer, episode)
    emergency.join(volunteer_2, episode)
    task = emergency.create_tasks(community_worker, episode, kind="delivery", entrances=[tree.entrance_a])[0]
    both = [volunteer, volunteer_2]
    copies = [EmergencyTask.objects.select_related("episode").get(pk=task.pk) for _user in both]  # both open
    results = at_once(
        *(partial(emergency.claim_task, user, copy) for user, copy in zip(both, copies, strict=True))
    )
    assert outcomes(results) == ["Conflict", "ok"]
    assert EmergencyTask.objects.get(pk=task.pk).claimed_by == winner(results, both)
    assert AuditEvent.objects.filter(action="mutual_aid.task.claimed").count() == 1


# --- the coverage board ------------------------------------------------------------------------------------
def test_coverage_counts_match_the_hand_computed_fixture(tree, care_tags, community_worker, volunteer, third):
    """Entrances A, B (网格一, 紫荆雅园1号楼) and C (网格三, 丁香园3号楼); care households A1, B1, C1.
    Done: the door checks of entrance A, household A1 and household C1, and a delivery at B (a delivery
    reaches nobody). Claimed: the door check of B. So entrances 1/3, care households 2/3; 网格一 1/2 and
    1/2, 网格三 0/1 and 1/1; tasks: 4 done, 1 claimed, 2 open (C's door check, B1's)."""
    episode = start(community_worker, tree)
    emergency.join(volunteer, episode)
    doors = {
        (t.entrance_id, t.household_id): t
        for t in emergency.create_tasks(community_worker, episode, kind="door_check")
    }
    delivery = emergency.create_tasks(
        community_worker, episode, kind="delivery", entrances=[tree.entrance_b]
    )[0]
    for key in (
        (tree.entrance_a.pk, None),
        (tree.entrance_a.pk, tree.household_a1.pk),
        (third["entrance"].pk, third["c1"].pk),
    ):
        emergency.claim_task(volunteer, doors[key])
        emergency.finish_task(volunteer, doors[key], result="已敲门，一切正常")
    emergency.claim_task(volunteer, delivery)
    emergency.finish_task(volunteer, delivery, result="送到")
    emergency.claim_task(volunteer, doors[(tree.entrance_b.pk, None)])

    c = selectors.coverage(episode)
    assert (c.total.entrances_reached, c.total.entrances, c.total.care_reached, c.total.care) == (1, 3, 2, 3)
    assert (c.total.entrances_percent, c.total.care_percent) == (33, 67)
    assert [(r.label, r.entrances_reached, r.entrances, r.care_reached, r.care) for r in c.by_grid] == [
        ("网格一", 1, 2, 1, 2),
        ("网格三", 0, 1, 1, 1),
    ]
    assert [(r.label, r.entrances_reached, r.entrances, r.care_reached, r.care) for r in c.by_building] == [
        ("丁香园3号楼", 0, 1, 1, 1),
        ("紫荆雅园1号楼", 1, 2, 1, 2),
    ]
    assert c.counts == {"open": 2, "claimed": 1, "done": 4}
    assert [e.pk for e in c.unreached_entrances] == [tree.entrance_b.pk, third["entrance"].pk]


# --- who sees what -----------------------------------------------------------------------------------------
def test_who_sees_an_episode(
    tree, community_worker, volunteer, resident_a, outsider, outside_volunteer, grid_worker
):
    episode = start(community_worker, tree)
    assert selectors.get_episode_for_user(community_worker, episode.pk) == episode
    assert selectors.get_episode_for_user(volunteer, episode.pk) == episode  # to join
    for user in (resident_a, outsider, outside_volunteer, grid_worker):
        with pytest.raises(Http404):
            selectors.get_episode_for_user(user, episode.pk)
    with pytest.raises(Http404):
        selectors.get_episode_for_user(community_worker, "x")
    assert list(selectors.list_episodes_for_user(resident_a)) == []
    emergency.end_episode(community_worker, episode, summary="结束")
    with pytest.raises(Http404):
        selectors.get_episode_for_user(volunteer, episode.pk)  # not a member: the archive is not theirs


def test_the_banner_reaches_the_community_only(
    tree, community_worker, resident_a, resident_b, outsider, subdistrict_staff
):
    episode = start(community_worker, tree)
    for user in (resident_a, resident_b, community_worker, subdistrict_staff):
        assert selectors.banner_episodes_for_user(user) == [episode]
    assert selectors.banner_episodes_for_user(outsider) == []
    assert selectors.banner_episodes_for_user(None) == []
