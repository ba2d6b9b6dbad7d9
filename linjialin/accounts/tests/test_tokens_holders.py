"""Finding 9: an admin could mint an API token for a resident's own account and act as them, and the
resident was not told. Now integration tokens belong to service accounts (User.is_service_account,
which never sign in on a page); a person's account holds only the tokens its owner created, and any
token created on a person's account is announced in their inbox."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation

from linjialin.accounts.models import ApiToken, User
from linjialin.accounts.services import create_api_token, create_service_account, revoke_api_token
from linjialin.accounts.tokens import verify
from linjialin.core.models import AuditEvent
from linjialin.notifications.models import Notification
from linjialin.testing.plugin import PASSWORD


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def hotline(tree, admin):
    return create_service_account(admin, mobile="19900012345", display_name="12345热线接口")


def nothing_written():
    return (
        not ApiToken.objects.exists() and not AuditEvent.objects.filter(action="api_token.created").exists()
    )


def test_admin_cannot_mint_a_token_for_a_residents_own_account(tree, admin, resident_a):
    with pytest.raises(ValidationError) as exc:
        create_api_token(admin, user=resident_a, name="act as 张三")
    assert "only its owner" in exc.value.message_dict["user"][0]
    assert nothing_written() and not Notification.objects.filter(user=resident_a).exists()


def test_admin_cannot_mint_a_token_for_a_persons_account_on_the_page(tree, admin, resident_a, login):
    response = login(admin).post(
        reverse("accounts:tokens"), {"mobile": resident_a.mobile, "name": "act as 张三", "days": "30"}
    )
    assert response.status_code == 200 and response.context["secret"] is None
    assert "only its owner" in " ".join(response.context["form"].errors["mobile"])
    assert nothing_written()


def test_the_server_command_cannot_mint_a_token_for_a_persons_account(tree, resident_a):
    with pytest.raises(CommandError, match="not a service account"):
        call_command("api_token", "create", "--user", resident_a.mobile, "--name", "x", stdout=StringIO())
    assert nothing_written()


@pytest.mark.parametrize("persona", ["resident_b", "community_secretary", "subdistrict_dispatcher"])
def test_nobody_else_mints_a_token_for_a_persons_account(tree, resident_a, persona, request):
    with pytest.raises(PermissionDenied):
        create_api_token(request.getfixturevalue(persona), user=resident_a, name="x")
    assert nothing_written()


def test_an_admin_issues_integration_tokens_on_a_service_account_without_notifying_anyone(
    tree, admin, hotline
):
    token, secret = create_api_token(admin, user=hotline, name="12345 hotline")
    assert verify(secret) == token and token.created_by == admin
    assert AuditEvent.objects.get(action="api_token.created").after["service_account"] is True
    assert not Notification.objects.filter(kind="api_token.created").exists()


def test_a_person_creates_a_token_for_their_own_account_and_is_notified(tree, resident_a):
    token, secret = create_api_token(resident_a, user=resident_a, name="my phone app", days=30)
    assert verify(secret).user == resident_a and token.created_by == resident_a
    [notice] = Notification.objects.filter(user=resident_a, kind="api_token.created")
    assert token.prefix in notice.body and "my phone app" in notice.body
    assert secret not in notice.body and secret not in notice.title
    # and may revoke it themself; nobody else but an administrator may
    revoke_api_token(resident_a, token, reason="lost the phone")
    assert ApiToken.objects.get().revoked_by == resident_a


def test_the_notice_is_written_in_the_owners_language(tree, resident_a):
    User.objects.filter(pk=resident_a.pk).update(language="zh-hans")
    resident_a.refresh_from_db()
    create_api_token(resident_a, user=resident_a, name="我的应用")
    notice = Notification.objects.get(user=resident_a, kind="api_token.created")
    assert "API" in notice.title and "令牌" in notice.title


def test_a_service_account_cannot_sign_in_interactively(tree, hotline, admin):
    hotline.set_password(PASSWORD)  # even with a password someone set
    hotline.save(update_fields=["password"])
    User.objects.filter(pk=hotline.pk).update(is_staff=True)  # even if marked for the Django admin
    # the same form signs in a person with the same password (the control); the Django admin's login is
    # this form too (it redirects here: test_signin_controls.py)
    User.objects.filter(pk=admin.pk).update(is_staff=True)
    assert Client().get(reverse("admin:login")).url.startswith(reverse("accounts:login"))
    for url in (reverse("accounts:login"),):
        person = Client()
        person.post(url, {"username": admin.mobile, "password": PASSWORD})
        assert person.session.get("_auth_user_id") == str(admin.pk), url
        service = Client()
        service.post(url, {"username": hotline.mobile, "password": PASSWORD})
        assert "_auth_user_id" not in service.session, url


def test_only_an_admin_or_the_server_makes_a_service_account(tree, community_secretary):
    with pytest.raises(PermissionDenied):
        create_service_account(community_secretary, mobile="19900012346", display_name="x")
    account = create_service_account(None, mobile="19900012346", display_name="门禁接口")
    assert account.is_service_account and not account.has_usable_password()
    with pytest.raises(ValidationError) as exc:
        create_service_account(None, mobile="19900012346", display_name="again")
    assert list(exc.value.message_dict) == ["mobile"]
