"""The monthly/yearly report (xlsx, PDF), its export's permissions and audit row, and the pages: the
figures page, the downloads, the agreement and the court filing pack (permission matrix)."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation

from linjialin.core.models import AuditEvent
from linjialin.mediation import report
from linjialin.mediation.models import CaseMember, CaseState, TeamRole
from linjialin.mediation.services import exports

from .test_documents import add_parties, make_case
from .test_figures import EXPECTED_C1, EXPECTED_TOTAL, build_march

pytestmark = pytest.mark.django_db


def _events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("seq"))


# --- periods ---------------------------------------------------------------------------------------------
def test_period_parsing():
    p = report.Period.parse("2025-03")
    assert (p.kind, p.start, p.end, p.key) == ("month", date(2025, 3, 1), date(2025, 4, 1), "2025-03")
    p = report.Period.parse("2025-12")
    assert p.end == date(2026, 1, 1)
    p = report.Period.parse("2025")
    assert (p.kind, p.start, p.end, p.key) == ("year", date(2025, 1, 1), date(2026, 1, 1), "2025")
    for bad in ("", "2025-13", "25-3", "March", "2025-03-01"):
        with pytest.raises(ValueError):
            report.Period.parse(bad)


# --- the report -------------------------------------------------------------------------------------------
def test_report_xlsx_has_the_subdistrict_each_community_and_every_group(tree):
    from openpyxl import load_workbook

    build_march(tree)
    with translation.override("en"):
        data = report.build(tree.subdistrict, report.Period.parse("2025-03"))
        wb = load_workbook(io.BytesIO(report.xlsx(data)))
        names = [t["title"][:31] for t in data.tables()]
    assert wb.sheetnames == ["Summary", *names, "Definitions"]
    summary = wb["Summary"]
    rows = [[c.value for c in r] for r in summary.iter_rows(min_row=3)]
    assert rows[0] == [
        "Place",
        "screening sessions",
        "legal consultations",
        "disputes resolved",
        "success rate",
    ]
    assert rows[1] == ["社区一", 1, 3, 2, "66.7%"]
    assert rows[2] == ["社区二", 1, 1, 0, "—"]  # no case ended with a result
    assert rows[3] == ["通运街道 (total)", 2, 5, 3, "75.0%"]
    outcomes = wb[[n for n in wb.sheetnames if n.startswith("Mediation and outcomes")][0]]
    header = [c.value for c in outcomes[3]]
    by_label = dict(zip(header, [c.value for c in outcomes[4]], strict=True))  # community 1
    assert by_label["cases accepted"] == EXPECTED_C1["accepted"]
    assert by_label["average days from acceptance to the end"] == EXPECTED_C1["avg_days"]
    assert by_label["cases over the one-month limit"] == EXPECTED_C1["over_limit"]
    total = dict(zip(header, [c.value for c in outcomes[6]], strict=True))
    assert total["resolved with an agreement"] == EXPECTED_TOTAL["resolved"]
    assert total["no agreement"] == EXPECTED_TOTAL["failed"]
    after = wb[[n for n in wb.sheetnames if n.startswith("Court confirmation")][0]]
    total = dict(zip([c.value for c in after[3]], [c.value for c in after[6]], strict=True))
    assert total["agreements confirmed by a court"] == 1
    assert total["performance rate at follow-up"] == "75.0%"
    types = wb["Cases by type"]
    total = dict(zip([c.value for c in types[3]], [c.value for c in types[6]], strict=True))
    assert total["neighbours (邻里)"] == EXPECTED_TOTAL["type_neighbour"]


def test_report_for_a_community_has_one_row(tree):
    build_march(tree)
    data = report.build(tree.community_1, report.Period.parse("2025-03"))
    assert data.rows == [] and data.total.figures["consultations"] == 3


def test_report_pdf_is_a4_landscape_with_the_figures(tree):
    from .test_documents import pdf_objects, pdf_text

    build_march(tree)
    with translation.override("en"):
        data = report.build(tree.subdistrict, report.Period.parse("2025"))
        html = report.render_html(data)
        body = report.pdf(data)
    assert body.startswith(b"%PDF")
    assert b"/MediaBox [0 0 841.8" in pdf_objects(body)  # landscape
    assert "通运街道 (total)" in html and "75.0%" in html
    text = pdf_text(body)
    assert "社区一" in text and "社区二" in text


def test_export_report_permissions_and_audit(
    tree, community_secretary, subdistrict_staff, mediator_a, mediation_manager
):
    build_march(tree)
    name, body, content_type = exports.export_report(
        subdistrict_staff, tree.subdistrict, period="2025-03", fmt="xlsx"
    )
    assert name == "mediation-report-2025-03.xlsx" and content_type == report.XLSX and body[:2] == b"PK"
    exports.export_report(mediation_manager, tree.subdistrict, period="2025", fmt="pdf")
    exports.export_report(community_secretary, tree.community_1, period="2025-03", fmt="pdf")
    with pytest.raises(PermissionDenied):  # the secretary of community 1 sees only its figures
        exports.export_report(community_secretary, tree.subdistrict, period="2025-03", fmt="xlsx")
    with pytest.raises(PermissionDenied):  # a mediator works cases, does not read the figures
        exports.export_report(mediator_a, tree.community_1, period="2025-03", fmt="xlsx")
    with pytest.raises(ValidationError) as exc:
        exports.export_report(subdistrict_staff, tree.subdistrict, period="2025-13", fmt="xlsx")
    assert "period" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        exports.export_report(subdistrict_staff, tree.subdistrict, period="2025", fmt="csv")
    assert "format" in exc.value.message_dict
    events = _events("mediation.report.exported")
    assert [(e.actor, e.after["period"], e.after["format"], e.path) for e in events] == [
        (subdistrict_staff, "2025-03", "xlsx", tree.subdistrict.path),
        (mediation_manager, "2025", "pdf", tree.subdistrict.path),
        (community_secretary, "2025-03", "pdf", tree.community_1.path),
    ]


# --- the figures page ---------------------------------------------------------------------------------
def _en(name, **kwargs):
    with translation.override("en"):
        return reverse(name, **kwargs)


def test_reports_page_anonymous_goes_to_login(client):
    response = client.get(_en("mediation:reports"))
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.parametrize("who", ["outsider", "mediator_a", "resident_a"])
def test_reports_page_without_the_permission_is_403(tree, who, request, login):
    assert login(request.getfixturevalue(who)).get(_en("mediation:reports")).status_code == 403


def test_reports_page_shows_the_figures(tree, subdistrict_staff, login, django_assert_max_num_queries):
    build_march(tree)
    client = login(subdistrict_staff)
    url = _en("mediation:reports") + f"?kind=month&month=2025-03&place={tree.subdistrict.pk}"
    with django_assert_max_num_queries(24):  # 9 for the figures, the rest the session, user and layout
        response = client.get(url)
    assert response.status_code == 200
    data = response.context["data"]
    assert data.headline() == [
        ("screening sessions", 2),
        ("legal consultations", 5),
        ("disputes resolved", 3),
        ("success rate", "75.0%"),
    ]
    html = response.content.decode()
    assert 'id="headline"' in html and "通运街道 (total)" in html and "社区二" in html
    assert "period=2025-03" in html and "fmt=xlsx" in html


def test_reports_page_yearly_and_default(tree, mediation_manager, login):
    build_march(tree)
    client = login(mediation_manager)
    response = client.get(_en("mediation:reports") + f"?kind=year&year=2025&place={tree.community_1.pk}")
    assert response.status_code == 200
    assert response.context["data"].total.figures["cases_registered"] == 5  # K3 of February too
    response = client.get(_en("mediation:reports"))  # this month, the first place in scope
    assert response.status_code == 200 and response.context["data"].place == tree.subdistrict


def test_reports_page_place_outside_scope_and_bad_input(tree, community_secretary, login):
    client = login(community_secretary)
    base = _en("mediation:reports")
    response = client.get(base + f"?kind=month&month=2025-03&place={tree.community_2.pk}")
    assert response.status_code == 422 and "place" in response.context["form"].errors
    response = client.get(base + f"?kind=month&month=March&place={tree.community_1.pk}")
    assert response.status_code == 422
    assert response.context["form"].errors["month"] == ["Enter a month like 2026-11."]
    response = client.get(base + f"?kind=year&place={tree.community_1.pk}")
    assert response.status_code == 422 and "year" in response.context["form"].errors
    places = list(response.context["form"].fields["place"].queryset)
    assert places == [tree.community_1]


def test_report_download(tree, community_secretary, login):
    build_march(tree)
    client = login(community_secretary)
    url = _en("mediation:report_download")
    response = client.get(url, {"period": "2025-03", "place": tree.community_1.pk, "fmt": "xlsx"})
    assert response.status_code == 200 and response["Content-Type"] == report.XLSX
    assert 'filename="mediation-report-2025-03.xlsx"' in response["Content-Disposition"]
    response = client.get(url, {"period": "2025-03", "place": tree.community_2.pk, "fmt": "xlsx"})
    assert response.status_code == 422  # not a place in scope
    response = client.get(url, {"period": "x", "place": tree.community_1.pk, "fmt": "pdf"})
    assert response.status_code == 422
    assert len(_events("mediation.report.exported")) == 1


def test_report_download_without_permission(tree, outsider, login, client):
    assert login(outsider).get(_en("mediation:report_download"), {"period": "2025"}).status_code == 403


# --- the agreement and the filing pack on the web ----------------------------------------------------
@pytest.fixture
def case(tree, mediator_a):
    from .test_documents import add_agreement

    c = make_case(tree)
    a, b = add_parties(c, tree)
    CaseMember.objects.create(
        case=c, user=mediator_a, role=TeamRole.MEDIATOR, lead=True, added_at=c.registered_at
    )
    add_agreement(c, b)
    return c


def test_agreement_downloads_for_the_team(case, mediator_a, login):
    client = login(mediator_a)
    response = client.get(_en("mediation:agreement_pdf", kwargs={"case_id": case.pk}))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert response["Content-Type"] == "application/pdf"
    response = client.get(_en("mediation:agreement_docx", kwargs={"case_id": case.pk}))
    assert response.status_code == 200 and response.content[:2] == b"PK"
    assert len(_events("mediation.agreement.exported")) == 2


def test_agreement_download_matrix(
    case, tree, client, login, mediator_b, lawyer, community_secretary, resident_a
):
    url = _en("mediation:agreement_pdf", kwargs={"case_id": case.pk})
    assert client.get(url).status_code == 302  # anonymous → login
    for user in (mediator_b, lawyer, community_secretary):  # not on the team: the case is not there
        assert login(user).get(url).status_code == 404
    assert not _events("mediation.agreement.exported")
    case.parties.filter(name="张三").update(user=resident_a)  # a party keeps their copy of the agreement
    response = login(resident_a).get(url)
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert [e.actor for e in _events("mediation.agreement.exported")] == [resident_a]
    missing = _en("mediation:agreement_docx", kwargs={"case_id": 999999})
    assert login(resident_a).get(missing).status_code == 404


def test_agreement_download_without_an_agreement_says_so(tree, mediator_a, login):
    c = make_case(tree, number="T2026-00050", state=CaseState.ACCEPTED)
    CaseMember.objects.create(case=c, user=mediator_a, role=TeamRole.MEDIATOR, added_at=c.registered_at)
    response = login(mediator_a).get(_en("mediation:agreement_pdf", kwargs={"case_id": c.pk}))
    assert response.status_code == 302 and response["Location"].endswith(f"/mediation/cases/{c.pk}/")
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["This case has no agreement: record the agreement first."]


def test_filing_pack_page_matrix(case, client, login, mediator_a, mediator_b, mediation_manager):
    url = _en("mediation:filing_pack", kwargs={"case_id": case.pk})
    assert client.post(url, {"reason": "x"}).status_code == 302  # anonymous → login
    assert login(mediator_b).post(url, {"reason": "x"}).status_code == 404  # not visible
    assert login(mediator_a).post(url, {"reason": "x"}).status_code == 403  # visible, no permission
    assert login(mediator_a).get(url).status_code == 403
    client = login(mediation_manager)
    response = client.get(url)
    assert response.status_code == 200 and 'name="reason"' in response.content.decode()
    response = client.post(url, {"reason": " "})
    assert response.status_code == 422
    assert response.context["form"].errors["reason"] == [
        "Give the reason for exporting the parties' identity."
    ]
    assert not _events("mediation.filing_pack.exported")
    response = client.post(url, {"reason": "双方共同申请司法确认"})
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert response["Cache-Control"] == "no-store"
    assert len(zipfile.ZipFile(io.BytesIO(response.content)).namelist()) == 4
    (event,) = _events("mediation.filing_pack.exported")
    assert event.reason == "双方共同申请司法确认" and event.actor == mediation_manager
