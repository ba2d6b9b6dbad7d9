"""Boards (who sees which), 立项, the task workflow and the before/after counts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation

from linjialin.core.audit import AuditEvent
from linjialin.core.workflow import TransitionNotAllowed
from linjialin.hotspots import services
from linjialin.hotspots.models import Hotspot, PlaceLevel, ProactiveTask, TaskState

from .conftest import CLUTTER, LAMP, NOW, make_request


@pytest.fixture
def detected(lamp_hotspot):
    with time_machine.travel(NOW, tick=False):
        services.run_detection(now=NOW)
    return lamp_hotspot


def lamp_at_entrance() -> Hotspot:
    return max(Hotspot.objects.filter(level=PlaceLevel.ENTRANCE), key=lambda h: (h.count, "灯" in h.label))


# --- boards ------------------------------------------------------------------------------------------
def test_board_shows_ranked_hotspots_with_samples_and_chart_data(detected, login, community_worker):
    client = login(community_worker)
    response = client.get(reverse("hotspots:board", args=[detected.community_1.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "楼道灯坏了" in body and "楼道堆放杂物" in body
    assert 'id="hotspot-charts"' in body and "data-chart=" in body
    assert "<script>" not in body.replace('<script id="hotspot-charts" type="application/json">', "")
    charts = response.context["charts"]
    some = next(iter(charts.values()))
    assert some["series"][0]["type"] == "line" and len(some["xAxis"]["data"]) == 6
    scores = [row["h"].score for row in response.context["rows"]]
    assert scores == sorted(scores, reverse=True)


def test_board_levels_and_grid_board(detected, login, grid_worker):
    client = login(grid_worker)
    grid = client.get(reverse("hotspots:board", args=[detected.grid_1.pk]))
    levels = {row["h"].level for row in grid.context["rows"]}
    assert levels == {PlaceLevel.ENTRANCE, PlaceLevel.BUILDING}  # compound and community are above the grid
    only = client.get(reverse("hotspots:board", args=[detected.grid_1.pk]), {"level": "entrance"})
    assert {row["h"].level for row in only.context["rows"]} == {PlaceLevel.ENTRANCE}
    # the grid worker has no board of the community
    assert client.get(reverse("hotspots:board", args=[detected.community_1.pk])).status_code == 404


def test_outsider_gets_404_and_anonymous_is_sent_to_login(detected, login, client, outsider):
    url = reverse("hotspots:board", args=[detected.community_1.pk])
    response = client.get(url)
    assert response.status_code == 302 and "login" in response["Location"]
    client = login(outsider)
    assert client.get(url).status_code == 404
    assert client.get(reverse("hotspots:board", args=[999999])).status_code == 404
    assert client.get(reverse("hotspots:create_task", args=[lamp_at_entrance().pk])).status_code == 404


def test_index_redirects_to_the_only_board(detected, login, community_worker, resident_a):
    response = login(community_worker).get(reverse("hotspots:index"))
    assert response.status_code == 302
    assert response["Location"] == reverse("hotspots:board", args=[detected.community_1.pk])


# --- 立项 ---------------------------------------------------------------------------------------------
def test_create_task_links_requests_and_is_audited(detected, login, community_secretary, grid_worker):
    hotspot = lamp_at_entrance()
    client = login(community_secretary)
    url = reverse("hotspots:create_task", args=[hotspot.pk])
    page = client.get(url)
    assert page.status_code == 200 and grid_worker in page.context["form"].fields["owner"].queryset
    deadline = (date.today() + timedelta(days=20)).isoformat()
    response = client.post(url, {"title": "楼道灯统一更换", "owner": grid_worker.pk, "deadline": deadline})
    task = ProactiveTask.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("hotspots:task", args=[task.pk])
    assert sorted(task.requests.values_list("pk", flat=True)) == sorted(hotspot.request_ids)
    assert (task.owner, task.state, task.path, task.place_key) == (
        grid_worker,
        TaskState.OPEN,
        hotspot.path,
        hotspot.place_key,
    )
    event = AuditEvent.objects.get(action="hotspots.task.created")
    assert event.actor_id == community_secretary.pk and event.after["requests"] == task_ids(task)
    # the board now says it is taken on
    board = client.get(reverse("hotspots:board", args=[detected.community_1.pk]))
    taken = [row for row in board.context["rows"] if row["task"]]
    assert taken and all(row["task"] == task for row in taken)


def task_ids(task):
    return list(task.requests.order_by("pk").values_list("pk", flat=True))


def test_create_task_bad_input_writes_nothing(detected, login, community_secretary, resident_a):
    hotspot = lamp_at_entrance()
    client = login(community_secretary)
    url = reverse("hotspots:create_task", args=[hotspot.pk])
    with translation.override("en"):
        response = client.post(url, {"title": "", "owner": resident_a.pk, "deadline": "2020-01-01"})
    assert response.status_code == 422
    assert not ProactiveTask.objects.exists()
    assert not AuditEvent.objects.filter(action="hotspots.task.created").exists()
    with pytest.raises(ValidationError) as err:
        services.create_task(
            community_secretary,
            hotspot,
            title="x",
            owner=resident_a,
            deadline=date.today() + timedelta(days=1),
        )
    assert "owner" in err.value.message_dict


def test_create_task_needs_handle_or_supervise(detected, login, entrance_leader_a, grid_worker):
    hotspot = lamp_at_entrance()
    with pytest.raises(PermissionDenied):
        services.create_task(
            entrance_leader_a,
            hotspot,
            title="x",
            owner=grid_worker,
            deadline=date.today() + timedelta(days=1),
        )


# --- the workflow ---------------------------------------------------------------------------------------
@pytest.fixture
def task(detected, community_secretary, grid_worker):
    return services.create_task(
        community_secretary,
        lamp_at_entrance(),
        title="楼道灯统一更换",
        owner=grid_worker,
        deadline=date.today() + timedelta(days=20),
    )


def test_owner_starts_and_finishes_with_audit(task, login, grid_worker):
    client = login(grid_worker)
    act = reverse("hotspots:task_act", args=[task.pk])
    client.post(act, {"action": "start"})
    task.refresh_from_db()
    assert task.state == TaskState.IN_PROGRESS and task.started_at
    with translation.override("en"):
        client.post(act, {"action": "finish", "result": ""})  # a result is required
    task.refresh_from_db()
    assert task.state == TaskState.IN_PROGRESS
    client.post(act, {"action": "finish", "result": "换了12盏声控灯"})
    task.refresh_from_db()
    assert task.state == TaskState.DONE and task.result == "换了12盏声控灯"
    actions = list(
        AuditEvent.objects.filter(action__startswith="hotspots.task.")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["hotspots.task.created", "hotspots.task.start", "hotspots.task.finish"]


def test_illegal_transitions(task, grid_worker, community_secretary, community_worker):
    with pytest.raises(TransitionNotAllowed):
        services.move_task(grid_worker, task, "finish", result="x")  # not started
    with pytest.raises(TransitionNotAllowed):
        services.move_task(grid_worker, task, "cancel", reason="x")  # only a supervisor cancels
    with pytest.raises(ValidationError):
        services.move_task(community_secretary, task, "cancel", reason="")
    services.move_task(community_secretary, task, "cancel", reason="重复立项")
    with pytest.raises(TransitionNotAllowed):
        services.move_task(grid_worker, task, "start")
    assert ProactiveTask.objects.get().state == TaskState.CANCELLED
    assert AuditEvent.objects.get(action="hotspots.task.cancel").reason == "重复立项"


def test_a_viewer_who_may_not_act_gets_403(task, login, community_worker):
    response = login(community_worker).post(
        reverse("hotspots:task_act", args=[task.pk]), {"action": "cancel"}
    )
    assert response.status_code == 403
    assert ProactiveTask.objects.get().state == TaskState.OPEN


def test_task_of_another_community_is_404(task, login, outsider):
    client = login(outsider)
    assert client.get(reverse("hotspots:task", args=[task.pk])).status_code == 404
    assert client.post(reverse("hotspots:task_act", args=[task.pk]), {"action": "start"}).status_code == 404


# --- before / after -------------------------------------------------------------------------------------
def test_before_and_after_counts_on_the_same_problem(lamp_hotspot, community_secretary, grid_worker):
    tree = lamp_hotspot
    with time_machine.travel(NOW, tick=False):
        services.run_detection(now=NOW)
        task = services.create_task(
            community_secretary, lamp_at_entrance(), title="灯", owner=grid_worker, deadline=date(2027, 3, 31)
        )
        services.move_task(grid_worker, task, "start")
    done_at = NOW + timedelta(days=2)
    with time_machine.travel(done_at, tick=False):
        services.move_task(grid_worker, task, "finish", result="换灯")
    assert task.before_count == 5 and task.after_count == 0  # five lamp reports in the 30 days before
    # after: one more lamp report at the entrance, one elsewhere, and clutter at the entrance
    make_request(tree.household_a1, LAMP[0], at=done_at + timedelta(days=3))
    make_request(tree.household_x1, LAMP[0], at=done_at + timedelta(days=3))
    make_request(tree.entrance_a, CLUTTER[0], at=done_at + timedelta(days=3), category="corridor-clutter")
    later = done_at + timedelta(days=10)
    with time_machine.travel(later, tick=False):
        services.run_detection(now=later)  # the job refreshes the counts of recently done tasks
    task.refresh_from_db()
    assert (task.before_count, task.after_count) == (5, 1)
