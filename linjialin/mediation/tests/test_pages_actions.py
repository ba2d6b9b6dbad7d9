"""The forms of the case pages through HTTP: registering a case, a resident's application, and each
action on the case file — the happy path (the change, its audit row, the redirect with a message) and
bad input (422, the message next to the field, nothing written)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from linjialin.core.calendar import period_end_days, period_end_months
from linjialin.core.models import AuditEvent
from linjialin.mediation.models import (
    Agreement,
    Case,
    CaseDocument,
    CaseMember,
    CaseParty,
    Consent,
    CounsellingNote,
    Court,
    CourtConfirmation,
    Extension,
    FollowUp,
    MediationSession,
    PreventionTask,
    TeamRole,
)
from linjialin.mediation.services import cases

from .test_pages import _english_and_media, accept, parties, register, url  # noqa: F401

TODAY = timezone.localdate


@pytest.fixture
def case(tree, mediator_a, resident_a):
    return register(mediator_a, tree, resident_a)


@pytest.fixture
def accepted(case, mediator_a):
    return accept(mediator_a, case)


@pytest.fixture
def agreed(accepted, mediator_a):
    p = list(accepted.parties.all())
    cases.record_agreement(
        mediator_a,
        accepted,
        written=True,
        facts="楼上漏水致楼下受损",
        terms="楼上维修并赔偿800元",
        performance="十日内完成",
        signed_on=TODAY(),
        signatures={party.pk: TODAY() for party in p},
        sealed_on=TODAY(),
        items=[{"party": p[1], "duty": "赔偿800元", "how": "现金", "where": "调解室", "due_on": TODAY()}],
    )
    accepted.refresh_from_db()
    return accepted


def audited(action: str, actor) -> bool:
    return AuditEvent.objects.filter(action=action, actor=actor).exists()


def follow_message(response) -> str:
    return " ".join(str(m) for m in response.context["messages"]) if response.context else ""


# --- registering a case ---------------------------------------------------------------------------------
def case_post(tree, **kw):
    data = {
        "dispute_type": "neighbour",
        "source": "application",
        "referred_by": "",
        "referring_body": "",
        "title": "噪音纠纷",
        "place": tree.entrance_a.pk,
        "location": "1单元",
        "facts": "楼上夜间噪音",
        "dispute_items": "",
        "party-TOTAL_FORMS": "4",
        "party-INITIAL_FORMS": "2",
        "party-MIN_NUM_FORMS": "0",
        "party-MAX_NUM_FORMS": "20",
        "party-0-side": "applicant",
        "party-0-kind": "person",
        "party-0-name": "张三",
        "party-0-mobile": "13800000001",
        "party-1-side": "respondent",
        "party-1-kind": "person",
        "party-1-name": "王五",
        "party-1-mobile": "",
    }
    for i in (2, 3):
        data[f"party-{i}-side"] = "applicant"
        data[f"party-{i}-kind"] = "person"
    data.update(kw)
    return data


def test_register_a_case_with_its_parties(tree, login, mediator_a):
    response = login(mediator_a).post(url("case_new"), case_post(tree))
    case = Case.objects.get(title="噪音纠纷")
    assert response.status_code == 302 and response["Location"] == url("case", case.pk)
    assert sorted(case.parties.values_list("name", "side")) == [("张三", "applicant"), ("王五", "respondent")]
    assert case.team.filter(user=mediator_a, lead=True).exists()
    assert audited("mediation.case.registered", mediator_a)


def test_register_a_referral_needs_who_referred(tree, login, mediator_a):
    response = login(mediator_a).post(url("case_new"), case_post(tree, source="referral"))
    assert response.status_code == 422
    assert response.context["form"].errors["referred_by"]
    assert not Case.objects.exists()
    response = login(mediator_a).post(
        url("case_new"), case_post(tree, source="referral", referred_by="police", referring_body="通运派出所")
    )
    case = Case.objects.get()
    assert (case.source, case.referred_by, case.referring_body) == ("referral", "police", "通运派出所")


@pytest.mark.parametrize(
    "bad, where",
    [
        ({"party-1-name": "", "party-1-side": "applicant"}, "party-1-name"),
        ({"party-0-mobile": "12345"}, "party-0-mobile"),
        ({"title": ""}, "title"),
        ({"place": "999999"}, "place"),
    ],
)
def test_register_bad_input_writes_nothing(tree, login, mediator_a, bad, where):
    response = login(mediator_a).post(url("case_new"), case_post(tree, **bad))
    assert response.status_code == 422
    html = response.content.decode()
    assert "invalid-feedback" in html or "alert-danger" in html
    if where.startswith("party-"):
        index, field = where.split("-")[1:]
        assert response.context["parties"].forms[int(index)].errors[field]
    else:
        assert response.context["form"].errors[where]
    assert not Case.objects.exists() and not CaseParty.objects.exists()


def test_a_place_outside_the_users_scope_is_not_offered(tree, login, mediator_a):
    response = login(mediator_a).post(url("case_new"), case_post(tree, place=tree.entrance_x.pk))
    assert response.status_code == 422 and response.context["form"].errors["place"]
    assert not Case.objects.exists()


def test_register_with_the_risk_flag_then_notify_the_police(tree, login, mediator_a):
    client = login(mediator_a)
    response = client.post(
        url("case_new"), case_post(tree, risk_flag="on", risk_note="曾发生推搡"), follow=True
    )
    case = Case.objects.get()
    assert case.risk_flag and "notify the police" in follow_message(response)
    assert 'id="police-prompt"' in response.content.decode()
    response = client.post(url("case_act", case.pk, "police"), {"how": ""})
    assert response.status_code == 422
    case.refresh_from_db()
    assert case.police_notified_at is None
    response = client.post(url("case_act", case.pk, "police"), {"how": "电话告知社区民警王警官"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.police_notified_at and case.police_notice == "电话告知社区民警王警官"
    assert audited("mediation.case.police_notified", mediator_a)


# --- the resident's application ------------------------------------------------------------------------
def apply_post(**kw):
    data = {
        "dispute_type": "neighbour",
        "title": "楼上漏水",
        "facts": "楼上卫生间漏水到我家",
        "other_party_name": "王五",
        "other_party_mobile": "",
        "client_token": "tok-1",
    }
    data.update(kw)
    return data


def test_apply_makes_one_case_even_on_a_double_tap(tree, login, resident_a):
    client = login(resident_a)
    page = client.get(url("apply")).content.decode()
    assert "free of charge" in page and 'name="client_token"' in page
    first = client.post(url("apply"), apply_post())
    second = client.post(url("apply"), apply_post())
    case = Case.objects.get()
    assert first["Location"] == second["Location"] == url("apply_done", case.pk)
    assert case.source == "application" and case.parties.filter(user=resident_a, side="applicant").exists()
    done = client.get(url("apply_done", case.pk)).content.decode()
    assert case.number in done and "What happens next" in done
    assert url("my_case", case.pk) in client.get(url("my_cases")).content.decode()


def test_apply_bad_input_says_what_is_missing(tree, login, resident_a):
    client = login(resident_a)
    response = client.post(url("apply"), apply_post(other_party_name="", dispute_type="", client_token="t2"))  # noqa: S106
    assert response.status_code == 422
    form = response.context["form"]
    assert form.errors["other_party_name"] == ["Give the other side's name."]
    assert form.errors["dispute_type"] == ["Choose what the dispute is about."]
    response = client.post(url("apply"), apply_post(other_party_mobile="123", client_token="t3"))  # noqa: S106
    assert response.status_code == 422 and response.context["form"].errors["other_party_mobile"]
    assert not Case.objects.exists()


def test_apply_done_is_only_for_the_applicant(tree, login, resident_a, resident_b):
    login(resident_a).post(url("apply"), apply_post())
    case = Case.objects.get()
    assert login(resident_b).get(url("apply_done", case.pk)).status_code == 404


def test_home_page_links_the_application(tree, login, resident_a):
    assert url("apply") in login(resident_a).get(reverse("home")).content.decode()


# --- consent, acceptance, refusal, withdrawal -----------------------------------------------------------
def test_consent_of_both_parties_then_accept(case, login, mediator_a):
    client = login(mediator_a)
    response = client.post(url("case_act", case.pk, "accept"))
    assert response.status_code == 422 and "Still waiting for the consent" in response.content.decode()
    case.refresh_from_db()
    assert case.state == "registered"
    for party in case.parties.all():
        response = client.post(
            url("case_act", case.pk, "consent"),
            {"party": party.pk, "rights_told": "on", "consent": "given", "note": "当面告知"},
        )
        assert response.status_code == 302
    assert set(case.parties.values_list("consent", flat=True)) == {Consent.GIVEN}
    response = client.post(url("case_act", case.pk, "accept"), follow=True)
    case.refresh_from_db()
    assert case.state == "accepted" and case.due_on == period_end_months(TODAY(), 1)
    assert "one-month limit" in follow_message(response)
    assert audited("mediation.case.accepted", mediator_a)
    # accepting again: the state no longer allows it, a clear message and nothing changes
    response = client.post(url("case_act", case.pk, "accept"), follow=True)
    assert "not possible" in follow_message(response)


def test_consent_bad_input_writes_nothing(case, login, mediator_a):
    party = case.parties.first()
    response = login(mediator_a).post(url("case_act", case.pk, "consent"), {"party": party.pk, "consent": ""})
    assert response.status_code == 422 and 'id="consent-consent-error"' in response.content.decode()
    party.refresh_from_db()
    assert party.consent == Consent.PENDING
    assert not audited("mediation.party.consent", mediator_a)


def test_a_party_refusing_ends_the_case_as_not_accepted(case, login, mediator_a):
    party = case.parties.get(name="王五")
    login(mediator_a).post(
        url("case_act", case.pk, "consent"),
        {"party": party.pk, "rights_told": "on", "consent": "refused", "note": "不愿调解"},
    )
    case.refresh_from_db()
    assert case.state == "not_accepted"


def test_refuse_and_withdraw(tree, case, login, mediator_a):
    client = login(mediator_a)
    assert client.post(url("case_act", case.pk, "refuse"), {"reason": ""}).status_code == 422
    client.post(url("case_act", case.pk, "refuse"), {"reason": "属于法院受理范围", "referral": "区法院"})
    case.refresh_from_db()
    assert case.state == "not_accepted" and audited("mediation.case.not_accepted", mediator_a)
    other = register(mediator_a, tree, title="另一起")
    assert client.post(url("case_act", other.pk, "withdraw"), {"reason": ""}).status_code == 422
    client.post(url("case_act", other.pk, "withdraw"), {"reason": "双方已自行和解"})
    other.refresh_from_db()
    assert other.state == "withdrawn" and audited("mediation.case.withdrawn", mediator_a)


# --- the team -------------------------------------------------------------------------------------------
def test_add_and_remove_a_member_and_an_objection(
    case, login, mediator_a, lawyer, counsellor, mediation_manager
):
    client = login(mediator_a)
    page = client.get(url("case", case.pk)).content.decode()
    assert f'value="{lawyer.pk}"' in page  # the picker offers staff with mediation.work over the place
    assert client.post(url("case_act", case.pk, "add_member"), {"user": lawyer.pk}).status_code == 422
    assert not CaseMember.objects.filter(case=case, user=lawyer).exists()
    client.post(url("case_act", case.pk, "add_member"), {"user": lawyer.pk, "role": "lawyer"})
    member = CaseMember.objects.get(case=case, user=lawyer, ended_at__isnull=True)
    assert audited("mediation.member.added", mediator_a)

    party = case.parties.get(name="王五")
    response = client.post(
        url("case_act", case.pk, "objection"),
        {"party": party.pk, "member": member.pk, "reason": "", "replacement": counsellor.pk},
    )
    assert response.status_code == 422
    client.post(
        url("case_act", case.pk, "objection"),
        {
            "party": party.pk,
            "member": member.pk,
            "reason": "律师与对方当事人是亲戚",
            "replacement": mediation_manager.pk,
            "role": "mediator",
        },
    )
    member.refresh_from_db()
    assert member.ended_at is not None
    assert case.objections.filter(member=member, party=party).exists()
    assert CaseMember.objects.filter(case=case, user=mediation_manager, ended_at__isnull=True).exists()

    added = cases.add_member(mediator_a, case, user=counsellor, role=TeamRole.COUNSELLOR)
    assert client.post(url("case_act", case.pk, "remove_member"), {"member": added.pk}).status_code == 422
    client.post(url("case_act", case.pk, "remove_member"), {"member": added.pk, "reason": "工作调整"})
    added.refresh_from_db()
    assert added.ended_at is not None and audited("mediation.member.removed", mediator_a)


# --- sessions, documents, counselling notes, extension --------------------------------------------------
def test_record_a_session(accepted, login, mediator_a):
    client = login(mediator_a)
    data = {"held_at": "not a date", "location": "调解室", "attendees": "张三\n王五", "minutes": "双方陈述"}
    response = client.post(url("case_act", accepted.pk, "session"), data)
    assert response.status_code == 422 and response.context["forms"]["session"].errors["held_at"]
    assert not MediationSession.objects.exists()
    held = (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    client.post(url("case_act", accepted.pk, "session"), {**data, "held_at": held, "public": ""})
    session = MediationSession.objects.get()
    assert (session.location, session.public, session.minutes) == ("调解室", False, "双方陈述")
    assert audited("mediation.session.recorded", mediator_a)
    assert "双方陈述" in client.get(url("case", accepted.pk)).content.decode()


def test_upload_a_document(case, login, mediator_a):
    client = login(mediator_a)
    response = client.post(url("case_act", case.pk, "document"), {"kind": "investigation"})
    assert response.status_code == 422 and response.context["forms"]["document"].errors["upload"]
    upload = SimpleUploadedFile("调查笔录.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    response = client.post(url("case_act", case.pk, "document"), {"kind": "investigation", "upload": upload})
    assert response.status_code == 302
    doc = CaseDocument.objects.get()
    assert doc.kind == "investigation" and audited("mediation.document.added", mediator_a)
    fake = SimpleUploadedFile("virus.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    response = client.post(url("case_act", case.pk, "document"), {"kind": "other", "upload": fake})
    assert response.status_code == 422 and CaseDocument.objects.count() == 1


def test_counselling_note_by_the_counsellor_only(case, login, mediator_a, counsellor):
    cases.add_member(mediator_a, case, user=counsellor, role=TeamRole.COUNSELLOR)
    response = login(mediator_a).post(url("case_act", case.pk, "counselling"), {"text": "我来写"})
    assert response.status_code == 403 and not CounsellingNote.objects.exists()
    client = login(counsellor)
    assert client.post(url("case_act", case.pk, "counselling"), {"text": ""}).status_code == 422
    client.post(url("case_act", case.pk, "counselling"), {"text": "疏导后情绪稳定"})
    assert CounsellingNote.objects.get().counsellor == counsellor


def test_extend_the_limit(accepted, login, mediator_a):
    client = login(mediator_a)
    data = {"days": "", "reason": "需要鉴定", "consent_note": "双方书面同意"}
    assert client.post(url("case_act", accepted.pk, "extend"), data).status_code == 422
    client.post(url("case_act", accepted.pk, "extend"), {**data, "days": "15"})
    accepted.refresh_from_db()
    # one calendar month from acceptance, then 15 days, each end moved off a rest day
    assert accepted.due_on == period_end_days(period_end_months(TODAY(), 1), 15)
    assert Extension.objects.get().consent_note == "双方书面同意"


# --- outcomes -------------------------------------------------------------------------------------------
def agreement_post(case, **kw):
    p = list(case.parties.all())
    data = {
        "written": "1",
        "facts": "楼上漏水致楼下受损",
        "terms": "楼上维修并赔偿800元",
        "performance": "十日内在调解室现金支付",
        "signed_on": TODAY().isoformat(),
        "sealed_on": TODAY().isoformat(),
        **{f"signed_{party.pk}": TODAY().isoformat() for party in p},
        "copies": "3",
        "item-TOTAL_FORMS": "3",
        "item-INITIAL_FORMS": "0",
        "item-MIN_NUM_FORMS": "0",
        "item-MAX_NUM_FORMS": "20",
        "item-0-party": p[1].pk,
        "item-0-duty": "赔偿800元",
        "item-0-how": "现金",
        "item-0-where": "调解室",
        "item-0-due_on": (TODAY() + timedelta(days=10)).isoformat(),
    }
    data.update(kw)
    return data


def test_record_the_agreement(accepted, login, mediator_a):
    client = login(mediator_a)
    bad = agreement_post(accepted, **{"item-0-party": "", "item-0-duty": "", "item-0-due_on": ""})
    bad.update({"item-0-how": "", "item-0-where": ""})
    response = client.post(url("case_act", accepted.pk, "agreement"), bad)
    assert response.status_code == 422 and "at least one duty" in response.content.decode()
    assert not Agreement.objects.exists()
    response = client.post(url("case_act", accepted.pk, "agreement"), agreement_post(accepted))
    assert response.status_code == 302
    accepted.refresh_from_db()
    assert accepted.state == "agreed"
    assert list(accepted.agreement.items.values_list("duty", flat=True)) == ["赔偿800元"]
    assert FollowUp.objects.filter(case=accepted).exists()
    assert audited("mediation.agreement.recorded", mediator_a)
    page = client.get(url("case", accepted.pk)).content.decode()
    assert 'id="court"' in page and "Apply to the court by" in page


def test_record_no_agreement(accepted, login, mediator_a):
    client = login(mediator_a)
    assert client.post(url("case_act", accepted.pk, "fail"), {"channel": ""}).status_code == 422
    client.post(url("case_act", accepted.pk, "fail"), {"channel": "court", "detail": "建议起诉"})
    accepted.refresh_from_db()
    assert (accepted.state, accepted.referral_channel) == ("failed", "court")


def test_court_application_and_steps(agreed, login, mediator_a):
    client = login(mediator_a)
    response = client.post(url("case_act", agreed.pk, "court_apply"), {"court": "", "applied_on": ""})
    assert response.status_code == 422 and not CourtConfirmation.objects.exists()
    tongzhou = Court.objects.get(name="北京市通州区人民法院")
    client.post(
        url("case_act", agreed.pk, "court_apply"),
        {
            "court": tongzhou.pk,
            "applied_on": TODAY(),
            **{f"consent_{p.pk}": TODAY().isoformat() for p in agreed.parties.all()},
        },
    )
    court = CourtConfirmation.objects.get()
    assert court.chosen_court == tongzhou and court.consents.count() == agreed.parties.count()
    assert court.state == "applied"
    response = client.post(url("case_act", agreed.pk, "court_step"), {"state": "confirmed", "on": TODAY()})
    assert response.status_code == 302  # not from "applied": a clear message
    court.refresh_from_db()
    assert court.state == "applied"
    client.post(url("case_act", agreed.pk, "court_step"), {"state": "accepted", "on": TODAY()})
    court.refresh_from_db()
    assert court.state == "accepted" and court.accepted_on == TODAY()
    page = client.get(url("case", agreed.pk)).content.decode()
    decide_by = period_end_days(TODAY(), 30)  # 民事诉讼法 第一百八十七条: 30 days from acceptance
    assert "The court decides by" in page and f"{(decide_by - TODAY()).days} days left" in page


def test_record_a_followup_visit(agreed, login, mediator_a):
    client = login(mediator_a)
    visit = FollowUp.objects.filter(case=agreed).order_by("due_on").first()
    item = agreed.agreement.items.get()
    response = client.post(
        url("case_act", agreed.pk, "followup"), {"followup": visit.pk, "performance": "performed"}
    )
    assert response.status_code == 422
    visit.refresh_from_db()
    assert visit.done_at is None
    client.post(
        url("case_act", agreed.pk, "followup"),
        {"followup": visit.pk, "performance": "performed", "note": "已赔偿", "performed_items": [item.pk]},
    )
    visit.refresh_from_db()
    item.refresh_from_db()
    assert visit.done_at and visit.performance == "performed" and item.performed_at
    assert audited("mediation.followup.recorded", mediator_a)


def test_close_with_the_lesson_and_tasks(agreed, login, mediator_a, lawyer):
    client = login(mediator_a)
    due = (TODAY() + timedelta(days=14)).isoformat()
    data = {
        "lesson": "",
        "task-TOTAL_FORMS": "3",
        "task-INITIAL_FORMS": "0",
        "task-MIN_NUM_FORMS": "0",
        "task-MAX_NUM_FORMS": "3",
        "task-0-kind": "talk",
        "task-0-title": "楼门防水知识宣讲",
        "task-0-due_on": due,
        "task-0-owner": mediator_a.pk,
        "task-1-kind": "repair",
        "task-1-title": "",
        "task-1-due_on": "",
    }
    response = client.post(url("case_act", agreed.pk, "close"), data)
    assert response.status_code == 422
    form = response.context["forms"]["close"]
    assert form.form.errors["lesson"] and form.formset.forms[1].errors["title"]
    agreed.refresh_from_db()
    assert agreed.state == "agreed" and not PreventionTask.objects.exists()
    data.update({"lesson": "老楼防水问题需要提前排查", "task-1-kind": ""})
    response = client.post(url("case_act", agreed.pk, "close"), data)
    assert response.status_code == 302
    agreed.refresh_from_db()
    assert agreed.state == "closed" and agreed.lesson == "老楼防水问题需要提前排查"
    assert list(PreventionTask.objects.values_list("title", "kind")) == [("楼门防水知识宣讲", "talk")]
    assert audited("mediation.case.closed", mediator_a)
