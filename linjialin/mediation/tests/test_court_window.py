"""司法确认 after its window: once rules.court_apply_days have passed since the agreement took effect with
no application, the case page no longer offers the form and the service refuses it with the date the
window closed."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from linjialin.mediation.models import CourtConfirmation
from linjialin.mediation.services import cases

from .test_pages import _english_and_media, url  # noqa: F401
from .test_pages_actions import accepted, agreed, case  # noqa: F401

pytestmark = pytest.mark.django_db


def _at(days: int):
    return time_machine.travel(timezone.now() + timedelta(days=days), tick=False)


def test_the_form_is_offered_on_the_windows_last_day(agreed, login, mediator_a):  # noqa: F811
    with _at(30):
        page = login(mediator_a).get(url("case", agreed.pk)).content.decode()
    assert url("case_act", agreed.pk, "court_apply") in page
    assert 'id="court-window-closed"' not in page


def test_after_the_window_the_form_is_hidden_and_the_page_says_when_it_ended(
    agreed, login, mediator_a  # noqa: F811
):
    last = agreed.agreement.effective_on + timedelta(days=30)
    with _at(31):
        page = login(mediator_a).get(url("case", agreed.pk)).content.decode()
    assert url("case_act", agreed.pk, "court_apply") not in page
    assert 'id="court-window-closed"' in page
    assert f"ended on {last.isoformat()}" in page


def test_after_the_window_the_service_refuses_with_a_clear_message(agreed, mediator_a):  # noqa: F811
    last = agreed.agreement.effective_on + timedelta(days=30)
    with _at(31), pytest.raises(ValidationError) as exc:
        cases.record_court_application(mediator_a, agreed, court="区人民法院", applied_on=str(last))
    (message,) = exc.value.message_dict["applied_on"]
    assert f"ended on {last.isoformat()}" in message and "30 days" in message
    assert not CourtConfirmation.objects.exists()


def test_a_posted_form_after_the_window_writes_nothing(agreed, login, mediator_a):  # noqa: F811
    last = agreed.agreement.effective_on + timedelta(days=30)
    with _at(40):
        response = login(mediator_a).post(
            url("case_act", agreed.pk, "court_apply"), {"court": "区人民法院", "applied_on": str(last)}
        )
    assert response.status_code == 422
    assert f"ended on {last.isoformat()}" in response.content.decode()
    assert not CourtConfirmation.objects.exists()


def test_the_window_closing_does_not_hide_a_recorded_applications_steps(agreed, login, mediator_a):  # noqa: F811
    cases.record_court_application(mediator_a, agreed, court="区人民法院", applied_on=timezone.localdate())
    with _at(35):
        page = login(mediator_a).get(url("case", agreed.pk)).content.decode()
    assert url("case_act", agreed.pk, "court_step") in page
    assert 'id="court-window-closed"' not in page
