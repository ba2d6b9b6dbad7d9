"""The menu: every page a role may use is in it, and every item in it opens for that role."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

PERSONAS = [
    "resident_a",
    "entrance_leader_a",
    "grid_worker",
    "community_worker",
    "community_secretary",
    "outsider",
    "subdistrict_staff",
    "subdistrict_dispatcher",
    "auditor",
    "admin",
    "mediation_manager",
    "mediator_a",
    "lawyer",
    "counsellor",
    "housing_handler",
]


def menu_links(html: str) -> list[str]:
    nav = html[html.index('id="nav"') : html.index("</nav>")]
    return re.findall(r'class="nav-link[^"]*" href="(/[^"]*)"', nav)


@pytest.mark.parametrize("who", PERSONAS)
def test_every_menu_item_opens_for_its_role(who, request, client):
    client.force_login(request.getfixturevalue(who))
    links = menu_links(client.get("/").content.decode())
    assert links, who
    for url in links:
        response = client.get(url)
        if response.status_code == 302:  # the place browser goes straight to the one place
            response = client.get(response["Location"])
        assert response.status_code == 200, (who, url, response.status_code)


@pytest.mark.parametrize(
    ("who", "expected", "absent"),
    [
        (
            "mediation_manager",
            [
                "mediation:desk",
                "mediation:screenings",
                "mediation:consultations",
                "mediation:tasks",
                "mediation:reports",
            ],
            ["mutual_aid:figures"],
        ),
        (
            "mediator_a",
            ["mediation:screenings", "mediation:consultations", "mediation:tasks"],
            ["mediation:reports"],
        ),
        (
            "community_secretary",
            ["mediation:reports", "mutual_aid:figures", "mutual_aid:care"],
            ["mediation:desk"],
        ),
        ("subdistrict_staff", ["mediation:reports", "mutual_aid:figures"], ["mediation:screenings"]),
        (
            "entrance_leader_a",
            ["mutual_aid:care", "mutual_aid:open"],
            ["mutual_aid:figures", "mediation:reports"],
        ),
        ("community_worker", ["mutual_aid:care", "mutual_aid:emergency"], ["mutual_aid:figures"]),
        ("resident_a", ["mutual_aid:open"], ["mutual_aid:care", "mediation:screenings", "hotspots:index"]),
    ],
)
def test_the_menu_reaches_the_pages_of_each_role(who, expected, absent, request, client):
    client.force_login(request.getfixturevalue(who))
    links = menu_links(client.get("/").content.decode())
    for name in expected:
        assert reverse(name) in links, (who, name)
    for name in absent:
        assert reverse(name) not in links, (who, name)


def test_english_menu_links_stay_in_english(client, mediation_manager):
    client.force_login(mediation_manager)
    links = menu_links(client.get("/en/").content.decode())
    assert "/en/mediation/reports/" in links and "Mediation reports" in client.get("/en/").content.decode()
