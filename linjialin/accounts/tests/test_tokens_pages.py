"""The API token page (accounts:tokens): who may open it, create (secret shown once), revoke."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from linjialin.accounts.models import ApiToken
from linjialin.accounts.services import create_api_token
from linjialin.accounts.tokens import verify
from linjialin.core.models import AuditEvent

from .test_tokens import serviced


@pytest.fixture(autouse=True)
def _english():
    """The pages in English: reverse() under the override gives the /en/ URLs."""
    with translation.override("en"):
        yield


def url():
    return reverse("accounts:tokens")


def revoke_url(token):
    return reverse("accounts:token_revoke", args=[token.pk])


def test_anonymous_is_sent_to_the_login_page(client, tree, admin):
    token, _ = create_api_token(admin, user=serviced(admin), name="x")
    for response in (
        client.get(url()),
        client.post(url(), {}),
        client.post(revoke_url(token), {"reason": "x"}),
    ):
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize(
    "persona",
    [
        "resident_a",
        "entrance_leader_a",
        "community_secretary",
        "outsider",
        "subdistrict_staff",
        "subdistrict_dispatcher",
        "auditor",
    ],
)
def test_only_a_system_admin_may_open_it(persona, tree, admin, login, request):
    token, _ = create_api_token(admin, user=serviced(admin), name="admin's own")
    client = login(request.getfixturevalue(persona))
    assert client.get(url()).status_code == 403
    body = {"mobile": "13900000001", "name": "sneaky", "days": "30"}
    assert client.post(url(), body).status_code == 403
    # a token is invisible to them: missing and forbidden look the same
    assert client.post(revoke_url(token), {"reason": "x"}).status_code == 404
    assert ApiToken.objects.count() == 1 and ApiToken.objects.get().revoked_at is None


def test_the_admin_sees_the_list_with_prefixes_only(tree, admin, subdistrict_dispatcher, login):
    token, secret = create_api_token(admin, user=serviced(subdistrict_dispatcher), name="12345 hotline")
    response = login(admin).get(url())
    assert response.status_code == 200
    html = response.content.decode()
    assert "12345 hotline" in html and f"{token.prefix}…" in html
    assert secret not in html and token.token_hash not in html
    assert "139****0009" in html and subdistrict_dispatcher.mobile not in html
    assert "never" in html  # not used yet


def test_creating_shows_the_secret_once(tree, admin, subdistrict_dispatcher, login):
    serviced(subdistrict_dispatcher)
    client = login(admin)
    response = client.post(
        url(), {"mobile": subdistrict_dispatcher.mobile, "name": "12345 hotline", "days": "30"}
    )
    assert response.status_code == 200
    token = ApiToken.objects.get()
    secret = response.context["secret"]
    assert verify(secret) == token and secret in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert (token.user, token.created_by, (token.expires_at - token.created_at).days) == (
        subdistrict_dispatcher,
        admin,
        30,
    )
    assert AuditEvent.objects.filter(action="api_token.created", actor=admin).count() == 1
    assert secret not in client.get(url()).content.decode()  # never again


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (
            {"mobile": "13900000099", "name": "x", "days": "30"},
            "mobile",
            "No account has this mobile number.",
        ),
        ({"mobile": "123", "name": "x", "days": "30"}, "mobile", "Enter an 11-digit mobile number."),
        ({"mobile": "13900000009", "name": "", "days": "30"}, "name", "This field is required."),
        ({"mobile": "13900000009", "name": "x", "days": "0"}, "days", "greater than or equal to 1"),
        ({"mobile": "13900000009", "name": "x", "days": "731"}, "days", "less than or equal to 730"),
        ({"mobile": "13900000009", "name": "x", "days": "many"}, "days", "Enter a whole number."),
    ],
)
def test_bad_input_shows_the_field_error_and_creates_nothing(
    tree, admin, subdistrict_dispatcher, login, body, field, message
):
    response = login(admin).post(url(), body)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert response.context["secret"] is None
    assert not ApiToken.objects.exists()


def test_revoking_with_a_reason(tree, admin, resident_a, login):
    token, secret = create_api_token(admin, user=serviced(resident_a), name="old kiosk")
    client = login(admin)
    refused = client.post(revoke_url(token), {"reason": ""}, follow=True)
    assert "Please give a reason." in refused.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is None
    response = client.post(revoke_url(token), {"reason": "kiosk removed"})
    assert response.status_code == 302 and response["Location"] == url()
    token.refresh_from_db()
    assert token.revoked_by == admin and token.revoke_reason == "kiosk removed"
    assert AuditEvent.objects.filter(action="api_token.revoked", actor=admin).count() == 1
    page = client.get(url()).content.decode()
    assert "kiosk removed" in page and "revoked" in page
    again = client.post(revoke_url(token), {"reason": "again"}, follow=True)
    assert "already been revoked" in again.content.decode()
    assert AuditEvent.objects.filter(action="api_token.revoked").count() == 1


def test_revoking_a_missing_token_is_404(tree, admin, login):
    assert login(admin).post(reverse("accounts:token_revoke", args=[999]), {"reason": "x"}).status_code == 404


def test_the_menu_links_the_page_for_an_admin_only(tree, admin, community_secretary, login):
    link = f'href="{url()}"'
    assert link in login(admin).get(reverse("home")).content.decode()
    assert link not in login(community_secretary).get(reverse("home")).content.decode()
