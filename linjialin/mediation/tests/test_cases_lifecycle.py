"""A case through services.cases: the whole loop (register → consent → accept → sessions → agreement →
court confirmation → follow-ups → closed with the lesson and re-prevention tasks), the refusal,
no-agreement and withdrawal paths, every illegal transition, and the audit event of each write."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation
from django.utils.translation import gettext

from linjialin.core.calendar import period_end_days, period_end_months
from linjialin.core.models import AuditEvent
from linjialin.core.workflow import TransitionNotAllowed
from linjialin.mediation import selectors
from linjialin.mediation.models import (
    AgreementItem,
    Case,
    CaseEvent,
    CaseMember,
    CaseParty,
    CaseState,
    Consent,
    CourtConfirmation,
    FollowUp,
    PreventionTask,
)
from linjialin.mediation.services import cases
from linjialin.mediation.workflow import workflow
from linjialin.notifications.models import Notification

from .test_cases_fixtures import (  # noqa: F401  (fixtures)
    _english,
    accept,
    accepted_fixture,
    agree,
    apply_to_court,
    case_fixture,
    consent_all,
    register,
)

S = CaseState


def actions(case):
    return list(
        AuditEvent.objects.filter(after__case=case.pk).order_by("seq").values_list("action", flat=True)
    )


def kinds(case, public=None):
    qs = CaseEvent.objects.filter(case=case)
    if public is not None:
        qs = qs.filter(public=public)
    return list(qs.values_list("kind", flat=True))


def test_the_whole_loop_from_registration_to_closing(
    tree, mediator_a, lawyer, counsellor, mediation_manager, resident_a
):
    start = timezone.now()
    d0 = timezone.localdate()

    def later(days):
        return time_machine.travel(start + timedelta(days=days), tick=False)

    case = register(mediator_a, tree, resident_a)
    assert case.state == S.REGISTERED and case.number == f"T{d0.year}-{case.pk:05d}"
    lead = CaseMember.objects.get(case=case)
    assert (lead.user, lead.lead, lead.role) == (mediator_a, True, "mediator")
    cases.add_member(mediator_a, case, user=lawyer, role="lawyer")
    cases.add_member(mediation_manager, case, user=counsellor, role="counsellor")
    consent_all(mediator_a, case)
    cases.accept_case(mediator_a, case)
    case.refresh_from_db()
    assert case.state == S.ACCEPTED and case.accepted_at and case.due_on == period_end_months(d0, 1)

    with later(8):
        session_held = timezone.now() - timedelta(hours=2)  # just after midnight in Beijing: the day before
        cases.record_session(
            lawyer,
            case,
            held_at=session_held,
            location="调解室",
            public=False,
            attendees="张三、王五、调解员甲、律师",
            minutes="双方陈述，律师释法。",
        )
        agreement = agree(mediator_a, case)
        assert case.state == S.AGREED and case.outcome == "written"
        assert agreement.effective_on == d0 + timedelta(days=8)
        assert list(FollowUp.objects.filter(case=case).values_list("due_on", flat=True)) == [
            agreement.effective_on + timedelta(days=d) for d in (7, 30, 90)
        ]
        apply_to_court(mediator_a, case, timezone.localdate())
        cases.record_court_step(mediator_a, case, state="accepted", on=timezone.localdate())

    with later(16):
        court = cases.record_court_step(
            lawyer, case, state="confirmed", on=timezone.localdate(), note="裁定有效"
        )
        assert (court.state, court.decided_on) == ("confirmed", d0 + timedelta(days=16))
        first, second, third = FollowUp.objects.filter(case=case)
        cases.record_followup(lawyer, first, performance="in_progress", note="维修已开始")

    with later(40):
        cases.record_followup(mediator_a, second, performance="lapsed", note="赔偿款未付")
        prompt = PreventionTask.objects.get(case=case, kind="prompt")
        assert prompt.owner == mediator_a and prompt.followup == second and prompt.state == "open"
        assert Notification.objects.filter(user=lawyer, kind="mediation.followup.lapsed").exists()
        cases.close_case(
            mediator_a,
            case,
            lesson="老旧楼房防水问题多发，应提前排查。",
            tasks=[
                {
                    "kind": "talk",
                    "title": "楼门防水知识讲座",
                    "due_on": timezone.localdate() + timedelta(days=14),
                },
                {
                    "kind": "house_rule",
                    "title": "楼门公约增加装修防水条款",
                    "due_on": timezone.localdate() + timedelta(days=30),
                    "owner": mediator_a,
                },
            ],
        )
        case.refresh_from_db()
        assert case.state == S.CLOSED and case.closed_at and case.lesson.startswith("老旧楼房")
        assert set(PreventionTask.objects.filter(case=case).values_list("kind", flat=True)) == {
            "prompt",
            "talk",
            "house_rule",
        }

    with later(100):  # the last visit after closing
        cases.record_followup(lawyer, third, performance="performed", note="全部履行完毕")
        assert AgreementItem.objects.filter(agreement__case=case, performed_at__isnull=False).count() == 2

    assert kinds(case, public=True) == [
        "registered",
        "accepted",
        "session",
        "agreement",
        "court_applied",
        "court_accepted",
        "court_confirmed",
        "closed",
    ]
    session_event = CaseEvent.objects.get(case=case, kind="session")
    held_on = timezone.localtime(session_held).date()  # the local (Beijing) day it was held
    assert session_event.note == "" and session_event.data["date"] == str(held_on)  # date only
    assert actions(case) == [
        "mediation.case.registered",
        "mediation.member.added",
        "mediation.member.added",
        "mediation.party.consent",
        "mediation.party.consent",
        "mediation.case.accepted",
        "mediation.session.recorded",
        "mediation.agreement.recorded",
        "mediation.court.applied",
        "mediation.court.step",
        "mediation.court.step",
        "mediation.followup.recorded",
        "mediation.followup.recorded",
        "mediation.case.closed",
        "mediation.followup.recorded",
    ]
    # the parties with an account were told of the public steps
    assert Notification.objects.filter(user=resident_a, kind="mediation.case.accepted").exists()
    assert Notification.objects.filter(user=resident_a, kind="mediation.case.closed").exists()


# --- voluntariness --------------------------------------------------------------------------------
def test_accepting_needs_every_partys_consent_and_names_who_is_missing(case, mediator_a):
    zhang, wang = CaseParty.objects.filter(case=case)
    cases.record_consent(mediator_a, case, zhang, consent="given", rights_told=True)
    with pytest.raises(ValidationError, match="王五") as exc:
        cases.accept_case(mediator_a, case)
    assert "张三" not in str(exc.value)
    cases.record_consent(mediator_a, case, wang, consent="pending", rights_told=True)  # told, not yet asked
    with pytest.raises(ValidationError, match="王五"):
        cases.accept_case(mediator_a, case)
    case.refresh_from_db()
    assert case.state == S.REGISTERED and case.accepted_at is None
    assert "mediation.case.accepted" not in actions(case)


def test_consent_without_being_told_the_rights_is_refused(case, mediator_a):
    zhang = CaseParty.objects.filter(case=case).first()
    with pytest.raises(ValidationError) as exc:
        cases.record_consent(mediator_a, case, zhang, consent="given", rights_told=False)
    assert "rights_told" in exc.value.message_dict
    zhang.refresh_from_db()
    assert zhang.consent == Consent.PENDING


def test_a_party_refusing_ends_the_case_as_not_accepted_with_the_reason(case, mediator_a, resident_a):
    wang = CaseParty.objects.get(case=case, name="王五")
    with pytest.raises(ValidationError, match="why"):
        cases.record_consent(mediator_a, case, wang, consent="refused", rights_told=True, note="")
    cases.record_consent(mediator_a, case, wang, consent="refused", rights_told=True, note="坚持起诉")
    case.refresh_from_db()
    assert case.state == S.NOT_ACCEPTED and case.outcome == "not_accepted" and "坚持起诉" in case.outcome_note
    assert case.ended_at is not None
    assert "not_accepted" in kinds(case, public=True)
    assert Notification.objects.filter(user=resident_a, kind="mediation.case.not_accepted").exists()
    with pytest.raises(TransitionNotAllowed):
        cases.accept_case(mediator_a, case)


def test_refuse_and_withdraw_paths(tree, mediator_a, mediation_manager):
    refused = register(mediator_a, tree)
    with pytest.raises(ValidationError):
        cases.refuse_case(mediator_a, refused, reason=" ")
    cases.refuse_case(mediator_a, refused, reason="属于刑事案件", referral="派出所")
    refused.refresh_from_db()
    assert (refused.state, refused.referral_detail) == (S.NOT_ACCEPTED, "派出所")

    withdrawn = register(mediator_a, tree)
    accept(mediator_a, withdrawn)
    cases.withdraw_case(mediation_manager, withdrawn, reason="双方自行和解")
    withdrawn.refresh_from_db()
    assert withdrawn.state == S.WITHDRAWN and withdrawn.outcome == "withdrawn"
    assert actions(refused)[-1] == "mediation.case.not_accepted"
    assert actions(withdrawn)[-1] == "mediation.case.withdrawn"
    assert "withdrawn" in kinds(withdrawn, public=True)


def test_no_agreement_records_the_referral_then_closes(accepted, mediator_a):
    with pytest.raises(ValidationError):
        cases.record_failure(mediator_a, accepted, channel="nowhere")
    cases.record_failure(mediator_a, accepted, channel="court", detail="通州区人民法院", note="分歧过大")
    accepted.refresh_from_db()
    assert (accepted.state, accepted.outcome, accepted.referral_channel) == (
        S.FAILED,
        "no_agreement",
        "court",
    )
    with pytest.raises(ValidationError, match="lesson"):
        cases.close_case(mediator_a, accepted, lesson="")
    cases.close_case(mediator_a, accepted, lesson="涉及金额较大的纠纷尽早引入律师")
    accepted.refresh_from_db()
    assert accepted.state == S.CLOSED
    assert actions(accepted)[-2:] == ["mediation.case.failed", "mediation.case.closed"]


# --- illegal transitions --------------------------------------------------------------------------
def test_every_transition_from_a_state_that_does_not_allow_it_is_refused(tree, mediator_a, mediation_manager):
    """Each service that moves the case, tried from each state it does not start from."""
    today = timezone.localdate()
    calls = {
        "accept": lambda c: cases.accept_case(mediation_manager, c),
        "refuse": lambda c: cases.refuse_case(mediation_manager, c, reason="x"),
        "agree": lambda c: agree(mediation_manager, c),
        "fail": lambda c: cases.record_failure(mediation_manager, c, channel="court"),
        "withdraw": lambda c: cases.withdraw_case(mediation_manager, c, reason="x"),
        "close": lambda c: cases.close_case(mediation_manager, c, lesson="x"),
    }
    for state in S.values:
        c = register(mediator_a, tree)
        Case.objects.filter(pk=c.pk).update(state=state, due_on=today)
        c.refresh_from_db()
        for name, call in calls.items():
            if state in workflow[name].sources:
                continue
            with pytest.raises(TransitionNotAllowed, match="not possible"):
                call(c)
            assert Case.objects.get(pk=c.pk).state == state
    # the services outside the transition table check the state too
    c = register(mediator_a, tree)
    with pytest.raises(TransitionNotAllowed):
        cases.record_session(
            mediator_a, c, held_at=timezone.now(), location="x", public=False, attendees="x", minutes="x"
        )
    with pytest.raises(TransitionNotAllowed):
        cases.extend_case(mediator_a, c, days=10, reason="x", consent_note="x")
    with pytest.raises(TransitionNotAllowed):
        apply_to_court(mediator_a, c, today)


def test_who_may_act_follows_the_table(case, mediator_a, mediator_b, lawyer, mediation_manager, resident_a):
    consent_all(mediator_a, case)
    cases.add_member(mediator_a, case, user=lawyer, role="lawyer")
    with pytest.raises(TransitionNotAllowed, match="may not"):
        cases.accept_case(lawyer, case)  # a member, not the lead
    with pytest.raises(TransitionNotAllowed):
        cases.accept_case(mediator_b, case)  # another community's mediator
    with pytest.raises(PermissionDenied):
        cases.add_member(lawyer, case, user=mediator_b, role="mediator")  # members do not change the team
    with pytest.raises(PermissionDenied):
        cases.record_consent(resident_a, case, case.parties.first(), consent="given", rights_told=True)
    cases.accept_case(mediation_manager, case)
    with pytest.raises(TransitionNotAllowed):
        cases.close_case(lawyer, case, lesson="x")


# --- the team -------------------------------------------------------------------------------------
def test_an_objection_replaces_the_member_and_moves_the_lead(tree, case, mediator_a, mediation_manager):
    other = __import__("linjialin.testing.plugin", fromlist=["make_user"]).make_user(
        "13700000031", "调解员丙", "mediator", tree.community_1
    )
    zhang = CaseParty.objects.get(case=case, name="张三")
    lead = CaseMember.objects.get(case=case, user=mediator_a)
    with pytest.raises(ValidationError) as exc:
        cases.record_objection(
            mediation_manager, case, party=zhang, member=lead, reason="", replacement=mediator_a
        )
    assert {"reason", "replacement"} <= set(exc.value.message_dict)
    objection = cases.record_objection(
        mediation_manager, case, party=zhang, member=lead, reason="调解员与对方是亲戚", replacement=other
    )
    lead.refresh_from_db()
    assert lead.ended_at is not None and "调解员与对方是亲戚" in lead.end_reason
    new = objection.replacement
    assert (new.user, new.lead, new.role) == (other, True, "mediator")
    assert CaseMember.objects.filter(case=case, ended_at__isnull=True).count() == 1
    assert actions(case)[-1] == "mediation.objection.recorded"
    with pytest.raises(TransitionNotAllowed):  # no longer the lead, nor on the team
        cases.accept_case(mediator_a, case)


def test_team_membership_rules(
    tree, case, mediator_a, mediator_b, lawyer, counsellor, community_secretary, subdistrict_staff, resident_b
):
    with pytest.raises(ValidationError, match="does not serve"):
        cases.add_member(mediator_a, case, user=mediator_b, role="mediator")  # community 2 only
    with pytest.raises(ValidationError, match="already on the team"):
        cases.add_member(mediator_a, case, user=mediator_a, role="mediator")
    with pytest.raises(ValidationError):
        cases.add_member(mediator_a, case, user=lawyer, role="counsellor")  # not a counsellor
    with pytest.raises(ValidationError, match="staff"):
        cases.add_member(mediator_a, case, user=resident_b, role="department")
    cases.add_member(mediator_a, case, user=subdistrict_staff, role="department")  # any staff user
    member = cases.add_member(mediator_a, case, user=counsellor, role="counsellor")
    with pytest.raises(ValidationError, match="lead"):
        cases.remove_member(mediator_a, case, CaseMember.objects.get(case=case, user=mediator_a), reason="x")
    cases.remove_member(mediator_a, case, member, reason="不再需要心理疏导")
    member.refresh_from_db()
    assert member.ended_at and member.end_reason == "不再需要心理疏导"
    cases.add_member(mediator_a, case, user=counsellor, role="counsellor")  # may join again
    new_lead = cases.add_member(mediator_a, case, user=lawyer, role="lawyer", lead=True)
    assert (
        new_lead.lead and not CaseMember.objects.get(case=case, user=mediator_a, ended_at__isnull=True).lead
    )


def test_only_the_teams_counsellor_writes_counselling_notes(case, mediator_a, counsellor, mediation_manager):
    with pytest.raises(PermissionDenied):
        cases.add_counselling_note(counsellor, case, text="x")  # not on the team yet
    cases.add_member(mediator_a, case, user=counsellor, role="counsellor")
    with pytest.raises(PermissionDenied):
        cases.add_counselling_note(mediation_manager, case, text="x")
    with pytest.raises(ValidationError):
        cases.add_counselling_note(counsellor, case, text="  ")
    note = cases.add_counselling_note(counsellor, case, text="当事人情绪激动，建议分开谈话。")
    event = CaseEvent.objects.get(case=case, kind="counselling")
    assert event.note == "" and not event.public and "情绪" not in str(event.data)
    audit_row = AuditEvent.objects.get(action="mediation.counselling.added")
    assert "情绪" not in str(audit_row.after) and audit_row.object_id == str(note.pk)


# --- the one-month limit and the agreement --------------------------------------------------------
def test_extension_needs_the_parties_consent_and_moves_the_limit(accepted, mediator_a, lawyer):
    old = accepted.due_on
    with pytest.raises(ValidationError) as exc:
        cases.extend_case(mediator_a, accepted, days=15, reason="等待鉴定", consent_note="")
    assert "consent_note" in exc.value.message_dict
    with pytest.raises(PermissionDenied):
        cases.extend_case(lawyer, accepted, days=15, reason="x", consent_note="x")
    ext = cases.extend_case(mediator_a, accepted, days=15, reason="等待鉴定", consent_note="双方当面同意")
    accepted.refresh_from_db()
    assert accepted.due_on == period_end_days(old, 15) == ext.new_due_on and ext.old_due_on == old
    assert actions(accepted)[-1] == "mediation.case.extended"


def test_agreement_input_is_checked_and_nothing_is_written(accepted, mediator_a, mediator_b, tree):
    today = timezone.localdate()
    other_case = register(mediator_a, tree)
    stranger = CaseParty.objects.filter(case=other_case).first()
    with pytest.raises(ValidationError) as exc:
        cases.record_agreement(
            mediator_a,
            accepted,
            written=True,
            facts="",
            terms="x",
            performance="",
            signed_on=today,
            signatures={},
            sealed_on=today - timedelta(days=1),
            items=[{"party": stranger, "duty": "x", "due_on": today - timedelta(days=3)}],
            copies=2,
        )
    fields = set(exc.value.message_dict)
    assert {"facts", "performance", "sealed_on", "items.0.party", "items.0.due_on", "copies"} <= fields
    assert {f"signatures.{p.pk}" for p in accepted.parties.all()} <= fields  # nobody signed
    accepted.refresh_from_db()
    assert accepted.state == S.ACCEPTED and not FollowUp.objects.filter(case=accepted).exists()


def test_an_oral_agreement_is_recorded_without_items(accepted, mediator_a):
    today = timezone.localdate()
    cases.record_agreement(
        mediator_a,
        accepted,
        written=False,
        facts="口角",
        terms="互相道歉",
        performance="",
        signed_on=today,
        items=[],
    )
    accepted.refresh_from_db()
    assert accepted.outcome == "oral" and accepted.agreement.written is False
    with pytest.raises(ValidationError, match="written agreement"):
        apply_to_court(mediator_a, accepted, today)


# --- 司法确认 -----------------------------------------------------------------------------------------
def test_court_application_window_and_steps_in_order(accepted, mediator_a):
    start = timezone.localdate()

    def day(n):  # n days after the agreement took effect, as the pages send it
        return str(start + timedelta(days=n))

    agree(mediator_a, accepted, signed_on=start)  # effective today: apply by day 30
    with time_machine.travel(timezone.now() + timedelta(days=30), tick=False):  # the window's last day
        with pytest.raises(ValidationError, match="after the agreement takes effect"):
            apply_to_court(mediator_a, accepted, day(-1))
        with pytest.raises(ValidationError, match="future"):
            apply_to_court(mediator_a, accepted, day(31))
        assert not CourtConfirmation.objects.exists()
        apply_to_court(mediator_a, accepted, day(30))
        with pytest.raises(ValidationError, match="already"):
            apply_to_court(mediator_a, accepted, day(30))
    with time_machine.travel(timezone.now() + timedelta(days=45), tick=False):
        with pytest.raises(TransitionNotAllowed):
            cases.record_court_step(mediator_a, accepted, state="confirmed", on=day(31))  # not accepted yet
        with pytest.raises(ValidationError, match=f"before {day(30)}"):
            cases.record_court_step(mediator_a, accepted, state="accepted", on=day(29))
        cases.record_court_step(mediator_a, accepted, state="accepted", on=day(32))
        cases.record_court_step(mediator_a, accepted, state="accepted", on=day(36), extended=True)
        with pytest.raises(ValidationError, match="once"):
            cases.record_court_step(mediator_a, accepted, state="accepted", on=day(36), extended=True)
        court = cases.record_court_step(mediator_a, accepted, state="rejected", on=day(40), note="不符合条件")
        assert (court.state, court.extended, str(court.accepted_on), str(court.decided_on)) == (
            "rejected",
            True,
            day(32),
            day(40),
        )
        with pytest.raises(TransitionNotAllowed):
            cases.record_court_step(mediator_a, accepted, state="confirmed", on=day(40))
    assert kinds(accepted, public=True)[-4:] == [
        "court_applied",
        "court_accepted",
        "court_extended",
        "court_rejected",
    ]


# --- follow-ups and tasks -------------------------------------------------------------------------
def test_a_followup_is_recorded_once_and_checks_its_items(accepted, mediator_a, tree):
    agree(mediator_a, accepted)
    followup = FollowUp.objects.filter(case=accepted).first()
    other = register(mediator_a, tree)
    with pytest.raises(ValidationError) as exc:
        cases.record_followup(
            mediator_a, followup, performance="maybe", note="", performed_items=[other.pk * 1000]
        )
    assert {"performance", "note", "performed_items"} <= set(exc.value.message_dict)
    item = AgreementItem.objects.filter(agreement__case=accepted).first()
    cases.record_followup(
        mediator_a, followup, performance="in_progress", note="部分履行", performed_items=[item]
    )
    item.refresh_from_db()
    assert item.performed_at is not None
    assert AgreementItem.objects.filter(agreement__case=accepted, performed_at__isnull=True).count() == 1
    with pytest.raises(ValidationError, match="already"):
        cases.record_followup(mediator_a, followup, performance="performed", note="x")
    assert not PreventionTask.objects.filter(case=accepted).exists()


def test_tasks_are_created_finished_and_cancelled_by_who_may(
    accepted, mediator_a, mediator_b, community_worker
):
    today = timezone.localdate()
    with pytest.raises(PermissionDenied):
        cases.create_task(
            mediator_b, kind="repair", title="x", place=accepted.place, due_on=today, case=accepted
        )
    with pytest.raises(ValidationError) as exc:
        cases.create_task(
            mediator_a,
            kind="nap",
            title="",
            place=accepted.place,
            due_on=today - timedelta(days=1),
            case=accepted,
        )
    assert {"kind", "title", "due_on"} <= set(exc.value.message_dict)
    task = cases.create_task(
        mediator_a,
        kind="repair",
        title="修缮楼顶防水",
        place=accepted.place,
        due_on=today + timedelta(days=5),
        owner=community_worker,
        case=accepted,
    )
    assert Notification.objects.filter(user=community_worker, kind="mediation.task.new").exists()
    with pytest.raises(PermissionDenied):
        cases.finish_task(mediator_b, task, note="x")
    cases.finish_task(community_worker, task, note="已修好")
    with pytest.raises(TransitionNotAllowed):
        cases.cancel_task(mediator_a, task, reason="x")
    other = cases.create_task(mediator_a, kind="talk", title="讲座", place=accepted.place, due_on=today)
    cases.cancel_task(mediator_a, other, reason="合并到下月讲座")
    assert {"task_created", "task_done"} <= set(kinds(accepted))
    assert AuditEvent.objects.filter(action="mediation.task.cancelled", object_id=str(other.pk)).exists()
    assert AuditEvent.objects.filter(action="mediation.task.finished", object_id=str(task.pk)).exists()


def test_closing_checks_its_tasks(accepted, mediator_a):
    agree(mediator_a, accepted)
    with pytest.raises(ValidationError) as exc:
        cases.close_case(
            mediator_a, accepted, lesson="x", tasks=[{"kind": "prompt", "title": "", "due_on": None}]
        )
    assert {"tasks.0.kind", "tasks.0.title", "tasks.0.due_on"} <= set(exc.value.message_dict)
    accepted.refresh_from_db()
    assert accepted.state == S.AGREED


# --- sessions and documents -----------------------------------------------------------------------
def test_a_session_is_public_only_when_every_party_agrees(accepted, mediator_a):
    CaseParty.objects.filter(case=accepted, name="王五").update(public_session=False)
    values = {"held_at": timezone.now(), "location": "调解室", "attendees": "双方", "minutes": "记录"}
    with pytest.raises(ValidationError, match="not public"):
        cases.record_session(mediator_a, accepted, public=True, **values)
    with pytest.raises(ValidationError, match="after it was held"):
        cases.record_session(
            mediator_a, accepted, public=False, **{**values, "held_at": timezone.now() + timedelta(days=2)}
        )
    session = cases.record_session(mediator_a, accepted, public=False, **values)
    assert session.public is False


def test_documents_are_checked_by_their_content(accepted, mediator_a, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    fake = SimpleUploadedFile("协议.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    with pytest.raises(ValidationError, match="PDF"):
        cases.add_document(mediator_a, accepted, kind="agreement", upload=fake)
    pdf = SimpleUploadedFile("协议.pdf", b"%PDF-1.7\n%...", content_type="application/octet-stream")
    doc = cases.add_document(mediator_a, accepted, kind="agreement", upload=pdf)
    assert doc.name == "协议.pdf" and doc.content_type == "application/pdf" and doc.file.name.endswith(".pdf")
    assert actions(accepted)[-1] == "mediation.document.added"


# --- risk, police, repeats ------------------------------------------------------------------------
def test_risk_flag_tells_the_managers_and_the_police_notice_is_recorded_once(
    tree, mediator_a, mediation_manager
):
    case = register(mediator_a, tree, risk_flag=True, risk_note="一方扬言报复")
    assert Notification.objects.filter(user=mediation_manager, kind="mediation.case.risk").exists()
    with pytest.raises(ValidationError):
        cases.notify_police(mediator_a, case, how=" ")
    cases.notify_police(mediator_a, case, how="电话告知社区民警李警官")
    case.refresh_from_db()
    assert (
        case.police_notified_at and case.police_notified_by == mediator_a and "李警官" in case.police_notice
    )
    with pytest.raises(ValidationError, match="already"):
        cases.notify_police(mediator_a, case, how="again")
    assert actions(case)[-1] == "mediation.case.police_notified"


def test_repeat_disputes_are_flagged_by_party_or_place(tree, mediator_a, mediation_manager):
    first = register(mediator_a, tree, place=tree.household_a1)
    by_mobile = register(
        mediator_a,
        tree,
        place=tree.entrance_b,
        parties=[{"name": "王五", "mobile": "13800000003"}, {"name": "某物业", "kind": "organisation"}],
    )
    # the reason is written in the site's language (zh-Hans), for every reader of the register
    with translation.override(settings.LANGUAGE_CODE):
        same_party = gettext("same party as %(numbers)s") % {"numbers": first.number}
        same_place = gettext("same place as %(numbers)s") % {"numbers": first.number}
    assert list(by_mobile.repeat_of.all()) == [first] and by_mobile.repeat_reason == same_party
    by_place = register(mediator_a, tree, place=tree.household_a1, parties=[{"name": "甲"}, {"name": "乙"}])
    assert set(by_place.repeat_of.all()) == {first} and by_place.repeat_reason == same_place
    assert Notification.objects.filter(user=mediation_manager, kind="mediation.case.repeat").count() == 2
    assert CaseEvent.objects.filter(case=by_place, kind="repeat_flagged").exists()
    with time_machine.travel(timezone.now() + timedelta(days=400)):  # past rules.repeat_lookback_days
        later = register(mediator_a, tree, place=tree.household_a1)
    assert not later.repeat_of.exists() and later.repeat_reason == ""


def test_registration_input_and_permission(tree, mediator_a, mediator_b, community_secretary):
    with pytest.raises(PermissionDenied):
        register(mediator_b, tree)  # community 2's mediator, a place in community 1
    with pytest.raises(PermissionDenied):
        register(community_secretary, tree)  # sees figures, works no cases
    with pytest.raises(ValidationError) as exc:
        register(
            mediator_a,
            tree,
            title="",
            dispute_type="feud",
            source="referral",
            parties=[{"name": "", "mobile": "12345", "id_number": "x"}],
        )
    assert {
        "title",
        "dispute_type",
        "referred_by",
        "parties.0.name",
        "parties.0.mobile",
        "parties.0.id_number",
    } <= set(exc.value.message_dict)
    assert not Case.objects.exists()
    referral = register(
        mediator_a, tree, source="referral", referred_by="police", referring_body="张家湾派出所"
    )
    assert referral.referred_by == "police"


# --- applications and escalated requests ----------------------------------------------------------
def test_a_residents_application_is_idempotent_and_tells_the_managers(
    tree, resident_a, mediation_manager, mediator_a
):
    values = {
        "household": tree.household_a1,
        "dispute_type": "neighbour",
        "title": "噪音扰民",
        "facts": "楼上每晚十二点后还在装修",
        "other_party_name": "李四",
        "other_party_mobile": "13800000002",
        "client_token": "apply-1",
    }
    case = cases.apply_for_mediation(resident_a, **values)
    again = cases.apply_for_mediation(resident_a, **values)
    assert again.pk == case.pk and again.replayed and Case.objects.count() == 1
    assert case.source == "application" and case.place == tree.household_a1
    applicant, respondent = CaseParty.objects.filter(case=case)
    assert (applicant.user, applicant.resident, applicant.name, applicant.mobile) == (
        resident_a,
        tree.resident_a1,
        "张三",
        "13800000001",
    )
    assert (respondent.side, respondent.name, respondent.user) == ("respondent", "李四", None)
    assert not CaseMember.objects.filter(case=case).exists()  # the centre assigns the team
    assert Notification.objects.filter(user=mediation_manager, kind="mediation.case.new").exists()
    assert not Notification.objects.filter(user=mediator_a, kind="mediation.case.new").exists()
    with pytest.raises(PermissionDenied):
        cases.apply_for_mediation(resident_a, **{**values, "household": tree.household_b1})
    with pytest.raises(ValidationError, match="other party"):
        cases.apply_for_mediation(resident_a, **{**values, "other_party_name": "", "client_token": "apply-2"})


def test_a_case_opened_from_a_service_request(
    tree, resident_a, grid_worker, mediator_a, mediation_manager, outsider
):
    from linjialin.service_requests.models import Category
    from linjialin.service_requests.services import submit_request

    req = submit_request(
        resident_a,
        place=tree.household_a1,
        request_type="help",
        description="邻居家狗整夜叫，沟通无果",
        category=Category.objects.get(code="corridor"),
    )
    with pytest.raises(PermissionDenied):  # the requester does not handle requests
        cases.open_case_from_request(resident_a, req, title="犬吠", dispute_type="neighbour")
    with pytest.raises(PermissionDenied):  # cannot see the request
        cases.open_case_from_request(outsider, req, title="犬吠", dispute_type="neighbour")
    from linjialin.testing.plugin import make_user

    other = make_user("13700000041", "社区调解员", "mediator", tree.community_2)
    with pytest.raises(PermissionDenied):  # a mediator of another community
        cases.open_case_from_request(other, req, title="犬吠", dispute_type="neighbour")
    # the grid worker handling the request refers it to the centre: the managers are told, the grid
    # worker is not on the team (not mediation staff) and does not see the case afterwards
    case = cases.open_case_from_request(grid_worker, req, title="犬吠纠纷", dispute_type="neighbour")
    assert case.source == "request" and case.service_request_id == req.pk and case.facts == req.description
    assert CaseParty.objects.get(case=case).user == resident_a
    assert not case.team.exists()
    assert Notification.objects.filter(user=mediation_manager, link__contains=f"/{case.pk}/").exists()
    assert not selectors.visible_cases(grid_worker).filter(pk=case.pk).exists()
    with pytest.raises(ValidationError, match=case.number):  # once
        cases.open_case_from_request(grid_worker, req, title="again", dispute_type="neighbour")
    # the centre takes it from there
    cases.add_member(mediation_manager, case, user=mediator_a, role="mediator", lead=True)
    with pytest.raises(ValidationError, match="two parties"):
        accept(mediator_a, case)
    cases.add_party(mediator_a, case, side="respondent", name="养狗邻居")
    accept(mediator_a, case)
    assert Case.objects.get(pk=case.pk).state == S.ACCEPTED


# --- confidentiality writes -----------------------------------------------------------------------
def test_unmasking_a_party_needs_the_team_or_a_manager_and_a_reason(
    case, mediator_a, mediator_b, mediation_manager
):
    zhang = CaseParty.objects.get(case=case, name="张三")
    with pytest.raises(PermissionDenied):
        cases.unmask_party(mediator_b, zhang, reason="核实")
    with pytest.raises(ValidationError):
        cases.unmask_party(mediation_manager, zhang, reason="")
    full = cases.unmask_party(mediation_manager, zhang, reason="电话通知开庭")
    assert full["mobile"] == "13800000001" and full["id_number"] == "11010519491231002X"
    event = AuditEvent.objects.get(action="mediation.party.unmasked")
    assert event.reason == "电话通知开庭" and "13800000001" not in str(event.after)
    assert event.actor == mediation_manager


def test_a_view_of_the_case_file_is_audited(case, mediation_manager):
    cases.record_case_view(mediation_manager, case)
    cases.record_case_view(mediation_manager, case)
    views = AuditEvent.objects.filter(action="mediation.case.viewed", object_id=str(case.pk))
    assert views.count() == 2 and views.first().path == case.path


def test_audit_labels_cover_every_action_written(accepted, mediator_a):
    from linjialin.core import audit_labels

    written = set(AuditEvent.objects.filter(action__startswith="mediation.").values_list("action", flat=True))
    assert written <= set(cases.AUDIT_LABELS)
    assert set(cases.AUDIT_PERSONAL) <= set(audit_labels.personal())
