"""Finding 6: the dispatcher's PAGE view of a requester's full mobile wrote no audit event (the API
view did). The request page now reads the contact through the same selector as the API
(selectors.requester_contact), so every full view by someone other than the requester is audited."""

from __future__ import annotations

import pytest
from django.urls import reverse

from linjialin.core.models import AuditEvent
from linjialin.service_requests import services
from linjialin.service_requests.models import Category

MOBILE = "13912345678"


@pytest.fixture
def req(tree, resident_a):
    return services.submit_request(
        resident_a,
        place=tree.household_a1,
        request_type="help",
        description="楼道灯坏了",
        category=Category.objects.get(code="corridor"),
        contact_mobile=MOBILE,
    )


def viewed():
    return list(
        AuditEvent.objects.filter(action="request.contact_viewed").values_list("actor__mobile", "object_id")
    )


def test_dispatchers_page_view_of_the_requesters_full_mobile_is_audited(req, subdistrict_dispatcher, login):
    page = login(subdistrict_dispatcher).get(reverse("requests:detail", args=[req.pk]))
    assert page.status_code == 200
    assert page.context["contact"]["full"] is True and MOBILE in page.content.decode()
    assert viewed() == [(subdistrict_dispatcher.mobile, str(req.pk))]


def test_page_and_api_show_the_same_contact_and_audit_alike(req, subdistrict_dispatcher, grid_worker, login):
    client = login(subdistrict_dispatcher)
    page = client.get(reverse("requests:detail", args=[req.pk])).context["contact"]
    api = client.get(f"/api/v1/requests/{req.pk}").json()["contact"]
    assert (page["name"], page["mobile"], not page["full"]) == (api["name"], api["mobile"], api["masked"])
    assert len(viewed()) == 2  # one per view, page or API
    masked = login(grid_worker).get(reverse("requests:detail", args=[req.pk]))
    assert masked.context["contact"] == {"name": "张*", "mobile": "139****5678", "full": False}
    assert MOBILE not in masked.content.decode()
    assert len(viewed()) == 2  # a masked view is not a sensitive read


def test_the_requesters_own_page_view_is_not_audited(req, resident_a, login):
    page = login(resident_a).get(reverse("requests:detail", args=[req.pk]))
    assert page.context["contact"]["mobile"] == MOBILE
    assert viewed() == []
