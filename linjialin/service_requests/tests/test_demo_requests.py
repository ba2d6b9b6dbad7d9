"""`linjialin demo` also loads the handling units and a few requests through the services."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from linjialin.service_requests.models import AssistKind, HandlingUnit, ServiceRequest, State


@pytest.mark.django_db
def test_the_demo_has_units_and_requests_in_several_states(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("demo", "--communities", "2", "--no-progress", "--no-logins")
    assert HandlingUnit.objects.count() == 5
    states = sorted(ServiceRequest.objects.values_list("state", flat=True))
    assert states == sorted([State.SUBMITTED, State.RESOLVED, State.CLOSED, State.ACCEPTED, State.SUBMITTED])
    joint = ServiceRequest.objects.get(unit__code="tz-housing")
    assert joint.handler.mobile == "13800000011"
    assert sorted(joint.assists.values_list("kind", flat=True)) == [AssistKind.WHISTLE] * 2
    # every step went through the services: each request has its timeline
    assert all(r.events.exists() for r in ServiceRequest.objects.all())
