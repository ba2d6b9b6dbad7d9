"""Mediation confidentiality in the audit trail: the auditor, the system administrator and the community
secretary — none of whom may open the case (404) — read no party name, case number, title, address or
content of it on the audit page or in the API; the case's circle still reads the events in full where
they keep anything (and the details on the case's own timeline)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from linjialin.core import audit, audit_confidential
from linjialin.core.models import AuditEvent
from linjialin.mediation import selectors
from linjialin.mediation.services import cases

from .test_cases_fixtures import (  # noqa: F401  (fixtures)
    _english,
    accept,
    case_fixture,
    register,
)

API = "/api/v1/audit/events"


def _secrets(tree, case) -> list[str]:
    return ["张三", "王五", case.number, "楼上漏水纠纷", "漏水", tree.entrance_a.name, "13800000001"]


def _old_leaky_event(case) -> None:
    """An event as the earlier code recorded it: the case's number and title in its description, a party's
    name and a reason in words (read-time masking must cover what is already in the chain)."""
    event = audit.prepare("mediation.case.viewed", object_type="mediation.case", object_id=str(case.pk))
    event.object_repr = str(case)
    event.after = {"case": case.pk, "name": "张三的调解申请书.pdf"}
    event.reason = "张三来电询问楼上漏水纠纷"
    event.path = case.path
    audit.append(event)


@pytest.fixture
def busy_case(tree, case, mediator_a, resident_a):
    accepted = accept(mediator_a, case)
    party = accepted.parties.get(name="张三")
    cases.unmask_party(mediator_a, party, reason="打电话约调解时间")
    cases.record_case_view(mediator_a, accepted)
    _old_leaky_event(accepted)
    return accepted


def _about_the_centre(item) -> bool:
    return item["action"].startswith("mediation.") or str(item["after"].get("kind", "")).startswith(
        "mediation."
    )


@pytest.mark.parametrize("persona", ["auditor", "admin", "community_secretary"])
def test_outsiders_of_the_case_read_no_names_numbers_titles_or_addresses_in_the_audit_trail(
    request, tree, busy_case, login, persona
):
    viewer = request.getfixturevalue(persona)
    assert not selectors.visible_cases(viewer).filter(pk=busy_case.pk).exists()  # 404 on the case
    client = login(viewer)
    page = client.get(reverse("audit:list"))
    assert page.status_code == 200
    html = page.content.decode()
    assert busy_case.number not in html and "楼上漏水纠纷" not in html
    assert "Confidential: names, numbers and content are shown only to the people on the case." in html
    items = [i for i in client.get(API, {"limit": 200}).json()["items"] if _about_the_centre(i)]
    assert len(items) >= 5
    for secret in _secrets(tree, busy_case):
        assert secret not in str(items), (persona, secret)
    for item in items:
        assert item["reason"] == "" and item["path"].count(".") <= 2  # no reason in words, no address


def test_the_search_by_object_finds_no_confidential_event_for_outsiders(tree, busy_case, auditor, login):
    response = login(auditor).get(reverse("audit:list"), {"subject": busy_case.number})
    assert (
        response.status_code == 200
        and busy_case.number not in response.content.decode().split("audit-list")[1]
    )


def test_new_events_of_a_case_keep_no_names_or_content_at_all(tree, busy_case):
    """At record time: the object is "#id", before/after keep ids, states, dates and codes only."""
    new = AuditEvent.objects.filter(action__startswith="mediation.").exclude(reason__contains="张三")
    assert new.count() >= 4
    for event in new:
        text = f"{event.object_repr} {event.before} {event.after}"
        for secret in _secrets(tree, busy_case):
            assert secret not in text, (event.action, secret)
        assert event.object_repr in ("", f"#{event.object_id}")
    unmasked = AuditEvent.objects.get(action="mediation.party.unmasked")
    assert unmasked.reason == "打电话约调解时间"  # the circle's auditor still learns why
    assert audit.verify().ok


def test_the_case_circle_still_reads_the_reason_and_the_place(tree, busy_case, mediator_a, auditor):
    events = list(AuditEvent.objects.filter(action="mediation.party.unmasked"))
    [seen_by_circle] = audit_confidential.redact(events, mediator_a)
    assert seen_by_circle.reason == "打电话约调解时间" and seen_by_circle.path == busy_case.path
    [seen_by_auditor] = audit_confidential.redact(
        list(AuditEvent.objects.filter(pk=seen_by_circle.pk)), auditor
    )
    assert seen_by_auditor.reason == "" and seen_by_auditor.confidential


def test_notices_about_a_case_carry_no_case_number_in_the_audit_trail(tree, busy_case, auditor, login):
    sent = AuditEvent.objects.filter(action="notification.sent", after__kind__startswith="mediation.")
    for event in sent:
        assert busy_case.number not in event.object_repr and "漏水" not in event.object_repr
    body = login(auditor).get(API, {"action": "notification.sent", "limit": 200}).json()
    assert busy_case.number not in str(body)
