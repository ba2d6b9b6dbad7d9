"""End to end over HTTP (issue 5's acceptance): "a 网格员, a 楼门长 and a mediator outside the team get
404 on the case; counselling notes are hidden from the rest of the team".

One agreed case at entrance A: mediator_a leads, the counsellor is on the team and writes a note through
the page, 张三 (resident_a) is a party with an account; the case file holds a document and a written
agreement. Everyone else — the grid worker, the entrance leader, a mediator of community 2, a mediator of
community 1 who is not on the team, the community secretary, a community worker of community 2 and the
auditor — gets 404 on every page, action, download and API read of the case, and leaves no trace in the
audit trail; the team, the centre's manager and the party get in where they should, each view audited
once; the note's text reaches its author only. The community secretary sees the centre's figures, never
a case's name.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from linjialin.core import audit
from linjialin.core.models import AuditEvent
from linjialin.mediation.models import CaseParty, CaseState, Consent, CounsellingNote, TeamRole
from linjialin.mediation.services import cases
from linjialin.mediation.views import ACTIONS
from linjialin.testing.plugin import make_user

NOTE = "来访者自述长期失眠，对楼上邻居有强烈愤怒情绪（咨询记录）"
API = "/api/v1/mediation/cases/{}"
OUTSIDERS = (
    "grid_worker",
    "entrance_leader_a",
    "mediator_b",
    "mediator_c",
    "community_secretary",
    "outsider",
    "auditor",
)


@pytest.fixture(autouse=True)
def _english_and_media(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "media"},
        },
    }
    with translation.override("en"):
        yield


@pytest.fixture
def mediator_c(tree):
    """A mediator of community 1 (the case's community) who is not on the case's team."""
    return make_user("13900000017", "调解员丙", "mediator", tree.community_1)


def as_(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(name: str, *args) -> str:
    return reverse(f"mediation:{name}", args=args)


def api(client, case):
    return client.get(API.format(case.pk), HTTP_ACCEPT_LANGUAGE="en")


def views_by(user, case) -> int:
    return AuditEvent.objects.filter(
        action="mediation.case.viewed", actor=user, object_id=str(case.pk)
    ).count()


@pytest.fixture
def case(tree, mediator_a, counsellor, resident_a):
    """Agreed, with a counsellor on the team (who writes a note through the page) and a document."""
    case = cases.register_case(
        mediator_a,
        source="application",
        title="邻里噪音纠纷甲",
        dispute_type="neighbour",
        place=tree.entrance_a,
        facts="楼上夜间噪音，楼下多次交涉未果。",
        parties=[
            {
                "side": "applicant",
                "name": "张三",
                "mobile": "13800000001",
                "id_number": "11010519491231002X",
                "resident": tree.resident_a1,
                "user": resident_a,
            },
            {"side": "respondent", "name": "王五", "mobile": "13800000003"},
        ],
    )
    for party in CaseParty.objects.filter(case=case):
        cases.record_consent(mediator_a, case, party, consent=Consent.GIVEN, rights_told=True)
    cases.accept_case(mediator_a, case)
    cases.add_member(mediator_a, case, user=counsellor, role=TeamRole.COUNSELLOR)
    response = as_(counsellor).post(url("case_act", case.pk, "counselling"), {"text": NOTE})
    assert response.status_code == 302, response.content[:2000]
    cases.add_document(
        mediator_a,
        case,
        kind="investigation",
        upload=SimpleUploadedFile("走访记录.pdf", b"%PDF-1.4\n%test\n", content_type="application/pdf"),
    )
    respondent = case.parties.get(side="respondent")
    today = timezone.localdate()
    cases.record_agreement(
        mediator_a,
        case,
        written=True,
        facts="楼上夜间噪音影响楼下休息。",
        terms="楼上晚十点后停止施工。",
        performance="即日起履行。",
        signed_on=today,
        signatures={p.pk: today for p in case.parties.all()},
        sealed_on=today,
        items=[{"party": respondent, "duty": "晚十点后停止施工", "due_on": today}],
    )
    case.refresh_from_db()
    assert case.state == CaseState.AGREED
    assert CounsellingNote.objects.get(case=case).text == NOTE
    return case


def every_case_url(case) -> list[tuple[str, str, dict]]:
    """(method, url, data) for every page, action, download and API read of the case."""
    document = case.documents.get()
    party = case.parties.first()
    posts = [("post", url("case_act", case.pk, name), {"reason": "x", "text": "x"}) for name in ACTIONS]
    return [
        ("get", url("case", case.pk), {}),
        ("get", url("my_case", case.pk), {}),
        *posts,
        ("post", url("case_unmask", case.pk), {"party": party.pk, "reason": "核实身份"}),
        ("get", url("case_document", case.pk, document.pk), {}),
        ("get", url("agreement_pdf", case.pk), {}),
        ("get", url("agreement_docx", case.pk), {}),
        ("get", url("filing_pack", case.pk), {}),
        ("post", url("filing_pack", case.pk), {"reason": "司法确认"}),
        ("api", API.format(case.pk), {}),
    ]


# --- outside the case: 404 everywhere, nothing audited, nothing changed ----------------------------------
@pytest.mark.parametrize("who", OUTSIDERS)
def test_everyone_outside_the_case_gets_404_on_all_of_it(case, request, who):
    user = request.getfixturevalue(who)
    client = as_(user)
    before = AuditEvent.objects.count()
    events = case.events.count()
    for method, target, data in every_case_url(case):
        if method == "api":
            response = client.get(target, HTTP_ACCEPT_LANGUAGE="en")
        else:
            response = getattr(client, method)(target, data)
        assert response.status_code == 404, (who, method, target, response.status_code)
        assert NOTE.encode() not in response.content
    assert AuditEvent.objects.count() == before  # no view, no export, no unmasking recorded
    assert views_by(user, case) == 0
    case.refresh_from_db()
    assert case.state == CaseState.AGREED and case.events.count() == events
    assert not case.team.filter(user=user).exists()


def test_the_api_list_of_an_outsider_does_not_have_the_case(case, grid_worker, mediator_c, auditor):
    for user in (grid_worker, mediator_c, auditor):
        body = as_(user).get("/api/v1/mediation/cases", HTTP_ACCEPT_LANGUAGE="en").json()
        assert body["count"] == 0 and body["items"] == []


# --- the team, the manager and the party ----------------------------------------------------------------
def test_the_counselling_note_reaches_its_author_only(
    case, counsellor, mediator_a, mediation_manager, resident_a
):
    html = as_(counsellor).get(url("case", case.pk)).content.decode()
    assert NOTE in html
    for user in (mediator_a, mediation_manager):
        response = as_(user).get(url("case", case.pk))
        assert response.status_code == 200
        html = response.content.decode()
        assert NOTE not in html and "counselling-note" not in html
        assert "counselling" in [e.kind for e in response.context["events"]]  # that a note exists, not what
    party = as_(resident_a)
    response = party.get(url("case", case.pk), follow=True)
    assert response.status_code == 200 and response.redirect_chain[-1][0] == url("my_case", case.pk)
    assert NOTE not in response.content.decode()
    for user in (counsellor, mediator_a, mediation_manager, resident_a):
        response = api(as_(user), case)
        assert response.status_code == 200 and NOTE not in response.content.decode()


def test_the_lead_opens_the_file_downloads_and_the_api_but_not_the_filing_pack(case, mediator_a):
    client = as_(mediator_a)
    assert client.get(url("case", case.pk)).status_code == 200
    response = client.get(url("case_document", case.pk, case.documents.get().pk))
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")
    assert client.get(url("agreement_pdf", case.pk)).content.startswith(b"%PDF")
    assert client.get(url("agreement_docx", case.pk)).content[:2] == b"PK"
    assert client.get(url("filing_pack", case.pk)).status_code == 403  # no sensitive-export permission
    assert client.post(url("filing_pack", case.pk), {"reason": "司法确认"}).status_code == 403
    body = api(client, case).json()
    assert body["id"] == case.pk and {"lead", "member"} <= set(body["roles"])
    assert "13800000001" not in str(body) and "138****0001" in str(body)  # numbers masked


def test_the_manager_exports_the_filing_pack_with_a_reason(case, mediation_manager):
    client = as_(mediation_manager)
    assert client.get(url("case", case.pk)).status_code == 200
    assert client.get(url("filing_pack", case.pk)).status_code == 200
    response = client.post(url("filing_pack", case.pk), {"reason": "双方共同申请司法确认"})
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    (event,) = AuditEvent.objects.filter(action="mediation.filing_pack.exported")
    assert event.actor == mediation_manager and event.reason == "双方共同申请司法确认"


def test_the_party_sees_their_own_view_and_nothing_of_the_file(case, resident_a):
    client = as_(resident_a)
    response = client.get(url("case", case.pk))
    assert response.status_code == 302 and response["Location"] == url("my_case", case.pk)
    html = client.get(url("my_case", case.pk)).content.decode()
    assert case.title in html and "agreement reached" in html
    assert "走访记录" not in html and "13800000003" not in html
    assert client.get(url("case_document", case.pk, case.documents.get().pk)).status_code == 404
    for name in ACTIONS:
        assert client.post(url("case_act", case.pk, name), {"reason": "x"}).status_code == 404, name
    assert client.get(url("agreement_pdf", case.pk)).status_code == 200  # each party keeps a copy
    assert client.get(url("filing_pack", case.pk)).status_code == 403
    body = api(client, case).json()
    assert body["roles"] == ["party"]
    assert {e["kind"] for e in body["events"]} <= {"registered", "accepted", "agreement"}
    assert all(e["public"] for e in body["events"])
    case.refresh_from_db()
    assert case.state == CaseState.AGREED


def test_each_allowed_view_is_audited_once_and_a_refused_one_not_at_all(
    case, counsellor, mediator_a, mediation_manager, resident_a, grid_worker, mediator_c
):
    allowed = (mediator_a, counsellor, mediation_manager)
    for user in (*allowed, resident_a):
        assert views_by(user, case) == 0
    for user in allowed:
        assert as_(user).get(url("case", case.pk)).status_code == 200
        assert views_by(user, case) == 1
        assert api(as_(user), case).status_code == 200
        assert views_by(user, case) == 2
    assert api(as_(resident_a), case).status_code == 200
    assert views_by(resident_a, case) == 1
    for user in (grid_worker, mediator_c):
        assert as_(user).get(url("case", case.pk)).status_code == 404
        assert api(as_(user), case).status_code == 404
        assert views_by(user, case) == 0
    rows = AuditEvent.objects.filter(action="mediation.case.viewed", object_id=str(case.pk))
    assert rows.count() == 7 and set(rows.values_list("path", flat=True)) == {case.path}
    assert audit.verify().ok


def test_the_community_secretary_sees_the_figures_but_no_case(case, community_secretary):
    client = as_(community_secretary)
    response = client.get(url("reports"))
    assert response.status_code == 200
    assert response.context["data"].total.figures["cases_registered"] == 1  # the case is counted …
    html = response.content.decode()
    for private in (case.title, case.number, "张三", "王五", NOTE):  # … never named
        assert private not in html, private
    assert client.get(url("case", case.pk)).status_code == 404
    assert client.get(url("desk")).status_code == 403
