"""Property tests of the API against its own OpenAPI document (schemathesis, in-process WSGI).

For every operation and three kinds of caller (anonymous, a resident, a community worker), generated
requests must never produce a 500, must answer only documented status codes, and every body must
match the documented schema. Generated ids rarely name a real place, so each case is also replayed
with the ids of every place and resident of the test tree, which exercises the 200/403 answers.
The number of generated examples is bounded (MAX_EXAMPLES per operation and caller).
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils.crypto import get_random_string
from hypothesis import HealthCheck, settings

from linjialin.api import api

MAX_EXAMPLES = 6

APP = get_wsgi_application()
schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
schema.app = APP  # requests go in-process through Django's WSGI handler (full middleware stack)
schema.config.generation.update(modes=["positive"], deterministic=True, database="none")


@pytest.fixture
def in_process_app(db):
    """Let the WSGI app share the test's transaction: Django would otherwise close the connection
    at the end of each request (the test client does the same thing)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield APP
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


# The caller's credentials, set by the `caller` fixture and attached to every generated case by the
# auth provider below: schemathesis then knows them for the case's own (so its auth check removes them
# and expects 401, and sends a wrong token / cookie and expects 401). The API declares two schemes,
# a bearer token or the session cookie, so it no longer generates a session cookie to override.
CREDENTIALS: dict = {}


@schema.auth(refresh_interval=None)
class CallerAuth:
    def get(self, case, context):
        return dict(CREDENTIALS) or None  # nothing outside a test (schemathesis asks while collecting)

    def set(self, case, data, context):
        case.cookies = {**(case.cookies or {}), **data["cookies"]}
        case.headers = {**(case.headers or {}), **data["headers"]}


@pytest.fixture(params=["anonymous", "resident_a", "community_worker", "token:subdistrict_dispatcher"])
def caller(request, tree, client, in_process_app):
    """The persona's credentials: a signed-in session with a CSRF token for POSTs, or an API token."""
    from linjialin.accounts.services import create_api_token

    csrf = get_random_string(32)
    CREDENTIALS.clear()
    CREDENTIALS.update(cookies={"csrftoken": csrf}, headers={"X-CSRFToken": csrf})
    if request.param.startswith("token:"):
        user = request.getfixturevalue(request.param.removeprefix("token:"))
        user.is_service_account = True  # an integration's account: the only kind an operator gives tokens
        user.save(update_fields=["is_service_account"])
        secret = create_api_token(None, user=user, name="schema test")[1]
        CREDENTIALS.update(cookies={}, headers={"Authorization": f"Bearer {secret}"})
    elif request.param != "anonymous":
        client.force_login(request.getfixturevalue(request.param))
        CREDENTIALS["cookies"]["sessionid"] = client.cookies["sessionid"].value
    yield request.param
    CREDENTIALS.clear()


def real_ids(tree) -> dict[str, list[int]]:
    places = [
        tree.subdistrict,
        tree.community_1,
        tree.community_2,
        tree.grid_1,
        tree.entrance_a,
        tree.entrance_x,
        tree.household_a1,
        tree.household_x1,
    ]
    residents = [tree.resident_a1, tree.resident_b1, tree.resident_x1]
    return {"place_id": [p.pk for p in places], "resident_id": [r.pk for r in residents]}


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case, caller, tree, in_process_app):
    persona = caller
    response = case.call_and_validate(app=in_process_app)
    if persona == "anonymous":
        assert response.status_code in (401, 422), response.status_code  # 422: unparsable params first
    for name, ids in real_ids(tree).items():
        if name not in (case.path_parameters or {}):
            continue
        for pk in ids:
            case.path_parameters[name] = pk
            case.call_and_validate(app=in_process_app)


def test_openapi_documents_every_endpoint_with_its_error_answers(client):
    document = client.get("/api/v1/openapi.json").json()
    paths = document["paths"]
    expected = {
        ("get", "/api/v1/me"): {"200", "401"},
        ("get", "/api/v1/places/{place_id}"): {"200", "401", "404", "422"},
        ("get", "/api/v1/places/{place_id}/children"): {"200", "401", "404", "422"},
        ("get", "/api/v1/places/{place_id}/profile"): {"200", "401", "404", "422"},
        ("get", "/api/v1/places/{place_id}/residents"): {"200", "401", "403", "404", "422"},
        ("post", "/api/v1/residents/{resident_id}/unmask"): {"200", "401", "403", "404", "422"},
        ("get", "/api/v1/coverage/{place_id}"): {"200", "401", "403", "404", "422"},
        ("get", "/api/v1/audit/events"): {"200", "401", "403", "422"},
        ("get", "/api/v1/requests/rates"): {"200", "401", "404", "422"},
        ("get", "/api/v1/requests/"): {"200", "401", "422"},
        ("post", "/api/v1/requests/"): {"200", "201", "401", "403", "404", "409", "422"},
        ("get", "/api/v1/requests/{request_id}"): {"200", "401", "404", "422"},
        **{
            ("post", f"/api/v1/requests/{{request_id}}/{name}"): {"200", "401", "403", "404", "409", "422"}
            for name in (
                "accept",
                "contact",
                "resolve",
                "escalate",
                "return",
                "dispatch",
                "not_accept",
                "request_extension",
                "decide_extension",
                "rate",
                "withdraw",
                "merge",
                "unmerge",
                "reassign",
                "summon",
                "recategorise",
                "assists/{assist_id}/check_in",
                "assists/{assist_id}/report_back",
            )
        },
        ("get", "/api/v1/requests/units"): {"200", "401", "404", "422"},
        ("get", "/api/v1/routing/suggest"): {"200", "401", "404", "422"},
        ("post", "/api/v1/routing/suggest"): {"200", "401", "404", "422"},
        ("get", "/api/v1/mediation/cases"): {"200", "401", "422"},
        ("get", "/api/v1/mediation/cases/{case_id}"): {"200", "401", "404", "422"},
        ("post", "/api/v1/mediation/apply"): {"200", "201", "401", "403", "404", "422"},
        ("get", "/api/v1/mediation/mine"): {"200", "401"},
        ("get", "/api/v1/requests/similar"): {"200", "401", "422"},
        ("get", "/api/v1/requests/{request_id}/duplicates"): {"200", "401", "403", "404", "422"},
        ("get", "/api/v1/mutual-aid/posts"): {"200", "401", "422"},
        ("post", "/api/v1/mutual-aid/posts"): {"200", "201", "401", "403", "404", "422"},
        ("post", "/api/v1/mutual-aid/posts/{post_id}/respond"): {
            *("200", "201", "401", "403", "404", "409", "422"),
        },
    }
    found = {(m, path): set(op["responses"]) for path, ops in paths.items() for m, op in ops.items()}
    assert found == expected


def test_docs_page_loads_its_assets_locally_under_the_strict_csp(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<script src="/static/ninja/swagger-ui-bundle.js">' in html
    assert '<script src="/static/ninja/swagger-ui-init.js">' in html
    assert "cdn" not in html.lower() and "https://" not in html
    # the global policy applies unchanged: scripts only from our own origin, no inline code
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    # ... and the page has no inline script the policy would block (only a JSON data block)
    import re

    inline = [s for s in re.findall(r"<script([^>]*)>", html) if "src=" not in s]
    assert inline == [' type="application/json" id="swagger-settings"']
