"""Corrections by request (PIPL art. 46): the resident asks, the community worker decides, the
resident is told; the change goes through places.corrections and is audited."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from linjialin.core.models import AuditEvent
from linjialin.notifications.models import Notification
from linjialin.places import corrections
from linjialin.places.models import CorrectionRequest, CorrectionState, Resident


def test_resident_asks_worker_accepts_record_is_corrected_and_resident_told(
    tree, resident_a, community_worker
):
    asked = corrections.request_correction(resident_a, tree.resident_a1, field="birth_year", value="1956")
    assert Notification.objects.filter(user=community_worker, kind="places.correction_requested").exists()
    assert AuditEvent.objects.filter(action="resident.correction_requested", actor=resident_a).exists()

    corrections.accept_correction(community_worker, asked)

    assert Resident.objects.get(pk=tree.resident_a1.pk).birth_year == 1956
    assert CorrectionRequest.objects.get(pk=asked.pk).state == CorrectionState.ACCEPTED
    event = AuditEvent.objects.get(action="resident.corrected")
    assert event.actor == community_worker and event.after == {"birth_year": "1956"}
    assert Notification.objects.filter(user=resident_a, kind="places.correction_decided").exists()


def test_corrected_mobile_is_audited_masked(tree, resident_a, community_worker):
    asked = corrections.request_correction(resident_a, tree.resident_a1, field="mobile", value="13712345678")
    corrections.accept_correction(community_worker, asked)
    assert Resident.objects.get(pk=tree.resident_a1.pk).mobile == "13712345678"
    event = AuditEvent.objects.get(action="resident.corrected")
    assert event.after == {"mobile": "137****5678"} and "13712345678" not in str(event.before)


def test_refusal_needs_a_reason_and_the_resident_reads_it(tree, resident_a, community_worker):
    asked = corrections.request_correction(resident_a, tree.resident_a1, field="name", value="张叁")
    with pytest.raises(ValidationError):
        corrections.refuse_correction(community_worker, asked, reason="")
    corrections.refuse_correction(community_worker, asked, reason="户口本上是张三")
    assert Resident.objects.get(pk=tree.resident_a1.pk).name == "张三"  # unchanged
    notice = Notification.objects.get(user=resident_a, kind="places.correction_decided")
    assert "户口本上是张三" in notice.body
    with pytest.raises(ValidationError):  # decided once only
        corrections.accept_correction(community_worker, asked)


def test_only_the_person_may_ask_about_their_own_record(tree, resident_a, resident_b, community_worker):
    with pytest.raises(PermissionDenied):
        corrections.request_correction(resident_b, tree.resident_a1, field="name", value="王五")
    with pytest.raises(PermissionDenied):
        corrections.request_correction(community_worker, tree.resident_a1, field="name", value="王五")
    assert not CorrectionRequest.objects.exists()


def test_bad_values_are_refused_naming_the_problem(tree, resident_a):
    for field, value in [("mobile", "123"), ("id_number", "110101199001011234"), ("birth_year", "1800")]:
        with pytest.raises(ValidationError) as exc:
            corrections.request_correction(resident_a, tree.resident_a1, field=field, value=value)
        assert "value" in exc.value.message_dict
    assert not CorrectionRequest.objects.exists()


def test_one_open_request_per_field(tree, resident_a):
    corrections.request_correction(resident_a, tree.resident_a1, field="name", value="张叁")
    with pytest.raises(ValidationError):
        corrections.request_correction(resident_a, tree.resident_a1, field="name", value="张仨")
    assert CorrectionRequest.objects.count() == 1


def test_a_worker_outside_the_household_cannot_decide(tree, resident_a, outsider, grid_worker):
    asked = corrections.request_correction(resident_a, tree.resident_a1, field="name", value="张叁")
    for worker in (outsider, grid_worker):
        with pytest.raises(PermissionDenied):
            corrections.accept_correction(worker, asked)
    assert Resident.objects.get(pk=tree.resident_a1.pk).name == "张三"


def test_pages_resident_asks_and_worker_decides(tree, resident_a, community_worker, outsider, login, client):
    page = login(resident_a).get(reverse("accounts:my_data"))
    assert page.status_code == 200
    response = client.post(
        reverse("accounts:my_data_correct"),
        {"resident": tree.resident_a1.pk, "field": "mobile", "value": "12"},
    )
    assert response.status_code == 422 and not CorrectionRequest.objects.exists()
    response = client.post(
        reverse("accounts:my_data_correct"),
        {"resident": tree.resident_a1.pk, "field": "birth_year", "value": "1956"},
    )
    assert response.status_code == 302
    asked = CorrectionRequest.objects.get()
    assert login(resident_a).get(reverse("places:corrections")).status_code == 403
    assert (
        login(outsider)
        .post(reverse("places:correction_decide", args=[asked.pk]), {"decision": "accept"})
        .status_code
        == 404
    )
    worker = login(community_worker)
    queue = worker.get(reverse("places:corrections"))
    assert queue.status_code == 200 and "1956" in queue.content.decode()
    assert (
        worker.post(reverse("places:correction_decide", args=[asked.pk]), {"decision": "accept"}).status_code
        == 302
    )
    assert Resident.objects.get(pk=tree.resident_a1.pk).birth_year == 1956
