"""Reports and moderation: reports by different people hide a post at `reports_to_hide`; a moderator over
its place (楼门长, 网格员, community staff) upholds (hidden) or restores it; a moderator of another place
gets 404/403; a person is reported only by someone who met them through a post; visibility of hidden
posts; an outsider never sees a post; two moderators (or two picks) at once: one wins, the other gets
Conflict."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from linjialin.core.errors import Conflict
from linjialin.core.models import AuditEvent
from linjialin.core.workflow import TransitionNotAllowed
from linjialin.mutual_aid import selectors
from linjialin.mutual_aid.models import AidRules, Handoff, Post, PostState, Report, ReportState, Response
from linjialin.mutual_aid.services import posts
from linjialin.notifications.models import Notification
from linjialin.testing.concurrency import at_once, outcomes
from linjialin.testing.plugin import make_user

from .test_posts_fixtures import (  # noqa: F401
    _english,
    matched,
    need,
    post_fixture,
    resident,
    resident_a2_fixture,
    resident_x_fixture,
)

S = PostState


@pytest.fixture
def neighbours(tree):
    return [resident(f"137000011{i:02d}", f"邻居{i}", tree.household_a2) for i in range(3)]


def sees(user, post) -> bool:
    return selectors.visible_posts(user).filter(pk=post.pk).exists()


def test_reports_hide_a_post_at_the_threshold_until_a_moderator_restores_it(
    post, tree, neighbours, resident_a, entrance_leader_a
):
    first, second, third = neighbours
    posts.report(first, post=post, reason="commercial", note="像是在卖东西")
    again = posts.report(first, post=post, reason="fraud")  # the same person twice counts once
    assert getattr(again, "replayed", False)
    posts.report(second, post=post, reason="commercial")
    post.refresh_from_db()
    assert post.state == S.OPEN
    row = posts.report(third, post=post, reason="unsafe")
    post.refresh_from_db()
    assert post.state == S.HIDDEN and "3 reports" in post.hidden_reason
    assert row.path == post.path and Report.objects.filter(post=post).count() == 3
    assert not sees(first, post) and sees(resident_a, post) and sees(entrance_leader_a, post)
    assert Notification.objects.filter(user=entrance_leader_a, kind="mutual_aid.report").count() == 3
    assert list(selectors.moderation_queue(entrance_leader_a)) == list(
        Report.objects.filter(post=post).order_by("created_at", "id")
    )
    event = AuditEvent.objects.filter(action="mutual_aid.report.created").order_by("-seq").first()
    assert event.after["post_hidden"] is True

    posts.restore(entrance_leader_a, post)
    post.refresh_from_db()
    assert post.state == S.OPEN and post.hidden_reason == ""
    assert set(Report.objects.filter(post=post).values_list("state", flat=True)) == {ReportState.DISMISSED}
    assert sees(first, post)
    assert Notification.objects.filter(user=resident_a, kind="mutual_aid.restored").exists()


def test_the_threshold_is_data(post, tree, neighbours):
    AidRules.objects.update(reports_to_hide=1)
    posts.report(neighbours[0], post=post, reason="abuse")
    post.refresh_from_db()
    assert post.state == S.HIDDEN


def test_a_moderator_upholds_a_report_and_the_post_is_hidden(post, tree, neighbours, resident_a, grid_worker):
    report = posts.report(neighbours[0], post=post, reason="fraud", note="要求先转账")
    other = posts.report(neighbours[1], post=post, reason="fraud")
    posts.moderate(grid_worker, report, decision="upheld", note="确认为诈骗信息")
    post.refresh_from_db()
    other.refresh_from_db()
    assert post.state == S.HIDDEN and post.hidden_reason == "确认为诈骗信息"
    assert other.state == ReportState.UPHELD and other.handled_by == grid_worker
    assert Notification.objects.filter(user=resident_a, kind="mutual_aid.hidden").exists()
    event = AuditEvent.objects.filter(action="mutual_aid.report.decided").get()
    assert event.actor == grid_worker and event.after["post_hidden"] is True
    with pytest.raises(Conflict):
        posts.moderate(grid_worker, report, decision="dismissed")


def test_a_dismissed_report_leaves_the_post_open(post, tree, neighbours, community_worker):
    report = posts.report(neighbours[0], post=post, reason="other", note="看着不舒服")
    posts.moderate(community_worker, report, decision="dismissed", note="正常求助")
    post.refresh_from_db()
    report.refresh_from_db()
    assert post.state == S.OPEN and report.state == ReportState.DISMISSED
    with pytest.raises(ValidationError):
        posts.moderate(
            community_worker, posts.report(neighbours[1], post=post, reason="abuse"), decision="maybe"
        )


def test_a_moderator_outside_the_scope_gets_404_and_403(post, tree, neighbours, outsider):
    leader_x = make_user("13700001040", "楼门长X", "entrance_leader", tree.entrance_x)
    report = posts.report(neighbours[0], post=post, reason="abuse")
    for moderator in (outsider, leader_x):
        with pytest.raises(Http404):
            selectors.get_report_for_user(moderator, report.pk)
        with pytest.raises(Http404):
            selectors.get_post_for_user(moderator, post.pk)
        assert not selectors.moderation_queue(moderator).exists()
        with pytest.raises(PermissionDenied):
            posts.moderate(moderator, report, decision="upheld")
        with pytest.raises(TransitionNotAllowed):
            posts.hide(moderator, post, reason="越权")
    leader_b = make_user("13700001041", "楼门长B", "entrance_leader", tree.entrance_b)
    with pytest.raises(PermissionDenied):  # same community, another entrance
        posts.moderate(leader_b, report, decision="upheld")
    report.refresh_from_db()
    post.refresh_from_db()
    assert report.state == ReportState.OPEN and post.state == S.OPEN


def test_hide_needs_a_reason_and_a_moderator(post, tree, resident_a, resident_a2, entrance_leader_a):
    with pytest.raises(ValidationError) as exc:
        posts.hide(entrance_leader_a, post, reason=" ")
    assert "reason" in exc.value.message_dict
    with pytest.raises(TransitionNotAllowed):
        posts.hide(resident_a2, post, reason="我不喜欢")
    posts.hide(entrance_leader_a, post, reason="含有个人电话")
    with pytest.raises(TransitionNotAllowed):
        posts.restore(resident_a, post)  # the author does not restore
    with pytest.raises(TransitionNotAllowed):
        posts.hide(entrance_leader_a, post, reason="again")


def test_who_may_report(post, tree, resident_a, resident_a2, resident_b, resident_x):
    with pytest.raises(PermissionDenied):
        posts.report(resident_b, post=post, reason="abuse")  # has not reached entrance B
    with pytest.raises(PermissionDenied):
        posts.report(resident_x, post=post, reason="abuse")
    with pytest.raises(PermissionDenied):
        posts.report(resident_a, post=post, reason="abuse")  # own post
    with pytest.raises(ValidationError) as exc:
        posts.report(resident_a2, post=post, reason="other")
    assert "note" in exc.value.message_dict
    with pytest.raises(ValidationError):
        posts.report(resident_a2, reason="abuse")  # neither a post nor a person
    with pytest.raises(ValidationError):
        posts.report(resident_a2, post=post, reason="bad")
    assert not Report.objects.exists()


def test_a_person_is_reported_by_someone_who_met_them_through_a_post(
    post, tree, resident_a, resident_a2, resident_b, grid_worker
):
    posts.respond(resident_a2, post, household=tree.household_a2, note="我来")
    row = posts.report(resident_a, person=resident_a2, reason="abuse", note="言语辱骂")
    assert row.path == tree.household_a2.path and row.post is None
    by_neighbour = posts.report(resident_a2, person=resident_a, reason="fraud", note="收钱不给")
    assert by_neighbour.path == tree.household_a1.path
    with pytest.raises(PermissionDenied):
        posts.report(resident_b, person=resident_a, reason="abuse")  # never met
    with pytest.raises(PermissionDenied):
        posts.report(resident_a, person=resident_a, reason="abuse")
    posts.moderate(grid_worker, row, decision="upheld", note="已约谈")
    row.refresh_from_db()
    assert row.state == ReportState.UPHELD


def test_a_resident_of_another_community_never_sees_the_post(post, tree, resident_x, outsider):
    for user in (resident_x, outsider):
        with pytest.raises(Http404):
            selectors.get_post_for_user(user, post.pk)
        assert not selectors.list_posts_for_user(user).exists()
        assert not selectors.open_posts_for_user(user).exists()
        assert selectors.chain_for_user(user, post) == []


def test_a_stale_copy_loses_the_race(post, tree, resident_a, resident_a2, entrance_leader_a, grid_worker):
    response = posts.respond(resident_a2, post, household=tree.household_a2)
    copy, response_copy = Post.objects.get(pk=post.pk), Response.objects.get(pk=response.pk)
    posts.pick(resident_a, post, response)
    with pytest.raises(Conflict):
        posts.pick(resident_a, copy, response_copy)
    with pytest.raises(Conflict):  # the response, read again, is chosen already
        posts.pick(resident_a, copy, Response.objects.get(pk=response.pk))
    with pytest.raises(TransitionNotAllowed):  # the post, read again, is matched
        posts.pick(resident_a, Post.objects.get(pk=post.pk), Response.objects.get(pk=response.pk))
    assert Handoff.objects.count() == 1
    first, second = Post.objects.get(pk=post.pk), Post.objects.get(pk=post.pk)
    posts.hide(entrance_leader_a, first, reason="核实")
    with pytest.raises(Conflict):
        posts.hide(grid_worker, second, reason="核实")
    assert AuditEvent.objects.filter(action="mutual_aid.post.hidden").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_picks_at_once_make_one_handoff(tree):
    author = resident("13700001050", "甲", tree.household_a1)
    one = resident("13700001051", "乙", tree.household_a2)
    two = resident("13700001052", "丙", tree.household_a2)
    p = need(author, tree.household_a1)
    r1 = posts.respond(one, p, household=tree.household_a2)
    r2 = posts.respond(two, p, household=tree.household_a2)

    def pick(response):
        post_copy, response_copy = Post.objects.get(pk=p.pk), Response.objects.get(pk=response.pk)
        return lambda: posts.pick(author, post_copy, response_copy)

    assert outcomes(at_once(pick(r1), pick(r2))) == ["Conflict", "ok"]
    assert Handoff.objects.filter(post=p).count() == 1
    assert Post.objects.get(pk=p.pk).state == S.MATCHED
    assert AuditEvent.objects.filter(action="mutual_aid.post.picked").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_moderators_deciding_at_once_one_wins(tree):
    author = resident("13700001060", "甲", tree.household_a1)
    reporter = resident("13700001061", "乙", tree.household_a2)
    leader = make_user("13700001062", "楼门长", "entrance_leader", tree.entrance_a)
    worker = make_user("13700001063", "网格员", "grid_worker", tree.grid_1)
    p = need(author, tree.household_a1)
    report = posts.report(reporter, post=p, reason="fraud")

    def decide(user, decision):
        copy = Report.objects.get(pk=report.pk)
        return lambda: posts.moderate(user, copy, decision=decision, note="x")

    assert outcomes(at_once(decide(leader, "upheld"), decide(worker, "dismissed"))) == ["Conflict", "ok"]
    assert AuditEvent.objects.filter(action="mutual_aid.report.decided").count() == 1
    assert Report.objects.get(pk=report.pk).state in (ReportState.UPHELD, ReportState.DISMISSED)


def test_a_matched_post_hidden_then_restored_is_matched_again_with_its_handoff(
    post, tree, resident_a, resident_a2, entrance_leader_a
):
    _response, handoff = matched(post, resident_a, resident_a2, tree.household_a2)
    posts.hide(entrance_leader_a, post, reason="核实中")
    post.refresh_from_db()
    assert post.state == PostState.HIDDEN
    posts.restore(entrance_leader_a, post)
    post.refresh_from_db()
    assert post.state == PostState.MATCHED and Handoff.objects.get(post=post) == handoff
    event = AuditEvent.objects.filter(action="mutual_aid.post.restored").latest("seq")
    assert event.after["state"] == PostState.MATCHED
    assert selectors.contact_for(resident_a, post) is not None  # the two still see each other's contact
