"""API token services (create / revoke: who may, what is checked, what is audited) and the
`linjialin api-token` command."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone, translation

from linjialin.accounts.models import ApiToken, ApiTokenRules, RoleGrant, User
from linjialin.accounts.services import create_api_token, revoke_api_token
from linjialin.accounts.tokens import TokenRejected, hash_secret, verify
from linjialin.core.errors import Conflict
from linjialin.core.models import AuditEvent


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def serviced(user: User) -> User:
    """The persona's account made a service account (an integration's), which an admin may give tokens."""
    User.objects.filter(pk=user.pk).update(is_service_account=True)
    user.is_service_account = True
    return user


def test_an_admin_creates_a_token_shown_once_and_audited(tree, admin, subdistrict_dispatcher):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        token, secret = create_api_token(admin, user=serviced(subdistrict_dispatcher), name="12345 hotline")
    assert token.user == subdistrict_dispatcher and token.created_by == admin
    assert token.expires_at == start + timedelta(days=365)  # ApiTokenRules.default_days, seeded
    assert token.prefix == secret[:12] and token.token_hash == hash_secret(secret)
    assert verify(secret) == token
    event = AuditEvent.objects.get(action="api_token.created")
    assert (event.actor, event.object_id, event.path) == (admin, str(token.pk), "")
    assert event.after["user_mobile"] == "139****0009" and event.after["prefix"] == token.prefix
    assert secret not in str(event.after) and token.token_hash not in str(event.after)


def test_the_lifetime_comes_from_the_rules(tree, admin, resident_a):
    serviced(resident_a)
    ApiTokenRules.objects.update(default_days=30, max_days=90)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        token, _ = create_api_token(admin, user=resident_a, name="short")
        longer, _ = create_api_token(admin, user=resident_a, name="longer", days=90)
    assert token.expires_at == start + timedelta(days=30)
    assert longer.expires_at == start + timedelta(days=90)
    with pytest.raises(ValidationError) as error:
        create_api_token(admin, user=resident_a, name="too long", days=91)
    assert error.value.message_dict == {"days": ["Between 1 and 90 days."]}


@pytest.mark.parametrize(
    ("name", "days", "field"),
    [
        ("", None, "name"),
        ("   ", None, "name"),
        ("x" * 101, None, "name"),
        ("ok", 0, "days"),
        ("ok", -5, "days"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(tree, admin, resident_a, name, days, field):
    serviced(resident_a)
    with pytest.raises(ValidationError) as error:
        create_api_token(admin, user=resident_a, name=name, days=days)
    assert list(error.value.message_dict) == [field]
    assert not ApiToken.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="api_token.").exists()


def test_a_disabled_account_gets_no_token(tree, admin, resident_a):
    User.objects.filter(pk=resident_a.pk).update(is_active=False, is_service_account=True)
    resident_a.refresh_from_db()
    with pytest.raises(ValidationError) as error:
        create_api_token(admin, user=resident_a, name="x")
    assert error.value.message_dict == {"user": ["This account is disabled."]}


@pytest.mark.parametrize("persona", ["community_secretary", "subdistrict_staff", "auditor", "resident_a"])
def test_only_a_system_admin_manages_tokens(tree, admin, resident_b, persona, request):
    actor = request.getfixturevalue(persona)
    serviced(resident_b)
    with pytest.raises(PermissionDenied):
        create_api_token(actor, user=resident_b, name="mine")
    token, _ = create_api_token(admin, user=resident_b, name="theirs")
    with pytest.raises(PermissionDenied):
        revoke_api_token(actor, token, reason="no")
    token.refresh_from_db()
    assert ApiToken.objects.count() == 1 and token.revoked_at is None
    assert AuditEvent.objects.filter(action__startswith="api_token.").count() == 1


def test_revoking_needs_a_reason_happens_once_and_is_audited(tree, admin, resident_a):
    token, secret = create_api_token(admin, user=serviced(resident_a), name="x")
    with pytest.raises(ValidationError) as error:
        revoke_api_token(admin, token, reason="  ")
    assert list(error.value.message_dict) == ["reason"]
    revoke_api_token(admin, token, reason="leaked in a log")
    token.refresh_from_db()
    assert (token.revoked_by, token.revoke_reason) == (admin, "leaked in a log") and token.revoked_at
    with pytest.raises(Conflict):
        revoke_api_token(admin, token, reason="again")
    [event] = AuditEvent.objects.filter(action="api_token.revoked")
    assert (event.actor, event.reason, event.object_id) == (admin, "leaked in a log", str(token.pk))
    with pytest.raises(TokenRejected, match="revoked"):
        verify(secret)


# --- the command ----------------------------------------------------------------------------------
def run(*args) -> str:
    out = StringIO()
    call_command("api_token", *args, stdout=out)
    return out.getvalue()


def test_the_command_creates_lists_and_revokes(tree, subdistrict_dispatcher):
    serviced(subdistrict_dispatcher)
    output = run("create", "--user", subdistrict_dispatcher.mobile, "--name", "12345 hotline", "--days", "30")
    secret = output.strip().splitlines()[-1]
    token = ApiToken.objects.get()
    assert verify(secret) == token and token.created_by is None
    assert (token.expires_at - token.created_at) == timedelta(days=30)
    event = AuditEvent.objects.get(action="api_token.created")
    assert event.actor is None and "server command" in event.actor_name
    listing = run("list")
    assert token.prefix in listing and "active" in listing and secret not in listing
    assert "139****0009" in listing and subdistrict_dispatcher.mobile not in listing
    run("revoke", token.prefix + "…", "--reason", "contract ended")
    token.refresh_from_db()
    assert token.revoke_reason == "contract ended" and "revoked" in run("list")
    with pytest.raises(CommandError, match="already been revoked"):
        run("revoke", token.prefix, "--reason", "again")


def test_the_command_creates_a_service_account_with_its_role(tree):
    output = run(
        "create",
        "--user",
        "19900012345",
        "--name",
        "12345 hotline",
        "--create-account",
        "--display-name",
        "12345热线接口",
        "--role",
        "subdistrict_dispatcher",
        "--place",
        tree.subdistrict.path,
    )
    account = User.objects.get(mobile="19900012345")
    assert account.is_service_account
    assert not account.has_usable_password()  # a service account cannot log in to the pages
    grant = RoleGrant.objects.get(user=account)
    assert (grant.role, grant.place) == ("subdistrict_dispatcher", tree.subdistrict)
    assert verify(output.strip().splitlines()[-1]).user == account


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--user", "19900000000", "--name", "x"], "No account has the mobile number"),
        (["--user", "19900000000", "--name", "x", "--create-account"], "needs --display-name"),
        (
            [
                "--user",
                "19900000000",
                "--name",
                "x",
                "--create-account",
                "--display-name",
                "A",
                "--role",
                "subdistrict_dispatcher",
            ],
            "go together",
        ),
        (
            [
                "--user",
                "19900000000",
                "--name",
                "x",
                "--create-account",
                "--display-name",
                "A",
                "--role",
                "subdistrict_dispatcher",
                "--place",
                "nowhere.",
            ],
            "No place has the path",
        ),
        (["--user", "1990000", "--name", "x", "--create-account", "--display-name", "A"], "11 digits"),
        (["--user", "13900000009", "--name", " "], "name:"),
    ],
)
def test_the_command_refuses_bad_input_and_writes_nothing(tree, subdistrict_dispatcher, args, message):
    serviced(subdistrict_dispatcher)
    users = User.objects.count()
    with pytest.raises(CommandError, match=message):
        run("create", *args)
    assert not ApiToken.objects.exists() and User.objects.count() == users


def test_revoking_an_unknown_prefix_is_an_error(db):
    with pytest.raises(CommandError, match="No token has the prefix"):
        run("revoke", "ljl_nothing1", "--reason", "x")
