"""司法确认 after its window: once rules.court_apply_days have passed since the agreement took effect with
no application, the case page no longer offers the form and the service refuses it with the date the
window closed."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from linjialin.mediation import selectors
from linjialin.mediation.models import Court, CourtConfirmation

from .test_cases_fixtures import apply_to_court
from .test_pages import _english_and_media, url  # noqa: F401
from .test_pages_actions import accepted, agreed, case  # noqa: F401

pytestmark = pytest.mark.django_db


def _at(days: int):
    return time_machine.travel(timezone.now() + timedelta(days=days), tick=False)


def _last(agreed_case) -> int:
    """Days from today to the window's last day: 30 days after the agreement took effect (today), moved
    to the next working day when that is a rest day (民事诉讼法 第八十五条)."""
    return (selectors.court_apply_last_day(agreed_case) - timezone.localdate()).days


def test_the_form_is_offered_on_the_windows_last_day(agreed, login, mediator_a):  # noqa: F811
    assert _last(agreed) >= 30
    with _at(_last(agreed)):
        page = login(mediator_a).get(url("case", agreed.pk)).content.decode()
    assert url("case_act", agreed.pk, "court_apply") in page
    assert 'id="court-window-closed"' not in page


def test_after_the_window_the_form_is_hidden_and_the_page_says_when_it_ended(
    agreed, login, mediator_a  # noqa: F811
):
    last = selectors.court_apply_last_day(agreed)
    with _at(_last(agreed) + 1):
        page = login(mediator_a).get(url("case", agreed.pk)).content.decode()
    assert url("case_act", agreed.pk, "court_apply") not in page
    assert 'id="court-window-closed"' in page
    assert f"ended on {last.isoformat()}" in page


def test_after_the_window_the_service_refuses_with_a_clear_message(agreed, mediator_a):  # noqa: F811
    last = selectors.court_apply_last_day(agreed)
    with _at(_last(agreed) + 1), pytest.raises(ValidationError) as exc:
        apply_to_court(mediator_a, agreed, str(last))
    (message,) = exc.value.message_dict["applied_on"]
    assert f"ended on {last.isoformat()}" in message and "30 days" in message
    assert not CourtConfirmation.objects.exists()


def test_a_posted_form_after_the_window_writes_nothing(agreed, login, mediator_a):  # noqa: F811
    last = selectors.court_apply_last_day(agreed)
    with _at(_last(agreed) + 10):
        response = login(mediator_a).post(
            url("case_act", agreed.pk, "court_apply"),
            {
                "court": Court.objects.get(name="北京市通州区人民法院").pk,
                "applied_on": str(last),
                **{f"consent_{p.pk}": str(last) for p in agreed.parties.all()},
            },
        )
    assert response.status_code == 422
    assert f"ended on {last.isoformat()}" in response.content.decode()
    assert not CourtConfirmation.objects.exists()


def test_the_window_closing_does_not_hide_a_recorded_applications_steps(agreed, login, mediator_a):  # noqa: F811
    apply_to_court(mediator_a, agreed, timezone.localdate())
    with _at(_last(agreed) + 5):
        page = login(mediator_a).get(url("case", agreed.pk)).content.decode()
    assert url("case_act", agreed.pk, "court_step") in page
    assert 'id="court-window-closed"' not in page
