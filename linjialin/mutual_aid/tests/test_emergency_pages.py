"""Emergency mode over HTTP (emergency_views.py, the banner): start on the page, the banner on every page
of the community and gone after the end, join / claim / finish from the phone, the coverage board, the
permission matrix (anonymous → login, outsider → 404, resident → 403 on the list and 404 on an episode)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from linjialin.core.models import AuditEvent
from linjialin.mutual_aid.models import EmergencyTask, Episode, EpisodeMember, EpisodeState, TaskState
from linjialin.mutual_aid.services import emergency

from .test_care_fixtures import _english, care_tags_fixture, tag, volunteer_2_fixture, volunteer_fixture  # noqa: F401


def url(name, *args):
    return reverse(f"mutual_aid:{name}", args=args)


@pytest.fixture(name="episode")
def episode_fixture(tree, community_worker):
    return emergency.start_episode(
        community_worker,
        community=tree.community_1,
        kind="flood",
        title="暴雨内涝",
        banner="地下室住户请转移",
    )


def test_anonymous_is_sent_to_login(client, episode):
    for target in (url("emergency"), url("episode", episode.pk), url("coverage", episode.pk)):
        response = client.get(target)
        assert response.status_code == 302 and "login" in response["Location"]


def test_staff_switch_it_on_from_the_page(tree, community_worker, login):
    client = login(community_worker)
    assert client.get(url("emergency")).status_code == 200
    response = client.post(
        url("emergency"),
        {"community": tree.community_1.pk, "kind": "epidemic", "title": "疫情封控", "banner": "请居家"},
    )
    episode = Episode.objects.get()
    assert response.status_code == 302 and response["Location"] == url("episode", episode.pk)
    page = client.get(url("episode", episode.pk)).content.decode()
    assert "疫情封控" in page and "Switch off emergency mode" in page
    response = client.post(
        url("emergency"),
        {"community": tree.community_1.pk, "kind": "epidemic", "title": "又一个", "banner": "x"},
    )
    assert response.status_code == 422 and "already in emergency mode" in response.content.decode()
    assert Episode.objects.count() == 1


def test_the_banner_shows_on_every_page_of_the_community_and_goes_at_the_end(
    tree, episode, community_worker, resident_a, outsider, login
):
    client = login(resident_a)
    home = client.get(reverse("home")).content.decode()
    assert "地下室住户请转移" in home and "emergency-banner" in home
    assert url("episode", episode.pk) not in home  # a resident is not on the team: no link
    assert "地下室住户请转移" not in login(outsider).get(reverse("home")).content.decode()
    staff_home = login(community_worker).get(reverse("home")).content.decode()
    assert url("episode", episode.pk) in staff_home
    response = login(community_worker).post(url("episode_end", episode.pk), {"summary": "水已退"})
    assert response.status_code == 302
    assert Episode.objects.get().state == EpisodeState.ARCHIVED
    assert "地下室住户请转移" not in login(resident_a).get(reverse("home")).content.decode()
    archived = login(community_worker).get(url("emergency")).content.decode()
    assert "暴雨内涝" in archived and "archived-episodes" in archived


def test_permission_matrix(tree, episode, resident_a, outsider, entrance_leader_a, volunteer, login):
    for user in (resident_a, entrance_leader_a):
        client = login(user)
        assert client.get(url("emergency")).status_code == 403
        assert client.get(url("episode", episode.pk)).status_code == 404
        assert client.get(url("coverage", episode.pk)).status_code == 404
        assert client.post(url("episode_join", episode.pk)).status_code == 404
    client = login(outsider)  # staff of another community
    assert client.get(url("emergency")).status_code == 200  # their own list (empty)
    for target in ("episode", "coverage"):
        assert client.get(url(target, episode.pk)).status_code == 404
    for target in ("episode_end", "episode_tasks", "episode_member"):
        assert client.post(url(target, episode.pk), {"summary": "x", "kind": "delivery"}).status_code == 404
    client = login(volunteer)  # sees it to join, but runs nothing
    assert client.get(url("episode", episode.pk)).status_code == 200
    assert client.post(url("episode_end", episode.pk), {"summary": "x"}).status_code == 403
    assert client.post(url("episode_tasks", episode.pk), {"kind": "delivery"}).status_code == 403
    assert Episode.objects.get().state == EpisodeState.ACTIVE and not EmergencyTask.objects.exists()


def test_a_volunteer_joins_claims_and_finishes_from_the_phone(
    tree, care_tags, episode, community_worker, volunteer, login
):
    staff = login(community_worker)
    response = staff.post(url("episode_tasks", episode.pk), {"kind": "door_check", "note": "逐户敲门"})
    assert response.status_code == 302
    assert EmergencyTask.objects.count() == 4  # entrances A, B; care households A1, B1
    client = login(volunteer)
    page = client.get(url("episode", episode.pk)).content.decode()
    assert "Join the team" in page and "elderly" not in page  # the team never sees the tags
    assert client.post(url("episode_join", episode.pk)).status_code == 302
    assert EpisodeMember.objects.filter(episode=episode, user=volunteer).exists()
    task = EmergencyTask.objects.get(entrance=tree.entrance_a, household__isnull=True)
    page = client.get(url("episode", episode.pk)).content.decode()
    print(page[page.find("Tasks by entrance") :][:3000])
    assert "ll take it</button>" in page
    assert client.post(url("emergency_task_claim", episode.pk, task.pk)).status_code == 302
    response = client.post(
        url("emergency_task_finish", episode.pk, task.pk), {f"finish-{task.pk}-result": ""}
    )
    assert response.status_code == 422
    response = client.post(
        url("emergency_task_finish", episode.pk, task.pk), {f"finish-{task.pk}-result": "全部在家"}
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.state == TaskState.DONE and task.claimed_by == volunteer and task.result == "全部在家"
    board = client.get(url("coverage", episode.pk))
    assert board.status_code == 200
    body = board.content.decode()
    assert "1 / 2" in body and "0 / 2" in body  # entrances 1 of 2; care households 0 of 2


def test_a_claim_someone_else_won_shows_a_message(
    tree, episode, community_worker, volunteer, volunteer_2, login
):
    emergency.join(volunteer, episode)
    emergency.join(volunteer_2, episode)
    task = emergency.create_tasks(community_worker, episode, kind="delivery", entrances=[tree.entrance_a])[0]
    emergency.claim_task(volunteer, task)
    response = login(volunteer_2).post(url("emergency_task_claim", episode.pk, task.pk), follow=True)
    assert response.status_code == 200 and "is not possible" in response.content.decode()
    assert EmergencyTask.objects.get(pk=task.pk).claimed_by == volunteer
    assert AuditEvent.objects.filter(action="mutual_aid.task.claimed").count() == 1


def test_staff_add_a_party_member_and_bad_input_is_422(tree, episode, community_worker, resident_a, login):
    tag(tree.resident_a1, "party_member", consent="")  # 张三 is a party member: offered to the staff
    client = login(community_worker)
    assert "张三" in client.get(url("episode", episode.pk)).content.decode()
    response = client.post(url("episode_member", episode.pk), {"user": resident_a.pk, "role": "party_member"})
    assert response.status_code == 302
    assert EpisodeMember.objects.get(episode=episode, user=resident_a).role == "party_member"
    assert (
        client.post(
            url("episode_member", episode.pk), {"user": resident_a.pk, "role": "volunteer"}
        ).status_code
        == 422
    )
    assert client.post(url("episode_end", episode.pk), {"summary": ""}).status_code == 422
    assert client.post(url("episode_tasks", episode.pk), {"kind": "party"}).status_code == 422
    assert Episode.objects.get().state == EpisodeState.ACTIVE


def test_the_episode_and_board_read_a_fixed_number_of_statements(
    tree, care_tags, episode, community_worker, volunteer, login, django_assert_max_num_queries
):
    emergency.join(volunteer, episode)
    emergency.create_tasks(community_worker, episode, kind="delivery", entrances=[tree.entrance_a])
    client = login(community_worker)
    client.get(url("episode", episode.pk))
    with django_assert_max_num_queries(40) as few:
        client.get(url("episode", episode.pk))
        client.get(url("coverage", episode.pk))
    for task in emergency.create_tasks(community_worker, episode, kind="door_check"):
        emergency.claim_task(volunteer, task)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url("episode", episode.pk)).status_code == 200
        assert client.get(url("coverage", episode.pk)).status_code == 200
