"""The case pages (issue 5 §7): who may open which page (anonymous → login, outsiders → 404, in scope
without the right → 403), the case file's audit row, masked numbers, counselling notes for their author
only, and the desk's query count. The actions on the case file are in test_pages_actions.py."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from linjialin.core.models import AuditEvent
from linjialin.mediation.models import Case, CaseMember, CaseParty, Consent, TeamRole
from linjialin.mediation.services import cases


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


def parties(tree, resident_a=None):
    return [
        {
            "side": "applicant",
            "name": "张三",
            "mobile": "13800000001",
            "id_number": "11010519491231002X",
            "resident": tree.resident_a1,
            "user": resident_a,
        },
        {"side": "respondent", "name": "王五", "mobile": "13800000003"},
    ]


def register(actor, tree, resident_a=None, **kw) -> Case:
    values = {
        "source": "application",
        "title": "楼上漏水纠纷",
        "dispute_type": "neighbour",
        "place": tree.entrance_a,
        "facts": "楼上卫生间漏水，楼下天花板受损。",
        "parties": parties(tree, resident_a),
    }
    values.update(kw)
    return cases.register_case(actor, **values)


def accept(actor, case):
    for party in CaseParty.objects.filter(case=case):
        cases.record_consent(actor, case, party, consent=Consent.GIVEN, rights_told=True)
    return cases.accept_case(actor, case)


@pytest.fixture
def case(tree, mediator_a, resident_a):
    return register(mediator_a, tree, resident_a)


def url(name, *args):
    return reverse(f"mediation:{name}", args=args)


# --- who may open what -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["desk", "case_new", "apply", "my_cases"])
def test_anonymous_goes_to_login(client, tree, name):
    response = client.get(url(name))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_anonymous_case_pages_go_to_login(client, case):
    for target in (url("case", case.pk), url("my_case", case.pk), url("case_act", case.pk, "accept")):
        response = client.get(target) if "accept" not in target else client.post(target)
        assert response.status_code == 302 and reverse("accounts:login") in response["Location"]
    case.refresh_from_db()
    assert case.state == "registered"


def test_case_file_is_404_for_everyone_outside_the_case(
    case, login, outsider, grid_worker, entrance_leader_a, community_secretary, mediator_b, lawyer, resident_b
):
    for user in (
        outsider,
        grid_worker,
        entrance_leader_a,
        community_secretary,
        mediator_b,
        lawyer,
        resident_b,
    ):
        client = login(user)
        assert client.get(url("case", case.pk)).status_code == 404, user
        assert client.post(url("case_act", case.pk, "withdraw"), {"reason": "x"}).status_code == 404
    assert not AuditEvent.objects.filter(action="mediation.case.viewed").exists()
    case.refresh_from_db()
    assert case.state == "registered"


def test_case_file_opens_for_the_team_and_the_managers(case, login, mediator_a, mediation_manager):
    assert login(mediator_a).get(url("case", case.pk)).status_code == 200
    assert login(mediation_manager).get(url("case", case.pk)).status_code == 200


def test_a_party_is_sent_to_their_own_view(case, login, resident_a):
    response = login(resident_a).get(url("case", case.pk))
    assert response.status_code == 302 and response["Location"] == url("my_case", case.pk)
    assert login(resident_a).post(url("case_act", case.pk, "withdraw"), {"reason": "x"}).status_code == 404


def test_unknown_action_is_404(case, login, mediator_a):
    assert login(mediator_a).post(url("case_act", case.pk, "explode")).status_code == 404


def test_every_view_of_the_case_file_is_audited(case, login, mediator_a, mediation_manager):
    login(mediator_a).get(url("case", case.pk))
    login(mediation_manager).get(url("case", case.pk))
    rows = AuditEvent.objects.filter(action="mediation.case.viewed", object_id=str(case.pk))
    assert sorted(rows.values_list("actor_id", flat=True)) == sorted([mediator_a.pk, mediation_manager.pk])


def test_desk_needs_the_centres_work_or_manage(
    tree, login, resident_a, community_secretary, grid_worker, mediator_a, mediation_manager, lawyer
):
    for user in (resident_a, community_secretary, grid_worker):
        assert login(user).get(url("desk")).status_code == 403
        assert login(user).get(url("case_new")).status_code == 403
    for user in (mediator_a, mediation_manager, lawyer):
        assert login(user).get(url("desk")).status_code == 200
        assert login(user).get(url("case_new")).status_code == 200


def test_apply_is_for_residents(tree, login, resident_a, mediator_a, community_secretary):
    assert login(resident_a).get(url("apply")).status_code == 200
    assert login(mediator_a).get(url("apply")).status_code == 403
    assert login(community_secretary).get(url("apply")).status_code == 403


def test_party_view_only_for_the_cases_parties(
    case, login, resident_a, resident_b, mediator_a, mediation_manager
):
    assert login(resident_a).get(url("my_case", case.pk)).status_code == 200
    for user in (resident_b, mediator_a, mediation_manager):
        assert login(user).get(url("my_case", case.pk)).status_code == 404


def test_document_download_checks_the_case(case, login, mediator_a, outsider, resident_a):
    from django.core.files.uploadedfile import SimpleUploadedFile

    doc = cases.add_document(
        mediator_a,
        case,
        kind="investigation",
        upload=SimpleUploadedFile("调查笔录.pdf", b"%PDF-1.4 test", content_type="application/pdf"),
    )
    target = url("case_document", case.pk, doc.pk)
    response = login(mediator_a).get(target)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert response["Cache-Control"] == "private, no-store"
    viewed = AuditEvent.objects.filter(action="mediation.document.viewed")
    assert [(e.actor, e.after["document"]) for e in viewed] == [(mediator_a, doc.pk)]  # part of the file
    assert login(outsider).get(target).status_code == 404
    assert login(resident_a).get(target).status_code == 404  # parties do not get the case file
    assert viewed.count() == 1  # refused downloads are not recorded as views
    html = login(mediator_a).get(url("case", case.pk)).content.decode()
    assert target in html and "/media/" not in html


# --- what the pages show ---------------------------------------------------------------------------------
def test_numbers_are_masked_on_the_case_file(case, login, mediator_a):
    html = login(mediator_a).get(url("case", case.pk)).content.decode()
    assert "138****0001" in html and "1101**********002X" in html
    assert "13800000001" not in html and "11010519491231002X" not in html


def test_unmask_with_a_reason_shows_the_numbers_and_is_audited(case, login, mediator_a):
    party = case.parties.get(name="张三")
    client = login(mediator_a)
    response = client.post(url("case_unmask", case.pk), {"party": party.pk, "reason": ""})
    assert response.status_code == 422
    assert "13800000001" not in response.content.decode()
    assert not AuditEvent.objects.filter(action="mediation.party.unmasked").exists()

    response = client.post(
        url("case_unmask", case.pk),
        {"party": party.pk, "reason": "联系当事人约调解时间"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "13800000001" in html and "11010519491231002X" in html
    event = AuditEvent.objects.get(action="mediation.party.unmasked")
    assert (event.actor_id, event.object_id, event.reason) == (
        mediator_a.pk,
        str(party.pk),
        "联系当事人约调解时间",
    )


def test_unmask_of_another_cases_party_is_refused(tree, case, login, mediator_a, mediation_manager):
    other = register(mediation_manager, tree, title="另一起纠纷")
    foreign = other.parties.first()
    response = login(mediator_a).post(url("case_unmask", case.pk), {"party": foreign.pk, "reason": "看看"})
    assert response.status_code == 422
    assert not AuditEvent.objects.filter(action="mediation.party.unmasked").exists()


def test_counselling_notes_only_for_their_author(case, login, mediator_a, counsellor, mediation_manager):
    cases.add_member(mediator_a, case, user=counsellor, role=TeamRole.COUNSELLOR)
    cases.add_counselling_note(counsellor, case, text="当事人情绪焦虑，需要再次疏导")
    page = login(counsellor).get(url("case", case.pk)).content.decode()
    assert "当事人情绪焦虑" in page and 'id="counselling"' in page
    for user in (mediator_a, mediation_manager):
        page = login(user).get(url("case", case.pk)).content.decode()
        assert "当事人情绪焦虑" not in page and 'id="counselling"' not in page


def test_the_risk_flag_prompts_to_notify_the_police(tree, login, mediator_a):
    risky = register(mediator_a, tree, risk_flag=True, risk_note="双方曾动手")
    page = login(mediator_a).get(url("case", risky.pk)).content.decode()
    assert 'id="police-prompt"' in page and url("case_act", risky.pk, "police") in page
    cases.notify_police(mediator_a, risky, how="电话告知社区民警")
    page = login(mediator_a).get(url("case", risky.pk)).content.decode()
    assert 'id="police-prompt"' not in page and "电话告知社区民警" in page


def test_repeat_cases_link_only_those_the_viewer_may_see(tree, case, login, mediator_a, mediation_manager):
    again = cases.register_case(
        mediation_manager,
        source="application",
        title="又漏水了",
        dispute_type="neighbour",
        place=tree.entrance_a,
        facts="又漏水了",
        parties=parties(tree),
    )
    assert again.repeat_of.filter(pk=case.pk).exists()
    page = login(mediation_manager).get(url("case", again.pk)).content.decode()
    assert url("case", case.pk) in page and "repeat dispute" in page


def test_the_party_view_shows_no_minutes_and_no_other_numbers(case, login, mediator_a, resident_a):
    accept(mediator_a, case)
    cases.record_session(
        mediator_a,
        case,
        held_at=timezone.now(),
        location="调解室",
        public=False,
        attendees="张三、王五",
        minutes="王五承认漏水，愿意赔偿",
    )
    html = login(resident_a).get(url("my_case", case.pk)).content.decode()
    assert "楼上漏水纠纷" in html and "accepted, in mediation" in html
    assert "王五承认漏水" not in html
    assert "13800000003" not in html and "138****0003" not in html
    assert "mediation session held" in html  # the public event, without its minutes
    listing = login(resident_a).get(url("my_cases")).content.decode()
    assert url("my_case", case.pk) in listing and "accepted, in mediation" in listing


def test_a_team_member_without_the_right_gets_403(case, login, mediator_a, counsellor, lawyer):
    cases.add_member(mediator_a, case, user=counsellor, role=TeamRole.COUNSELLOR)
    response = login(counsellor).post(
        url("case_act", case.pk, "add_member"), {"user": lawyer.pk, "role": "lawyer"}
    )
    assert response.status_code == 403
    assert not CaseMember.objects.filter(case=case, user=lawyer).exists()
    page = login(counsellor).get(url("case", case.pk)).content.decode()
    assert 'id="act-add_member"' not in page  # the page does not offer it either


# --- the desk -------------------------------------------------------------------------------------------
def test_desk_queues_and_rows(tree, case, login, mediator_a, mediation_manager):
    late = register(mediator_a, tree, title="物业费纠纷", dispute_type="property_mgmt")
    accept(mediator_a, late)
    Case.objects.filter(pk=late.pk).update(due_on=timezone.localdate() - timezone.timedelta(days=3))
    client = login(mediation_manager)
    page = client.get(url("desk")).content.decode()
    assert case.number in page and 'id="tab-overdue"' in page
    page = client.get(url("desk") + "?tab=overdue").content.decode()
    assert late.number in page and "3 days overdue" in page and case.number not in page
    page = client.get(url("desk") + "?tab=mediation&type=neighbour").content.decode()
    assert late.number not in page
    page = client.get(url("desk") + "?tab=mine").content.decode()
    assert case.number not in page  # the manager is on no team
    page = login(mediator_a).get(url("desk") + "?tab=mine").content.decode()
    assert case.number in page and late.number in page


def test_desk_query_count_is_capped(tree, login, mediator_a, mediation_manager):
    for i in range(3):
        register(mediator_a, tree, title=f"纠纷{i}")
    client = login(mediation_manager)
    client.get(url("desk"))  # warm the per-process caches (rules, scope)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url("desk")).status_code == 200
    for i in range(12):
        register(mediator_a, tree, title=f"更多纠纷{i}")
    with CaptureQueriesContext(connection) as many:
        assert client.get(url("desk")).status_code == 200
    assert len(many) == len(few)
    assert len(many) <= 25


def test_agreement_documents_and_the_filing_pack_form(case, login, mediator_a, mediation_manager):
    accept(mediator_a, case)
    p = list(case.parties.all())
    today = timezone.localdate()
    cases.record_agreement(
        mediator_a,
        case,
        written=True,
        facts="楼上漏水致楼下受损",
        terms="楼上赔偿800元",
        performance="十日内现金支付",
        signed_on=today,
        signatures={party.pk: today for party in p},
        sealed_on=today,
        items=[{"party": p[1], "duty": "赔偿800元", "how": "现金", "where": "调解室", "due_on": today}],
    )
    pack = url("filing_pack", case.pk)
    page = login(mediator_a).get(url("case", case.pk)).content.decode()
    assert url("agreement_pdf", case.pk) in page and url("agreement_docx", case.pk) in page
    assert pack not in page  # the team member has no sensitive-export permission
    page = login(mediation_manager).get(url("case", case.pk)).content.decode()
    assert pack in page and 'name="reason"' in page
