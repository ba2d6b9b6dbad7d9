"""The OpenAPI document itself: every operation's answers, one name per schema, what fields mean.

The property test of the API against this document (schemathesis) is tests/test_schemathesis.py.
"""

from __future__ import annotations

import enum
import json
import typing
from collections import defaultdict

import pytest
from pydantic import BaseModel, WithJsonSchema

from linjialin.api import api


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
        ("post", "/api/v1/routing/suggest"): {"200", "401", "403", "404", "422"},
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
    # every operation that reads a body answers 400 when it is not JSON (each one here is a POST)
    expected = {(m, path): codes | {"400"} if m == "post" else codes for (m, path), codes in expected.items()}
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


def _named_types() -> set[type]:
    """Every model and choices class the API's operations refer to: each becomes one component of the
    OpenAPI document under its class name (a field with its own inline JSON schema names none)."""
    found: set[type] = set()
    todo: list = []
    for _prefix, router in api._routers:
        for view in router.path_operations.values():
            for operation in view.operations:
                todo += list(operation.models)
                todo += [m for m in operation.response_models.values() if isinstance(m, type)]

    def parts(annotation):
        yield annotation
        for arg in typing.get_args(annotation):
            yield from parts(arg)

    while todo:
        model = todo.pop()
        if not (isinstance(model, type) and issubclass(model, BaseModel)) or model in found:
            continue
        found.add(model)
        for field in model.model_fields.values():
            if any(isinstance(m, WithJsonSchema) for m in field.metadata):
                continue
            for part in parts(field.annotation):
                if isinstance(part, type) and issubclass(part, enum.Enum):
                    found.add(part)
                elif isinstance(part, type) and issubclass(part, BaseModel):
                    todo.append(part)
    return {t for t in found if t.__module__.startswith("linjialin.")}


def test_every_schema_and_choice_list_in_the_api_has_a_name_of_its_own():
    # the document keeps one schema per name: a second class of the same name silently replaces the
    # first (requests' ContactOut was described as mutual aid's; a post's Urgency lost "risk" or gained it)
    by_name = defaultdict(set)
    for t in _named_types():
        by_name[t.__name__].add(f"{t.__module__}.{t.__qualname__}")
    shared = {name: sorted(classes) for name, classes in by_name.items() if len(classes) > 1}
    assert shared == {}
    assert len(by_name) > 50  # the walk found the API's schemas (not an empty set)


def test_no_component_of_the_openapi_document_is_overwritten(monkeypatch):
    from ninja.openapi.schema import OpenAPISchema

    overwritten = []
    add = OpenAPISchema.add_schema_definitions

    def recording_add(self, definitions):
        for name, definition in definitions.items():
            if name in self.schemas and self.schemas[name] != definition:
                overwritten.append(name)
        return add(self, definitions)

    monkeypatch.setattr(OpenAPISchema, "add_schema_definitions", recording_add)
    document = api.get_openapi_schema(path_prefix="/api/v1/")
    assert overwritten == []
    assert "RequesterContactOut" in document["components"]["schemas"]


def _resolve(document, schema: dict) -> dict:
    while "$ref" in schema or "allOf" in schema:
        if "allOf" in schema:
            [schema] = schema["allOf"]
            continue
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def test_a_requests_contact_is_described_as_the_requesters_masked_name_and_mobile(client):
    document = client.get("/api/v1/openapi.json").json()
    detail = document["components"]["schemas"]["RequestDetailOut"]
    contact = _resolve(document, detail["properties"]["contact"])
    assert set(contact["properties"]) == {"name", "mobile", "masked"}
    assert "masked" in contact["description"]
    # and a matched post's contact is the hand-off contact (relay number or door), a schema of its own
    post = document["components"]["schemas"]["PostOut"]
    handoff = _resolve(document, next(s for s in post["properties"]["contact"]["anyOf"] if "$ref" in s))
    assert set(handoff["properties"]) == {"side", "kind", "value", "name", "mode", "guardian"}


def test_a_post_and_a_request_document_their_own_urgencies(client):
    document = client.get("/api/v1/openapi.json").json()
    schemas = document["components"]["schemas"]
    submit = _resolve(document, schemas["SubmitIn"]["properties"]["urgency"])
    post = _resolve(document, schemas["PostIn"]["properties"]["urgency"])
    assert set(submit["enum"]) == {"normal", "urgent", "risk"}
    assert set(post["enum"]) == {"normal", "urgent"}


def test_every_integer_parameter_and_field_an_id_column_reads_is_bounded(client):
    """No number the database cannot hold gets through to it (2**70 was a 500 on the audit log)."""
    document = client.get("/api/v1/openapi.json").json()
    unbounded = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                schema = parameter["schema"]
                for s in schema.get("anyOf", [schema]):
                    if s.get("type") == "integer" and "maximum" not in s:
                        unbounded.append(f"{method} {path} {parameter['name']}")
    inputs = {name: s for name, s in document["components"]["schemas"].items() if name.endswith("In")}
    for name, schema in inputs.items():
        for field, prop in schema.get("properties", {}).items():
            text = json.dumps(prop)
            if '"integer"' in text and '"maximum"' not in text:
                unbounded.append(f"{name}.{field}")
    assert unbounded == []


def test_every_free_text_input_has_a_maximum_length(client):
    """Strings are bounded like the columns they go to (a choice list is bounded by its values)."""
    document = client.get("/api/v1/openapi.json").json()

    def free_text(schema: dict) -> bool:
        options = schema.get("anyOf", [schema])
        return any(
            o.get("type") == "string" and "enum" not in o and "format" not in o for o in options
        ) and not any("maxLength" in o for o in options)

    unbounded = [
        f"{method} {path} {p['name']}"
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        for p in operation.get("parameters", [])
        if free_text(p["schema"])
    ]
    inputs = {name: s for name, s in document["components"]["schemas"].items() if name.endswith("In")}
    unbounded += [
        f"{name}.{field}"
        for name, schema in inputs.items()
        for field, prop in schema.get("properties", {}).items()
        if free_text(prop)
    ]
    assert unbounded == []


@pytest.mark.parametrize(
    ("schema", "field", "model", "column"),
    [
        ("SubmitIn", "description", "service_requests.ServiceRequest", "description"),
        ("SubmitIn", "contact_name", "service_requests.ServiceRequest", "contact_name"),
        ("SubmitIn", "contact_mobile", "service_requests.ServiceRequest", "contact_mobile"),
        ("SubmitIn", "client_token", "service_requests.ServiceRequest", "client_token"),
        ("SubmitIn", "category", "service_requests.Category", "code"),
        ("RecategoriseIn", "category", "service_requests.Category", "code"),
        ("ExtensionIn", "reason", "service_requests.ServiceRequest", "extension_reason"),
        ("ApplyIn", "title", "mediation.Case", "title"),
        ("ApplyIn", "facts", "mediation.Case", "facts"),
        ("ApplyIn", "other_party_name", "mediation.CaseParty", "name"),
        ("ApplyIn", "other_party_mobile", "mediation.CaseParty", "mobile"),
        ("PostIn", "text", "mutual_aid.Post", "text"),
        ("RespondIn", "note", "mutual_aid.Response", "note"),
        ("UnmaskIn", "reason", "core.AuditEvent", "reason"),
        ("AuditFilters", "action", "core.AuditEvent", "action"),
        ("AuditFilters", "path", "core.AuditEvent", "path"),
    ],
)
def test_a_text_input_is_no_longer_than_the_column_it_is_stored_in(client, schema, field, model, column):
    """PostgreSQL refuses a value longer than its column (a 500 if the API let it through)."""
    from django.apps import apps

    document = client.get("/api/v1/openapi.json").json()
    prop = document["components"]["schemas"][schema]["properties"][field]
    limit = max(o.get("maxLength", 0) for o in prop.get("anyOf", [prop]))
    assert limit == apps.get_model(model)._meta.get_field(column).max_length
