"""The home page per role shows the work waiting, one tap from each task: counts from each app's
selectors on hand-made fixtures, links that answer 200 for that user, nothing of other communities,
and a capped number of queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone, translation

from linjialin.core import audit
from linjialin.mediation.services import cases
from linjialin.mutual_aid.models import CareVisit
from linjialin.mutual_aid.services import care
from linjialin.mutual_aid.tests.pages_support import make_neighbour, make_post
from linjialin.mutual_aid.tests.test_care_fixtures import tag
from linjialin.notifications import services as notices
from linjialin.service_requests import services
from linjialin.service_requests.models import Category, ServiceRequest
from linjialin.testing.plugin import make_user


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def submit(user, place, text="楼道灯坏了"):
    return services.submit_request(
        user,
        place=place,
        request_type="help",
        description=text,
        category=Category.objects.get(code="corridor"),
    )


def home(client):
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return response


def section(response, key):
    [s] = [s for s in response.context["sections"] if s.key == key]
    return s


def counts(s) -> dict:
    return {link.label: link.count for link in s.links}


def urls(response) -> list[str]:
    return [link.url for s in response.context["sections"] for link in s.links]


def assert_links_open(client, response):
    for url in urls(response):  # a board index with one board redirects to it
        assert client.get(url, follow=True).status_code == 200, url
    for s in response.context["sections"]:
        if s.rates_url:
            assert client.get(s.rates_url).status_code == 200, s.rates_url


# --- resident -------------------------------------------------------------------------------------------
def test_resident_home_puts_submit_first_then_their_requests_cases_posts_and_board(
    tree, resident_a, entrance_leader_a, login
):
    resolved = submit(resident_a, tree.household_a1, "门口的灯坏了")
    services.accept_request(entrance_leader_a, resolved)
    services.record_contact(entrance_leader_a, resolved, note="电话联系了")
    services.resolve_request(entrance_leader_a, resolved, result="换了新灯泡")
    submit(resident_a, tree.household_a1, "电梯异响")
    cases.apply_for_mediation(
        resident_a,
        household=tree.household_a1,
        dispute_type="neighbour",
        title="噪音扰民",
        facts="楼上每晚十二点后还在装修",
        other_party_name="李四",
    )
    make_post(resident_a, tree.household_a1)
    neighbour = make_neighbour(tree)
    make_post(neighbour, tree.household_a2, text="想借一个梯子，换灯泡用")

    client = login(resident_a)
    response = home(client)
    page = response.content.decode()
    submit_url = reverse("requests:submit")
    assert response.context["resident"] == {"submit_url": submit_url}
    assert page.index('data-testid="home-submit"') < page.index('id="home-resident"')
    mine = section(response, "resident")
    assert counts(mine) == {
        "My requests": 2,
        "My mediation cases": 1,
        "My mutual-aid posts": 1,
        "Help nearby": 1,
        "My entrance board": None,
    }
    assert mine.links[0].hint == "1 open · 1 to rate"
    assert reverse("requests:board_entrance", args=[tree.entrance_a.pk]) in urls(response)
    assert 'href="tel:110"' in page and 'href="tel:120"' in page
    # the household facts stay reachable
    assert reverse("places:detail", args=[tree.household_a1.pk]) in page
    assert_links_open(client, response)
    assert client.get(submit_url).status_code == 200


def test_a_neighbours_requests_do_not_count_on_a_residents_home(tree, resident_a, resident_b, login):
    submit(resident_b, tree.household_b1)
    response = home(login(resident_a))
    assert counts(section(response, "resident"))["My requests"] == 0
    assert [s.key for s in response.context["sections"]] == ["resident"]
    assert reverse("requests:behalf") not in urls(response)


# --- 楼门长 ----------------------------------------------------------------------------------------------
def test_entrance_leader_home_counts_new_mine_due_soon_and_overdue(
    tree, resident_a, entrance_leader_a, login
):
    taken = submit(resident_a, tree.household_a1, "门口的灯坏了")
    waiting = submit(resident_a, tree.household_a1, "电梯异响")
    submit(resident_a, tree.household_a1, "楼道堆物")  # noqa: F841 (a second new one)
    services.accept_request(entrance_leader_a, taken)
    client = login(entrance_leader_a)
    # logged in again under each travelled clock: an idle session is logged out

    queue = counts(section(home(client), "queue"))
    assert (queue["New"], queue["Mine"], queue["Overdue"]) == (2, 1, 0)
    assert "Submit for a resident (代报)" in queue

    # an hour before the 24-hour acceptance window closes the two new ones are due soon, then overdue
    with time_machine.travel(waiting.accept_by - timedelta(hours=1), tick=False):
        client.logout()
        client = login(entrance_leader_a)
        queue = counts(section(home(client), "queue"))
        assert (queue["Due soon"], queue["Overdue"]) == (2, 0)
    with time_machine.travel(waiting.accept_by + timedelta(hours=1), tick=False):
        client.logout()
        client = login(entrance_leader_a)
        response = home(client)
        s = section(response, "queue")
        assert counts(s)["Overdue"] == 2 and counts(s)["Due soon"] == 0
        [oldest] = [link for link in s.links if link.label.startswith("Open the oldest overdue request")]
        assert oldest.alert and oldest.url == reverse("requests:detail", args=[waiting.pk])
        assert_links_open(client, response)
        page = client.get(reverse("requests:queue") + "?tab=overdue").content.decode()
        assert waiting.number in page


def test_entrance_leader_home_counts_care_visits_due_and_posts_at_the_entrance(
    tree, resident_a, entrance_leader_a, login
):
    tag(tree.resident_a1, "elderly_alone")
    tag(tree.resident_a2, "disability")
    # a1's visit was planned for yesterday and not made: overdue; a2's is due today, not overdue yet.
    # The home counts what the care page it links to shows in red: the overdue households.
    today = timezone.localdate()
    late = care.plan_visit(entrance_leader_a, household=tree.household_a1, planned_on=today)
    CareVisit.objects.filter(pk=late.pk).update(planned_on=today - timedelta(days=1))
    care.plan_visit(entrance_leader_a, household=tree.household_a2, planned_on=today)
    make_post(resident_a, tree.household_a1)
    client = login(entrance_leader_a)
    response = home(client)
    assert counts(section(response, "aid")) == {"Care visits due": 1, "Open mutual-aid posts in my area": 1}
    assert client.get(reverse("mutual_aid:care")).context["overdue"] == 1
    assert_links_open(client, response)
    # the entrance profile figures stay on the page, after the work
    page = response.content.decode()
    assert page.index('id="home-queue"') < page.index("figure-label")


@pytest.mark.parametrize(
    ("role", "grant", "title"),
    [
        ("floor_leader", {"floor": 1}, "Requests at my entrance"),
        ("building_leader", {"building": "building_1"}, "Requests in my building"),
    ],
)
def test_floor_and_building_leaders_follow_the_requests_around_them(
    tree, resident_a, resident_b, login, role, grant, title
):
    req = submit(resident_a, tree.household_a1)
    place = tree.entrance_a if role == "floor_leader" else tree.community_1
    grant = {k: getattr(tree, v) if isinstance(v, str) else v for k, v in grant.items()}
    leader = make_user("13700003001", "楼里的带头人", role, place, **grant)
    client = login(leader)
    response = home(client)
    queue = section(response, "queue")
    assert queue.title == title
    assert (counts(queue)["New"], counts(queue)["Mine"]) == (1, 0)
    assert_links_open(client, response)
    assert req.number in client.get(reverse("requests:queue") + "?tab=new").content.decode()


# --- community staff ------------------------------------------------------------------------------------
def test_community_worker_home_leads_to_an_overdue_item_and_this_months_rates(
    tree, resident_a, resident_b, entrance_leader_a, community_worker, login
):
    done = submit(resident_a, tree.household_a1, "门口的灯坏了")
    services.accept_request(entrance_leader_a, done)
    late = submit(resident_b, tree.household_b1, "电梯异响")
    with time_machine.travel(late.accept_by + timedelta(hours=2), tick=False):
        client = login(community_worker)
        response = home(client)
        community = section(response, "community")
        assert community.title == "This month at 社区一"
        assert [r["label"] for r in community.rates][0]  # three named rates
        assert len(community.rates) == 3
        response_rate = community.rates[0]
        assert response_rate["detail"] == "1/2" and response_rate["percent"] == "50.0%"
        assert (
            community.rates_url
            == reverse("requests:rates") + f"?place={tree.community_1.pk}&period=this_month"
        )
        coverage = [link for link in community.links if link.label == "Entrance leader coverage"]
        assert coverage[0].hint == "1 of 2 entrances"
        queue = section(response, "queue")
        assert counts(queue)["Overdue"] == 0  # the 楼门 level owns them, the community worker does not
        assert_links_open(client, response)


def test_outsider_home_shows_nothing_of_another_community(tree, resident_a, outsider, login):
    req = submit(resident_a, tree.household_a1)
    with time_machine.travel(req.accept_by + timedelta(hours=2), tick=False):
        response = home(login(outsider))
    community = section(response, "community")
    assert community.title == "This month at 社区二"
    assert all(r["detail"] == "0/0" for r in community.rates)
    assert all(not link.count for s in response.context["sections"] for link in s.links)
    assert req.number not in response.content.decode()


def test_grid_worker_home_counts_requests_escalated_to_the_grid(
    tree, resident_a, entrance_leader_a, grid_worker, login
):
    req = submit(resident_a, tree.household_a1)
    services.escalate_request(entrance_leader_a, req, reason="需要物业配合")
    response = home(login(grid_worker))
    assert counts(section(response, "queue"))["New"] == 1
    assert section(response, "community").title == "This month at 网格一"


def test_community_secretary_home_adds_mediation_figures_and_the_audit(tree, community_secretary, login):
    client = login(community_secretary)
    response = home(client)
    keys = [s.key for s in response.context["sections"]]
    assert keys == ["queue", "aid", "community", "mediation", "audit"]
    assert [link.url for link in section(response, "mediation").links] == [reverse("mediation:reports")]
    assert_links_open(client, response)


# --- dispatcher, department handler ---------------------------------------------------------------------
def test_dispatcher_home_counts_the_desk_as_the_desk_tab_does(
    tree, resident_a, entrance_leader_a, grid_worker, community_worker, subdistrict_dispatcher, login
):
    req = submit(resident_a, tree.household_a1)
    for actor, reason in (
        (entrance_leader_a, "需要物业配合"),
        (grid_worker, "需要社区协调"),
        (community_worker, "需要街道协调"),
    ):
        req = services.escalate_request(actor, ServiceRequest.objects.get(pk=req.pk), reason=reason)
    client = login(subdistrict_dispatcher)
    response = home(client)
    desk = counts(section(response, "desk"))
    assert (
        desk["To dispatch"],
        desk["Returned (退单) to review"],
        desk["Overdue"],
        desk["Under supervision (督办)"],
    ) == (
        1,
        0,
        0,
        0,
    )
    assert [s.key for s in response.context["sections"]] == ["desk"]
    assert_links_open(client, response)
    page = client.get(reverse("requests:desk") + "?tab=incoming").content.decode()
    assert req.number in page


def test_department_handler_home_shows_its_units_queue(tree, housing_handler, login):
    client = login(housing_handler)
    response = home(client)
    assert section(response, "queue").title == "My request queue"
    assert counts(section(response, "queue"))["New"] == 0
    assert_links_open(client, response)


# --- mediation --------------------------------------------------------------------------------------------
def test_mediation_manager_home_counts_the_desk_and_links_every_tool(
    tree, resident_a, mediation_manager, login
):
    cases.apply_for_mediation(
        resident_a,
        household=tree.household_a1,
        dispute_type="neighbour",
        title="噪音扰民",
        facts="楼上每晚十二点后还在装修",
        other_party_name="李四",
    )
    client = login(mediation_manager)
    response = home(client)
    mediation = section(response, "mediation")
    assert sum(link.count or 0 for link in mediation.links) >= 1
    targets = set(urls(response))
    for name in ("mediation:screenings", "mediation:consultations", "mediation:tasks", "mediation:reports"):
        assert reverse(name) in targets
    assert_links_open(client, response)


def test_mediator_of_another_community_counts_none_of_its_cases(
    tree, resident_a, mediator_b, mediator_a, login
):
    cases.apply_for_mediation(
        resident_a,
        household=tree.household_a1,
        dispute_type="neighbour",
        title="噪音扰民",
        facts="楼上每晚十二点后还在装修",
        other_party_name="李四",
    )
    client = login(mediator_b)
    response = home(client)
    assert all(not link.count for link in section(response, "mediation").links)
    assert_links_open(client, response)


# --- auditor, admin, notices ------------------------------------------------------------------------------
def test_auditor_home_counts_personal_data_seen_this_week(tree, auditor, community_worker, login):
    import linjialin.accounts.audit_views  # noqa: F401  (registers which actions are personal data)

    audit.record("resident.unmasked", actor=community_worker, path=tree.resident_a1.path)
    audit.record("login.success", actor=community_worker)
    client = login(auditor)
    response = home(client)
    assert counts(section(response, "audit"))["Personal data seen or exported this week"] == 1
    assert_links_open(client, response)


def test_admin_home_links_every_entry_point(tree, admin, login):
    client = login(admin)
    response = home(client)
    keys = [s.key for s in response.context["sections"]]
    assert {"queue", "desk", "mediation", "audit", "admin"} <= set(keys)
    assert_links_open(client, response)


def test_every_home_says_how_many_new_notices(tree, resident_a, community_worker, login):
    notices.notify([community_worker], kind="test", title="有新诉求", link="/")
    notices.notify([community_worker], kind="test", title="又有新诉求", link="/")
    page = home(login(community_worker)).content.decode()
    assert "2 new notices" in page and f'href="{reverse("notifications:inbox")}"' in page
    page = home(login(resident_a)).content.decode()
    assert "No new notices" in page


# --- query caps -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("persona", "cap"),
    [
        ("resident_a", 25),
        ("entrance_leader_a", 30),
        ("grid_worker", 35),
        # the call-backs due (the rules row and one count); the rates read each holder's windows
        ("community_worker", 38),
        ("community_secretary", 40),
        ("subdistrict_dispatcher", 25),
        ("mediation_manager", 30),
        ("auditor", 25),
        ("admin", 50),
    ],
)
def test_home_query_count_is_capped_per_role(
    request, tree, resident_a, entrance_leader_a, persona, cap, login, django_assert_max_num_queries
):
    for text in ("门口的灯坏了", "电梯异响", "楼道堆物"):
        submit(resident_a, tree.household_a1, text)
    user = request.getfixturevalue(persona)
    client = login(user)
    client.get(reverse("home"))  # the first page of a session loads the grants
    with django_assert_max_num_queries(cap):
        assert client.get(reverse("home")).status_code == 200
