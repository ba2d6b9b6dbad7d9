"""Words for people: every audit action and every timeline event the code writes has a label in both
languages, and the audit page shows an event's detail as a before/after table of field labels."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation

from linjialin.core import audit_labels

PACKAGE = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u4e00-\u9fff]")
# an identifier left in visible text: snake_case or a dotted code
CODE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b|\b[a-z_]+\.[a-z_]+(?:\.[a-z_]+)*\b")

# audit.record("x.y", …), audit.prepare(…), mediation's _audit("x.y", …), {"action": "x.y"}, action="x.y"
ACTION_CALL = re.compile(r"(?:audit\.(?:record|prepare)|\b_audit)\(\s*(f?)\"([^\"]+)\"")
ACTION_KEY = re.compile(r"[\"']action[\"']\s*:\s*(f?)\"([^\"]+)\"")
ACTION_KW = re.compile(r"\baction\s*=\s*(f?)\"([a-z_]+\.[a-z_.{}]+)\"")
# the action names built from a variable, and what the variable may hold (checked below)
DYNAMIC = {"request.{name}", "request.{kind}", "hotspots.task.{transition}"}


def _sources(*parts: str):
    root = PACKAGE.joinpath(*parts)
    for path in sorted(root.rglob("*.py")):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        yield path, path.read_text(encoding="utf-8")


def _actions_in_code() -> tuple[set[str], set[str]]:
    literal, templates = set(), set()
    for _path, text in _sources():
        for pattern in (ACTION_CALL, ACTION_KEY, ACTION_KW):
            for f, action in pattern.findall(text):
                (templates if f else literal).add(action)
    return literal, templates


def _request_kinds() -> set[str]:
    from linjialin.service_requests.workflow import workflow

    kinds = {t.name for t in workflow.transitions} | {"whistle", "co_handle"}  # summon_units' kinds
    for _path, text in _sources("service_requests"):
        kinds |= set(re.findall(r"\b_(?:new_)?event\(\s*\w+,\s*\"(\w+)\"", text))
        kinds |= set(re.findall(r"\b_timeline\(\s*\w+,\s*\"(\w+)\"", text))
    return kinds


def _assert_words(text: str, code: str, language: str) -> None:
    assert text, f"{code}: no label in {language}"
    # a one-word kind may be its own English label ("submitted"); a compound code may not
    assert text != code or re.fullmatch(r"[a-z]+", code), f"{code}: shown by its code in {language}"
    assert not CODE.search(text), f"{code}: the {language} label {text!r} shows an identifier"
    if language == "zh-hans":
        assert CJK.search(text), f"{code}: the Chinese label {text!r} is not translated"


def test_every_audit_action_written_by_the_code_has_a_label_in_both_languages():
    from linjialin.hotspots.workflow import workflow as task_workflow
    from linjialin.service_requests.labels import EVENT_LABELS

    literal, templates = _actions_in_code()
    assert templates == DYNAMIC, "a new action name built at run time: add its values to this test"
    actions = literal | {f"request.{k}" for k in _request_kinds() | set(EVENT_LABELS)}
    actions |= {f"hotspots.task.{t.name}" for t in task_workflow.transitions}
    assert len(actions) > 100  # the collection found the code (a broken pattern would find nothing)
    missing = sorted(actions - audit_labels.known())
    assert not missing, f"audit actions without a label: {missing}"
    for language in ("en", "zh-hans"):
        with translation.override(language):
            for action in sorted(actions):
                _assert_words(audit_labels.label(action), action, language)


def test_every_request_timeline_event_has_a_label_in_both_languages():
    from linjialin.service_requests.labels import EVENT_LABELS, event_label

    kinds = _request_kinds()
    assert {"co_requester_joined", "accept", "overdue", "merged_in"} <= kinds
    assert not kinds - set(EVENT_LABELS), f"timeline kinds without a label: {kinds - set(EVENT_LABELS)}"
    for language in ("en", "zh-hans"):
        with translation.override(language):
            for kind in sorted(kinds):
                _assert_words(event_label(kind), kind, language)


def test_every_mediation_timeline_event_has_a_label_in_both_languages():
    from linjialin.mediation.models import CourtState
    from linjialin.mediation.views import EVENT_LABELS

    kinds = {f"court_{s}" for s in CourtState.values} | {"court_extended"}
    for _path, text in _sources("mediation"):
        kinds |= set(re.findall(r"\b_event\(\s*case,\s*\"(\w+)\"", text))
        kinds |= set(re.findall(r"CaseEvent\.objects\.create\([^()]*?kind=\"(\w+)\"", text, re.S))
    assert {"registered", "filing_pack_exported", "followup_overdue", "court_confirmed"} <= kinds
    unlabelled = kinds - set(EVENT_LABELS)
    assert not unlabelled, f"mediation timeline kinds without a label: {unlabelled}"
    for language in ("en", "zh-hans"):
        with translation.override(language):
            for kind in sorted(kinds):
                _assert_words(str(EVENT_LABELS[kind]), kind, language)


def test_an_action_no_app_registered_is_not_shown_by_its_code():
    with translation.override("en"):
        assert audit_labels.label("nobody.registered_this") == "Other action"
    with translation.override("zh-hans"):
        assert CJK.search(audit_labels.label("nobody.registered_this"))


# --- the pages ----------------------------------------------------------------------------------------
@pytest.fixture
def accepted(tree, resident_a, entrance_leader_a):
    from linjialin.service_requests import services

    req = services.submit_request(
        resident_a, place=tree.household_a1, request_type="help", description="楼道灯坏了"
    )
    return services.accept_request(entrance_leader_a, req)


def _audit_row(client, req, action):
    response = client.get(reverse("audit:list"), {"action": action})
    assert response.status_code == 200
    [row] = [r for r in response.context["rows"] if r["event"].object_id == str(req.pk)]
    events = response.content.decode().split('class="list-group audit-list', 1)[1]
    return row, re.sub(r"<[^>]+>", " ", events)  # the list's visible text (option values hold the codes)


def test_audit_detail_is_a_table_of_field_labels_and_state_labels(accepted, auditor, login):
    client = login(auditor)
    with translation.override("zh-hans"):
        row, page = _audit_row(client, accepted, "request.accept")
    assert row["label"] == "诉求: 已受理"
    assert row["changes"] == [{"label": "状态", "before": "已提交", "after": "已受理", "changed": True}]
    assert row["object_kind"] and CJK.search(row["object_kind"])
    assert "状态" in page and "已受理" in page
    assert "&#x27;state&#x27;" not in page and "request.accept" not in page and "submitted" not in page
    with translation.override("en"):
        row, page = _audit_row(client, accepted, "request.accept")
    assert row["label"] == "Request: accepted"
    assert row["changes"] == [{"label": "state", "before": "submitted", "after": "accepted", "changed": True}]
    assert "request.accept" not in page


def test_audit_detail_names_keys_that_are_no_model_field(accepted, auditor, login):
    from linjialin.accounts import audit_detail
    from linjialin.core.models import AuditEvent

    event = AuditEvent(
        object_type="service_requests.servicerequest",
        before={},
        after={"voices": 3, "solved": True, "units": ["城管", "供电"], "kind": "mutual_aid.some_notice"},
    )
    with translation.override("en"):
        rows = {r["label"]: r["after"] for r in audit_detail.changes(event)}
    assert rows == {
        "voices (我也遇到)": "3",
        "solved": "yes",
        "units": "城管, 供电",
        "kind": "mutual aid some notice",  # a code nobody named: at least not shown as an identifier
    }
    with translation.override("zh-hans"):
        rows = audit_detail.changes(event)
        kinds = [audit_detail.object_kind(t) for t in ("service_requests.servicerequest", "places.roster")]
    assert all(CJK.search(r["label"]) for r in rows)
    assert all(CJK.search(kind) for kind in kinds)
    # a model nobody named in words, or no model at all: no class name shown
    assert audit_detail.object_kind("mediation.caseevent") == audit_detail.object_kind("no.such") == ""


def test_request_timeline_says_each_step_in_the_viewers_language(accepted, resident_a, login):
    client = login(resident_a)
    with translation.override("zh-hans"):
        page = client.get(reverse("requests:detail", args=[accepted.pk])).content.decode()
    assert "已受理" in page
    with translation.override("en"):
        response = client.get(reverse("requests:detail", args=[accepted.pk]))
    labels = [e.label for e in response.context["events"]]
    assert labels == ["submitted", "accepted"]


def test_every_workflow_transition_has_a_label_in_both_languages():
    from linjialin.hotspots.workflow import workflow as task_workflow
    from linjialin.mediation.workflow import screening_workflow
    from linjialin.mediation.workflow import workflow as case_workflow
    from linjialin.mutual_aid.services.emergency import task_workflow as emergency_workflow
    from linjialin.mutual_aid.workflow import workflow as post_workflow
    from linjialin.service_requests.labels import event_label
    from linjialin.service_requests.workflow import workflow as request_workflow

    declared = sum(
        len(re.findall(r"^\w+ = Workflow\(", text, re.M)) for _path, text in _sources() if "Workflow(" in text
    )
    others = (task_workflow, screening_workflow, case_workflow, emergency_workflow, post_workflow)
    assert declared == len(others) + 1, "a new workflow: add it to this test"
    for language in ("en", "zh-hans"):
        with translation.override(language):
            # a request's steps are named by their timeline labels (the transition table keeps plain words)
            for t in request_workflow.transitions:
                _assert_words(event_label(t.name), t.name, language)
            for workflow in others:
                for t in workflow.transitions:
                    _assert_words(str(t.label), t.name, language)
