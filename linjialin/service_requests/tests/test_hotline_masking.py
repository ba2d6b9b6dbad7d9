"""A hotline order may carry a 7-digit local phone number (the import accepts 7 to 11 digits): it is
masked on the request page and in the API for staff without the right to the requester's contact (the
owning handler and the dispatchers), like an 11-digit mobile — never shown in full."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from django.utils import translation

from linjialin.core.models import AuditEvent
from linjialin.service_requests import hotline
from linjialin.service_requests.models import ServiceRequest

HEADER = ["工单编号", "受理时间", "诉求内容", "联系人", "联系电话", "诉求分类", "所属社区", "办理时限"]
LOCAL = "6234567"  # a 7-digit local number


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def order(tree, subdistrict_dispatcher):
    row = ["GD701", "2026-11-27 09:30", "路灯不亮", "李女士", LOCAL, "corridor", "社区一", ""]
    data = ("\n".join([",".join(HEADER), ",".join(row)]) + "\n").encode("utf-8-sig")
    report = hotline.import_file(subdistrict_dispatcher, io.BytesIO(data), "orders.csv")
    assert report.ok and report.written, report
    req = ServiceRequest.objects.get(external_id="GD701")
    assert req.contact_mobile == LOCAL
    return req


def test_the_request_page_masks_a_7_digit_number_for_staff_without_the_right(order, community_worker, login):
    page = login(community_worker).get(reverse("requests:detail", args=[order.pk]))
    assert page.status_code == 200
    assert page.context["contact"] == {"name": "李*", "mobile": "*****67", "full": False}
    assert LOCAL not in page.content.decode()


def test_the_api_masks_it_too_and_the_dispatcher_sees_it_in_full_audited(
    order, community_worker, subdistrict_dispatcher, login
):
    body = login(community_worker).get(f"/api/v1/requests/{order.pk}").json()
    assert body["contact"]["mobile"] == "*****67" and body["contact"]["masked"] is True
    assert LOCAL not in str(body)
    full = login(subdistrict_dispatcher).get(f"/api/v1/requests/{order.pk}").json()
    assert full["contact"]["mobile"] == LOCAL and full["contact"]["masked"] is False
    assert AuditEvent.objects.filter(action="request.contact_viewed", object_id=str(order.pk)).exists()
