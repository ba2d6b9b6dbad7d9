"""Mutual-aid notices carry their post (or emergency episode) as subject: a neighbour's "a neighbour needs
help" notice is read when the neighbour opens the post, and once the post no longer asks anyone
(withdrawn, hidden by an upheld report or by the reports themselves); a volunteer's "emergency mode"
notice when they open the episode."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.urls import reverse
from django.utils import timezone

from linjialin.mutual_aid.models import AidRules, PostState
from linjialin.mutual_aid.services import posts
from linjialin.notifications.models import Notification
from linjialin.notifications.services import subject_of

from .test_care_fixtures import volunteer_fixture  # noqa: F401
from .test_emergency import start
from .test_posts_fixtures import (  # noqa: F401
    _english,
    aid_tree_fixture,
    need,
    resident,
    resident_a2_fixture,
    subscribe,
)

T0 = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0) + timedelta(days=1)


def unread(user, post) -> int:
    return Notification.objects.filter(user=user, subject=subject_of(post), read_at__isnull=True).count()


def test_opening_a_post_or_its_withdrawal_reads_the_neighbours_notice(
    client, login, tree, resident_a, resident_a2
):
    subscribe(resident_a2)
    with time_machine.travel(T0, tick=False):
        opened = need(resident_a, tree.household_a1)
    with time_machine.travel(T0 + timedelta(hours=3), tick=False):  # not to hit the hourly post limit
        withdrawn = need(resident_a, tree.household_a1, text="借一把梯子用半天", category="lending")
    assert unread(resident_a2, opened) == 1 and unread(resident_a2, withdrawn) == 1
    login(resident_a2)
    assert client.get(reverse("mutual_aid:post", args=[opened.pk])).status_code == 200
    assert unread(resident_a2, opened) == 0
    assert unread(resident_a2, withdrawn) == 1  # only the post that was opened
    posts.withdraw(resident_a, withdrawn, reason="已经借到了")
    assert unread(resident_a2, withdrawn) == 0


def test_a_post_hidden_by_an_upheld_report_reads_the_neighbours_notice(
    tree, resident_a, resident_a2, grid_worker
):
    subscribe(resident_a2)
    with time_machine.travel(T0, tick=False):
        post = need(resident_a, tree.household_a1)
    assert unread(resident_a2, post) == 1
    reporter = resident("13700001199", "举报人", tree.household_a2)
    report = posts.report(reporter, post=post, reason="fraud", note="要求先转账")
    post.refresh_from_db()
    assert post.state == PostState.OPEN and unread(resident_a2, post) == 1  # one report hides nothing
    posts.moderate(grid_worker, report, decision="upheld", note="确认为诈骗信息")
    post.refresh_from_db()
    assert post.state == PostState.HIDDEN
    assert unread(resident_a2, post) == 0


def test_a_post_hidden_by_its_reports_reads_the_neighbours_notice(tree, resident_a, resident_a2):
    AidRules.objects.update(reports_to_hide=1)
    subscribe(resident_a2)
    with time_machine.travel(T0, tick=False):
        post = need(resident_a, tree.household_a1)
    assert unread(resident_a2, post) == 1
    posts.report(resident("13700001199", "举报人", tree.household_a2), post=post, reason="fraud")
    post.refresh_from_db()
    assert post.state == PostState.HIDDEN
    assert unread(resident_a2, post) == 0


def test_opening_the_episode_reads_the_volunteers_notice(client, login, tree, community_worker, volunteer):
    episode = start(community_worker, tree)
    note = Notification.objects.get(user=volunteer, kind="mutual_aid.episode.started")
    assert note.subject == subject_of(episode) and note.read_at is None
    login(volunteer)
    assert client.get(note.link).status_code == 200
    note.refresh_from_db()
    assert note.read_at is not None
