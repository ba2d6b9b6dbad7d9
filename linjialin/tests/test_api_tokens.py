"""API tokens on /api/v1/: `Authorization: Bearer ljl_…` acts as the token's account (grants and scope
apply unchanged), needs no CSRF token, and a wrong / expired / revoked / disabled token answers 401.
The session path keeps its CSRF check. The OpenAPI document shows both ways in."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone, translation

from linjialin.accounts.models import ApiToken, User
from linjialin.accounts.services import create_api_token, revoke_api_token
from linjialin.accounts.tokens import hash_secret
from linjialin.service_requests.models import ServiceRequest

URL = "/api/v1/requests/"
WORK_ORDER = "12345-WO-20261128-0001"  # a hotline work order number as the client token


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def api_client():
    """A client that enforces CSRF like a real browser would: token calls must pass without it."""
    return Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")  # the messages are asserted in English


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def token_for(admin, user, days=None) -> str:
    """A token on the persona's account: made a service account, issued by the admin (a person's own
    account holds only the tokens its owner created: see accounts/tests/test_tokens_holders.py)."""
    User.objects.filter(pk=user.pk).update(is_service_account=True)
    user.is_service_account = True
    return create_api_token(admin, user=user, name=f"integration of {user.display_name}", days=days)[1]


def submit_body(tree, **kw):
    body = {
        "place_id": tree.household_a1.pk,
        "request_type": "help",
        "description": "楼道灯坏了",
        "category": "corridor",
        "client_token": "hotline-1",
        "contact_mobile": "13912345678",
    }
    return json.dumps({**body, **kw})


def submit(client, tree, secret, **kw):
    return client.post(URL, submit_body(tree, **kw), content_type="application/json", headers=bearer(secret))


def test_a_resident_token_submits_a_request_without_a_csrf_token(tree, admin, resident_a, api_client):
    secret = token_for(admin, resident_a)
    response = submit(api_client, tree, secret)
    assert response.status_code == 201, response.content
    req = ServiceRequest.objects.get(pk=response.json()["id"])
    assert req.submitted_by == resident_a and req.path == tree.household_a1.path
    # the same token reads it back
    detail = api_client.get(f"{URL}{req.pk}", headers=bearer(secret))
    assert detail.status_code == 200 and detail.json()["number"] == req.number
    assert api_client.get("/api/v1/me", headers=bearer(secret)).json()["id"] == resident_a.pk


def test_a_leader_token_submits_on_a_residents_behalf(tree, admin, entrance_leader_a, api_client):
    secret = token_for(admin, entrance_leader_a)
    response = submit(api_client, tree, secret, channel="on_behalf")
    assert response.status_code == 201, response.content
    assert ServiceRequest.objects.get().submitted_by == entrance_leader_a


def test_a_dispatcher_token_lists_the_requests_in_its_scope(
    tree, admin, resident_a, subdistrict_dispatcher, api_client
):
    response = submit(api_client, tree, token_for(admin, resident_a))
    assert response.status_code == 201
    page = api_client.get(URL, headers=bearer(token_for(admin, subdistrict_dispatcher))).json()
    assert page["count"] == 1 and [r["id"] for r in page["items"]] == [response.json()["id"]]


def test_a_token_keeps_its_accounts_scope(tree, admin, resident_a, outsider, api_client):
    req_id = submit(api_client, tree, token_for(admin, resident_a)).json()["id"]
    secret = token_for(admin, outsider)
    assert api_client.get(f"{URL}{req_id}", headers=bearer(secret)).status_code == 404
    assert api_client.get(URL, headers=bearer(secret)).json()["count"] == 0
    response = api_client.post(
        f"{URL}{req_id}/accept", "{}", content_type="application/json", headers=bearer(secret)
    )
    assert response.status_code == 404
    assert ServiceRequest.objects.get(pk=req_id).state == "submitted"


@pytest.mark.parametrize(
    "presented",
    ["ljl_not-a-token", "something-else", "ljl_", "", "WRONG-TAIL"],
    ids=["unknown", "no-prefix", "bare-prefix", "empty", "right-prefix-wrong-secret"],
)
def test_a_wrong_token_is_401_and_writes_nothing(tree, admin, resident_a, api_client, presented):
    secret = token_for(admin, resident_a)
    if presented == "WRONG-TAIL":
        presented = secret[:-4] + ("aaaa" if not secret.endswith("aaaa") else "bbbb")
    response = submit(api_client, tree, presented)
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid API token."
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert ServiceRequest.objects.count() == 0


def test_an_expired_token_is_401(tree, admin, resident_a, api_client):
    secret = token_for(admin, resident_a, days=1)
    with time_machine.travel(timezone.now() + timedelta(days=1, seconds=1)):
        response = api_client.get(URL, headers=bearer(secret))
    assert response.status_code == 401 and response.json()["detail"] == "This API token has expired."
    assert api_client.get(URL, headers=bearer(secret)).status_code == 200  # the day before, it worked


def test_a_revoked_token_is_401_from_the_next_request(tree, admin, resident_a, api_client):
    secret = token_for(admin, resident_a)
    assert api_client.get(URL, headers=bearer(secret)).status_code == 200
    revoke_api_token(admin, ApiToken.objects.get(user=resident_a), reason="integration retired")
    response = submit(api_client, tree, secret)
    assert response.status_code == 401 and response.json()["detail"] == "This API token has been revoked."
    assert ServiceRequest.objects.count() == 0


def test_a_token_of_a_disabled_account_is_401(tree, admin, resident_a, api_client):
    secret = token_for(admin, resident_a)
    User.objects.filter(pk=resident_a.pk).update(is_active=False)
    response = api_client.get(URL, headers=bearer(secret))
    assert response.status_code == 401
    assert response.json()["detail"] == "The account of this API token is disabled."


def test_a_bad_token_is_refused_even_with_a_valid_session(tree, resident_a, api_client):
    api_client.force_login(resident_a)
    response = api_client.get(URL, headers=bearer("ljl_wrongwrongwrong"))
    assert response.status_code == 401


def test_without_any_credentials_the_answer_is_401_saying_how_to_authenticate(api_client, db):
    response = api_client.get(URL)
    assert response.status_code == 401 and "Bearer" in response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_session_post_without_the_csrf_token_is_still_refused(tree, resident_a, api_client):
    api_client.force_login(resident_a)
    refused = api_client.post(URL, submit_body(tree), content_type="application/json")
    assert refused.status_code == 403
    assert ServiceRequest.objects.count() == 0
    api_client.get("/api/v1/docs")  # sets the CSRF cookie
    csrf = api_client.cookies["csrftoken"].value
    accepted = api_client.post(
        URL, submit_body(tree), content_type="application/json", headers={"X-CSRFToken": csrf}
    )
    assert accepted.status_code == 201


def test_the_secret_is_stored_only_as_its_hash(tree, admin, resident_a, api_client):
    from linjialin.core.models import AuditEvent

    secret = token_for(admin, resident_a)
    token = ApiToken.objects.get()
    assert secret.startswith("ljl_") and len(secret) >= 40
    row = ApiToken.objects.filter(pk=token.pk).values().get()
    assert secret not in json.dumps(row, default=str)
    assert row["token_hash"] == hash_secret(secret) and row["prefix"] == secret[:12]
    assert not any(secret in json.dumps([e.before, e.after, e.object_repr]) for e in AuditEvent.objects.all())


def test_last_use_is_recorded_at_most_once_a_minute(tree, admin, resident_a, api_client):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        secret = token_for(admin, resident_a)
        api_client.get(URL, headers=bearer(secret))
    token = ApiToken.objects.get(user=resident_a)
    assert token.last_used_at == start
    with time_machine.travel(start + timedelta(seconds=59), tick=False):
        api_client.get(URL, headers=bearer(secret))
    token.refresh_from_db()
    assert token.last_used_at == start
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        api_client.get(URL, headers=bearer(secret))
    token.refresh_from_db()
    assert token.last_used_at == start + timedelta(seconds=61)


def test_a_use_is_not_audited(tree, admin, resident_a, api_client):
    from linjialin.core.models import AuditEvent

    secret = token_for(admin, resident_a)
    before = AuditEvent.objects.count()
    api_client.get(URL, headers=bearer(secret))
    api_client.get("/api/v1/me", headers=bearer(secret))
    assert AuditEvent.objects.count() == before


def test_the_openapi_document_shows_the_bearer_token_and_the_session(client, db):
    document = client.get("/api/v1/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["ApiTokenAuth"]["type"] == "http" and schemes["ApiTokenAuth"]["scheme"] == "bearer"
    assert schemes["SessionAuth"]["type"] == "apiKey" and schemes["SessionAuth"]["in"] == "cookie"
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation["security"] == [{"ApiTokenAuth": []}, {"SessionAuth": []}], (method, path)


def test_the_documented_flow_an_intake_token_submits_and_a_dispatcher_token_dispatches(
    tree, admin, community_worker, subdistrict_dispatcher, api_client
):
    """docs/api.md: a community's intake account submits a hotline request; the 12345 system's
    dispatcher account finds it among the submitted ones and dispatches it to the community."""
    intake = token_for(admin, community_worker)
    response = submit(api_client, tree, intake, channel="hotline", client_token=WORK_ORDER)
    assert response.status_code == 201, response.content
    again = submit(api_client, tree, intake, channel="hotline", client_token=WORK_ORDER)
    assert again.status_code == 200 and again.json()["id"] == response.json()["id"]
    dispatcher = token_for(admin, subdistrict_dispatcher)
    page = api_client.get(f"{URL}?state=submitted&limit=50&offset=0", headers=bearer(dispatcher)).json()
    assert [r["id"] for r in page["items"]] == [response.json()["id"]]
    moved = api_client.post(
        f"{URL}{response.json()['id']}/dispatch",
        json.dumps({"level": 2, "note": "转社区办理"}),
        content_type="application/json",
        headers=bearer(dispatcher),
    )
    assert moved.status_code == 200, moved.content
    assert moved.json()["level"] == 2
    assert [e["kind"] for e in moved.json()["timeline"]][-1] == "dispatch"
