"""Logging in by mobile number: audit of successes and failures, idle timeout, language, password
rules (等保 practice, DOMAIN.md §7). Throttling, two-factor, password change and sessions:
test_signin_controls.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from linjialin.accounts.models import User
from linjialin.core.models import AuditEvent
from linjialin.testing.plugin import PASSWORD

LOGIN = "accounts:login"


def post_login(client, mobile, password):
    return client.post(reverse(LOGIN), {"username": mobile, "password": password})


def form_error(response) -> tuple[str, str]:
    """(code, message) of the login form's error, and the message must be shown on the page."""
    [error] = response.context["form"].errors.as_data()["__all__"]
    message = str(error.message)
    assert message in response.content.decode()
    return error.code, message


def is_logged_in(client) -> bool:
    return client.get(reverse("home")).status_code == 200


def test_login_page_renders_with_labelled_fields(client, db):
    response = client.get(reverse(LOGIN))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="username"' in html and 'name="password"' in html
    assert html.count("<label") >= 2


def test_login_by_mobile_and_password_goes_home_and_is_audited(client, resident_a):
    response = post_login(client, "13900000001", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert is_logged_in(client)
    event = AuditEvent.objects.get(action="login.success")
    assert (event.actor, event.object_id) == (resident_a, str(resident_a.pk))
    assert event.ip == "127.0.0.1" and event.request_id


def test_wrong_password_is_refused_and_audited_with_the_mobile_masked(client, resident_a):
    response = post_login(client, "13900000001", "Wrong-pass-1")
    assert response.status_code == 200
    assert form_error(response)[0] == "invalid_login"
    assert not is_logged_in(client)
    event = AuditEvent.objects.get(action="login.failure")
    assert event.actor is None
    assert event.actor_name == "139****0001" and event.object_repr == "139****0001"
    assert event.after["mobile"] == "139****0001" and event.after["failures"] == 1
    assert "13900000001" not in str(event.after) + event.actor_name + event.object_repr
    assert "Wrong-pass-1" not in str(AuditEvent.objects.values_list("before", "after", "reason"))


def test_unknown_mobile_is_audited_without_an_account(client, db):
    post_login(client, "13512345678", "Whatever-1")
    event = AuditEvent.objects.get(action="login.failure")
    assert (event.object_id, event.actor_name) == ("", "135****5678")


def test_inactive_account_cannot_log_in(client, resident_a):
    User.objects.filter(pk=resident_a.pk).update(is_active=False)
    assert post_login(client, "13900000001", PASSWORD).status_code == 200
    assert not is_logged_in(client)


def test_idle_session_is_logged_out(client, resident_a):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        post_login(client, "13900000001", PASSWORD)
        assert is_logged_in(client)  # first request stamps the session
    # activity within the window keeps the session alive ...
    with time_machine.travel(
        start + timedelta(minutes=settings.SESSION_IDLE_TIMEOUT_MINUTES - 1), tick=False
    ):
        assert is_logged_in(client)
    later = start + timedelta(minutes=2 * settings.SESSION_IDLE_TIMEOUT_MINUTES - 2)
    with time_machine.travel(later, tick=False):
        assert is_logged_in(client)
    # ... and a longer pause ends it: the next page sends the user to the login page
    with time_machine.travel(
        later + timedelta(minutes=settings.SESSION_IDLE_TIMEOUT_MINUTES + 1), tick=False
    ):
        response = client.get(reverse("home"))
        assert response.status_code == 302 and response["Location"].startswith(reverse(LOGIN))
        assert AuditEvent.objects.filter(action="logout", actor=resident_a).exists()
        assert not is_logged_in(client)


def test_language_switch_is_saved_on_the_account_and_used_at_the_next_login(client, resident_a):
    post_login(client, "13900000001", PASSWORD)
    response = client.post(reverse("accounts:language"), {"language": "en"})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "en"
    resident_a.refresh_from_db()
    assert resident_a.language == "en"
    client.logout()
    client.cookies.pop("django_language", None)
    response = post_login(client, "13900000001", PASSWORD)
    assert response.cookies["django_language"].value == "en"
    assert response["Location"] == "/en/"


def test_unknown_language_is_refused_and_nothing_is_saved(client, resident_a):
    post_login(client, "13900000001", PASSWORD)
    response = client.post(reverse("accounts:language"), {"language": "xx"})
    assert response.status_code == 400
    resident_a.refresh_from_db()
    assert resident_a.language == "zh-hans"


@pytest.mark.parametrize("password", ["12345678", "abcdefgh", "Short-1", "password1"])
def test_weak_passwords_are_rejected(password):
    with pytest.raises(ValidationError):
        validate_password(password)


@pytest.mark.parametrize("password", ["Demo-2026", "Tongyun-Jie-8"])
def test_mixed_passwords_are_accepted(password):
    validate_password(password)  # raises on failure


def test_create_user_needs_a_manager(tree, resident_a, community_worker):
    from django.core.exceptions import PermissionDenied

    from linjialin.accounts import services
    from linjialin.accounts.models import User

    with pytest.raises(PermissionDenied):
        services.create_user(resident_a, mobile="13712345678", display_name="x", password=None)
    assert not User.objects.filter(mobile="13712345678").exists()
    assert services.create_user(community_worker, mobile="13712345678", display_name="x", password=None).pk
