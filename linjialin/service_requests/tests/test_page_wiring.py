"""The issue-4 pieces on the request pages: category suggestions and similar requests on the submit
form, a co-requester's own view and rating, the dispatcher's duplicates and suggestions on a request."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from linjialin.service_requests import services
from linjialin.testing.plugin import make_user


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def neighbour(tree):
    return make_user("13900000032", "李四", "resident", tree.household_a2)


def test_the_submit_form_asks_for_suggestions_and_similar_requests_as_the_resident_types(login, resident_a):
    page = login(resident_a).get(reverse("requests:submit")).content.decode()
    assert f'hx-get="{reverse("routing:suggest")}"' in page and 'hx-include="#id_description"' in page
    assert f'hx-get="{reverse("requests:similar")}"' in page


def test_a_co_requester_finds_the_request_under_my_requests_and_opens_it(tree, login, resident_a, neighbour):
    req = services.submit_request(
        neighbour, place=tree.entrance_a, request_type="help", description="楼道灯坏了，晚上看不见"
    )
    services.join_request(resident_a, req)
    client = login(resident_a)
    assert req.number in client.get(reverse("requests:mine")).content.decode()
    response = client.get(reverse("requests:detail", args=[req.pk]))
    assert response.status_code == 200 and response.context["co"]["row"].user == resident_a
    assert response.context["contact"]["full"] is False  # the requester's contact stays masked


def test_the_dispatcher_gets_duplicates_and_suggestions_on_a_request(
    tree, login, resident_a, subdistrict_dispatcher
):
    req = services.submit_request(
        resident_a, place=tree.household_a1, request_type="help", description="楼道灯坏了"
    )
    page = login(subdistrict_dispatcher).get(reverse("requests:detail", args=[req.pk])).content.decode()
    assert reverse("requests:duplicates", args=[req.pk]) in page
    assert "recat-category" in page and reverse("routing:suggest") in page


def test_a_resident_gets_no_dispatcher_fragments(tree, login, resident_a):
    req = services.submit_request(
        resident_a, place=tree.household_a1, request_type="help", description="楼道灯坏了"
    )
    page = login(resident_a).get(reverse("requests:detail", args=[req.pk])).content.decode()
    assert reverse("requests:duplicates", args=[req.pk]) not in page and "recat-category" not in page
