"""The legal rules of the agreement and 司法确认, written from the law (人民调解法 2010; 民事诉讼法 2023;
民法典; 最高人民法院关于人民调解协议司法确认程序的若干规定), not from the code:

- a period's last day on a rest day moves to the next working day (民事诉讼法 第八十五条): an agreement
  effective 2026-09-07 may be confirmed until 2026-10-08 (10-07 is the National Day holiday);
- the agreement takes effect on the last of the parties' signatures and the committee's seal (written),
  or on the day the parties agreed (oral) (人民调解法 第二十九条、第三十条);
- a court does not confirm 婚姻、亲子、收养等身份关系: the court application is blocked with the reason,
  mediation goes on;
- the joint application: every party's consent with its date, a competent basic-level court (民事诉讼法
  第二百零五条);
- "one month" is a calendar month (民法典 第二百零二条), rolled off rest days; the court decides within 30
  days of acceptance (民事诉讼法 第一百八十七条).

The 2026 calendar is the State Council's (core migration 0003): 10-01..10-07 and 02-15..02-23 holidays,
02-28 and 10-10 make-up working Saturdays."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from linjialin.accounts.models import RoleGrant
from linjialin.core.calendar import add_months, local_tz, period_end_days, period_end_months
from linjialin.core.models import AuditEvent
from linjialin.mediation import selectors
from linjialin.mediation.forms import CourtApplicationForm
from linjialin.mediation.models import (
    Agreement,
    AgreementSignature,
    Case,
    CaseParty,
    Court,
    CourtConfirmation,
    CourtConsent,
    FollowUp,
    MediationRules,
)
from linjialin.mediation.services import cases

from .test_cases_fixtures import (  # noqa: F401  (fixtures)
    _english,
    accept,
    agree,
    apply_to_court,
    register,
    signed_by_all,
)
from .test_pages import url

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _grants_since_january(tree, mediator_a):
    """The tests travel back into 2026: the mediator's grant runs from the start of the year."""
    RoleGrant.objects.update(valid_from=date(2026, 1, 1))


def on(day: date, hour: int = 10):
    """The clock at `day`, office hours, Beijing time."""
    return time_machine.travel(datetime.combine(day, time(hour), tzinfo=local_tz()), tick=False)


def agreed_on(actor, tree, day: date, *, dispute_type="neighbour", resident_a=None) -> Case:
    """A case registered and accepted a week before `day`, its written agreement signed by every party
    and sealed on `day`."""
    with on(day - timedelta(days=7)):
        case = accept(actor, register(actor, tree, resident_a, dispute_type=dispute_type))
    with on(day):
        agree(actor, case, signed_on=day)
    case.refresh_from_db()
    return case


def parties(case) -> list[CaseParty]:
    return list(case.parties.order_by("id"))


def agreement_kwargs(case, day: date, **kw) -> dict:
    p = parties(case)
    values = {
        "written": True,
        "facts": "楼上漏水致楼下天花板受损，楼上负主要责任。",
        "terms": "楼上赔偿楼下800元。",
        "performance": "十日内在调解室现金支付。",
        "signed_on": day,
        "items": [{"party": p[1], "duty": "赔偿800元", "how": "现金", "where": "调解室", "due_on": day}],
    }
    values.update(kw)
    return values


# --- 10. a last day on a holiday or a weekend rolls over --------------------------------------------------
def test_an_agreement_effective_2026_09_07_may_be_confirmed_until_2026_10_08(tree, mediator_a):
    case = agreed_on(mediator_a, tree, date(2026, 9, 7))
    assert case.agreement.effective_on == date(2026, 9, 7)
    # 09-07 + 30 days = 10-07, the last day of the National Day holiday → 10-08
    assert selectors.court_apply_last_day(case) == date(2026, 10, 8)
    with on(date(2026, 10, 8)):
        assert selectors.court_apply_open(case)
        assert selectors.desk_queues(mediator_a)["court"].count == 1  # still waiting on the application
        apply_to_court(mediator_a, case, date(2026, 10, 8))
    assert CourtConfirmation.objects.get(case=case).applied_on == date(2026, 10, 8)


def test_on_2026_10_09_the_application_window_has_closed(tree, mediator_a):
    case = agreed_on(mediator_a, tree, date(2026, 9, 7))
    with on(date(2026, 10, 9)):
        assert not selectors.court_apply_open(case)
        assert selectors.desk_queues(mediator_a)["court"].count == 0
        with pytest.raises(ValidationError, match="ended on 2026-10-08"):
            apply_to_court(mediator_a, case, date(2026, 10, 8))
    assert not CourtConfirmation.objects.exists()


def test_a_plain_weekend_is_a_holiday_for_the_last_day_and_a_make_up_saturday_is_not():
    # 11-05 + 30 = Saturday 12-05 → Monday 12-07 (a weekend is a rest day, 法定休假日 in court practice)
    assert period_end_days(date(2026, 11, 5), 30) == date(2026, 12, 7)
    # 09-10 + 30 = Saturday 10-10, a 调休 working day: the period ends that day
    assert period_end_days(date(2026, 9, 10), 30) == date(2026, 10, 10)
    # a working-day end stays put
    assert period_end_days(date(2026, 11, 4), 30) == date(2026, 12, 4)


def test_the_courts_accept_and_decide_clocks_roll_over_too(tree, mediator_a):
    case = agreed_on(mediator_a, tree, date(2026, 9, 7))
    with on(date(2026, 9, 28)):
        apply_to_court(mediator_a, case, date(2026, 9, 28))
    case = Case.objects.get(pk=case.pk)
    clocks = selectors.court_clocks(case, date(2026, 9, 28))
    # applied 09-28 + 3 days = 10-01 (National Day) → 10-08
    assert clocks["accept_by"].by == date(2026, 10, 8)
    with on(date(2026, 10, 8)):
        cases.record_court_step(mediator_a, case, state="accepted", on=date(2026, 10, 8))
    case = Case.objects.get(pk=case.pk)
    # accepted 10-08 + 30 days = Saturday 11-07 → Monday 11-09
    assert selectors.court_clocks(case, date(2026, 10, 8))["decide_by"].by == date(2026, 11, 9)


# --- 11. the effective day is derived from the signatures and the seal ------------------------------------
def test_a_written_agreement_takes_effect_on_the_last_signature_or_the_seal(tree, mediator_a):
    with on(date(2026, 11, 2)):
        case = accept(mediator_a, register(mediator_a, tree))
    a, b = parties(case)
    with on(date(2026, 11, 20)):
        agreement = cases.record_agreement(
            mediator_a,
            case,
            **agreement_kwargs(case, date(2026, 11, 16)),
            signatures={a.pk: date(2026, 11, 16), b.pk: date(2026, 11, 18)},
            sealed_on=date(2026, 11, 17),
        )
    assert agreement.effective_on == date(2026, 11, 18)  # b signed last
    assert dict(AgreementSignature.objects.values_list("party_id", "signed_on")) == {
        a.pk: date(2026, 11, 16),
        b.pk: date(2026, 11, 18),
    }
    assert agreement.sealed_on == date(2026, 11, 17)
    # the follow-ups and the court window count from the derived day
    assert FollowUp.objects.filter(case=case).order_by("due_on").first().due_on == date(2026, 11, 25)
    assert selectors.court_apply_last_day(case) == date(2026, 12, 18)
    audit_row = AuditEvent.objects.get(action="mediation.agreement.recorded")
    assert audit_row.after["effective_on"] == "2026-11-18" and audit_row.after["sealed_on"] == "2026-11-17"


def test_the_seal_after_every_signature_makes_the_seal_day_the_effective_day(tree, mediator_a):
    with on(date(2026, 11, 2)):
        case = accept(mediator_a, register(mediator_a, tree))
    with on(date(2026, 11, 20)):
        agreement = cases.record_agreement(
            mediator_a,
            case,
            **agreement_kwargs(case, date(2026, 11, 16)),
            signatures=signed_by_all(case, date(2026, 11, 16)),
            sealed_on=date(2026, 11, 19),
        )
    assert agreement.effective_on == date(2026, 11, 19)


def test_an_oral_agreement_takes_effect_on_the_day_the_parties_agreed(tree, mediator_a):
    with on(date(2026, 11, 2)):
        case = accept(mediator_a, register(mediator_a, tree))
    with on(date(2026, 11, 20)):
        agreement = cases.record_agreement(
            mediator_a, case, **agreement_kwargs(case, date(2026, 11, 18), written=False, items=[])
        )
    assert agreement.effective_on == date(2026, 11, 18)
    assert not AgreementSignature.objects.exists() and agreement.sealed_on is None


@pytest.mark.parametrize(
    ("signatures", "sealed", "field", "message"),
    [
        ("one", date(2026, 11, 16), "signatures.{b}", "has not signed"),
        ("future", date(2026, 11, 16), "signatures.{b}", "future"),
        ("before", date(2026, 11, 16), "signatures.{b}", "before the agreement's date"),
        ("all", None, "sealed_on", "committee sealed"),
        ("all", date(2026, 11, 21), "sealed_on", "future"),
        ("all", date(2026, 11, 15), "sealed_on", "before the agreement's date"),
    ],
)
def test_signature_and_seal_dates_are_checked_and_nothing_is_written(
    tree, mediator_a, signatures, sealed, field, message
):
    with on(date(2026, 11, 2)):
        case = accept(mediator_a, register(mediator_a, tree))
    a, b = parties(case)
    dates = {
        "one": {a.pk: date(2026, 11, 16)},
        "future": {a.pk: date(2026, 11, 16), b.pk: date(2026, 11, 21)},
        "before": {a.pk: date(2026, 11, 16), b.pk: date(2026, 11, 15)},
        "all": {a.pk: date(2026, 11, 16), b.pk: date(2026, 11, 16)},
    }[signatures]
    with on(date(2026, 11, 20)), pytest.raises(ValidationError) as exc:
        cases.record_agreement(
            mediator_a,
            case,
            **agreement_kwargs(case, date(2026, 11, 16)),
            signatures=dates,
            sealed_on=sealed,
        )
    key = field.format(b=b.pk)
    assert message in " ".join(exc.value.message_dict[key])
    case.refresh_from_db()
    assert case.state == "accepted" and not Agreement.objects.exists() and not FollowUp.objects.exists()


def test_the_agreement_form_asks_each_partys_signature_and_the_seal_not_the_effective_day(
    tree, mediator_a, login
):
    with on(date(2026, 11, 2)):
        case = accept(mediator_a, register(mediator_a, tree))
    a, b = parties(case)
    with on(date(2026, 11, 20)):
        page = login(mediator_a).get(url("case", case.pk)).content.decode()
        assert f'name="signed_{a.pk}"' in page and f'name="signed_{b.pk}"' in page
        assert 'name="sealed_on"' in page and 'name="effective_on"' not in page
        response = login(mediator_a).post(
            url("case_act", case.pk, "agreement"),
            {
                "written": "1",
                "facts": "楼上漏水",
                "terms": "赔偿800元",
                "performance": "十日内",
                "signed_on": "2026-11-16",
                "sealed_on": "2026-11-17",
                f"signed_{a.pk}": "2026-11-16",
                "copies": "3",
                "item-TOTAL_FORMS": "1",
                "item-INITIAL_FORMS": "0",
                "item-MIN_NUM_FORMS": "0",
                "item-MAX_NUM_FORMS": "20",
                "item-0-party": b.pk,
                "item-0-duty": "赔偿800元",
                "item-0-due_on": "2026-11-26",
            },
        )
    assert response.status_code == 422  # 王五 has not signed: under his field
    assert "has not signed" in response.content.decode() and not Agreement.objects.exists()


# --- 12. matters a court does not confirm -------------------------------------------------------------
def test_a_marriage_case_is_mediated_but_the_court_application_is_blocked_with_the_reason(
    tree, mediator_a, login
):
    case = agreed_on(mediator_a, tree, date(2026, 12, 1), dispute_type="marriage_family")
    assert case.state == "agreed" and case.agreement.written  # mediation went ahead
    reason = selectors.court_exclusion(case)
    assert "marriage, parentage, adoption" in reason
    assert not selectors.court_apply_open(case)
    assert selectors.court_clocks(case)["apply_by"] is None
    with on(date(2026, 12, 2)):
        with pytest.raises(ValidationError) as exc:
            apply_to_court(mediator_a, case, date(2026, 12, 2))
        assert exc.value.message_dict["court"] == [reason]
        assert not CourtConfirmation.objects.exists()
        assert selectors.desk_queues(mediator_a)["court"].count == 0
        page = login(mediator_a).get(url("case", case.pk)).content.decode()
    assert 'id="court-excluded"' in page and "marriage, parentage, adoption" in page
    assert url("case_act", case.pk, "court_apply") not in page


def test_which_types_a_court_will_not_confirm_is_data(tree, mediator_a):
    case = agreed_on(mediator_a, tree, date(2026, 12, 1), dispute_type="marriage_family")
    rules = selectors.rules()
    rules.court_excluded_types = ""  # the admin edits the rules row
    rules.save()
    assert selectors.court_exclusion(case) == ""
    with on(date(2026, 12, 2)):
        assert selectors.court_apply_open(case)
    MediationRules.objects.filter(pk=rules.pk).update(court_excluded_types="marriage_family，neighbour")
    neighbours = agreed_on(mediator_a, tree, date(2026, 12, 1))
    assert selectors.court_exclusion(neighbours) != ""


def test_a_neighbours_case_is_not_blocked(tree, mediator_a):
    case = agreed_on(mediator_a, tree, date(2026, 12, 1))
    assert selectors.court_exclusion(case) == ""


# --- 13. the joint application: every party consents, a competent court -------------------------------
def test_the_joint_application_records_every_partys_consent_and_the_competent_court(tree, mediator_a):
    case = agreed_on(mediator_a, tree, date(2026, 12, 1))
    a, b = parties(case)
    tongzhou = Court.objects.get(name="北京市通州区人民法院")
    assert selectors.competent_courts(case) == [tongzhou]
    with on(date(2026, 12, 4)):
        row = apply_to_court(
            mediator_a, case, date(2026, 12, 4), consents={a.pk: date(2026, 12, 2), b.pk: date(2026, 12, 3)}
        )
    assert (row.chosen_court, row.court) == (tongzhou, "北京市通州区人民法院")
    assert dict(CourtConsent.objects.values_list("party_id", "consented_on")) == {
        a.pk: date(2026, 12, 2),
        b.pk: date(2026, 12, 3),
    }
    audit_row = AuditEvent.objects.get(action="mediation.court.applied")
    assert audit_row.after["consents"] == {str(a.pk): "2026-12-02", str(b.pk): "2026-12-03"}


@pytest.mark.parametrize(
    ("which", "message"),
    [
        ("missing", "has not consented"),
        ("before_effect", "before the agreement takes effect"),
        ("after_application", "on or before the day of the application"),
    ],
)
def test_an_application_without_every_partys_consent_is_refused(tree, mediator_a, which, message):
    case = agreed_on(mediator_a, tree, date(2026, 12, 1))
    a, b = parties(case)
    consents = {
        "missing": {a.pk: date(2026, 12, 2)},
        "before_effect": {a.pk: date(2026, 12, 2), b.pk: date(2026, 11, 30)},
        "after_application": {a.pk: date(2026, 12, 2), b.pk: date(2026, 12, 4)},
    }[which]
    with on(date(2026, 12, 4)), pytest.raises(ValidationError) as exc:
        apply_to_court(mediator_a, case, date(2026, 12, 3), consents=consents)
    assert message in " ".join(exc.value.message_dict[f"consents.{b.pk}"])
    assert not CourtConfirmation.objects.exists() and not CourtConsent.objects.exists()


def test_a_court_that_is_not_competent_is_refused_and_not_offered(tree, mediator_a):
    chaoyang = Court.objects.create(name="北京市朝阳区人民法院", area_codes="110105")
    case = agreed_on(mediator_a, tree, date(2026, 12, 1))
    assert chaoyang not in selectors.competent_courts(case)
    form = CourtApplicationForm(courts=selectors.competent_courts(case), parties=parties(case))
    assert list(form.fields["court"].queryset) == [Court.objects.get(name="北京市通州区人民法院")]
    with on(date(2026, 12, 2)), pytest.raises(ValidationError) as exc:
        apply_to_court(mediator_a, case, date(2026, 12, 2), court=chaoyang)
    assert "competent court" in " ".join(exc.value.message_dict["court"])
    assert not CourtConfirmation.objects.exists()


def test_the_application_form_records_the_consents_through_the_page(tree, mediator_a, login):
    case = agreed_on(mediator_a, tree, date(2026, 12, 1))
    a, b = parties(case)
    tongzhou = Court.objects.get(name="北京市通州区人民法院")
    with on(date(2026, 12, 3)):
        page = login(mediator_a).get(url("case", case.pk)).content.decode()
        assert f'name="consent_{a.pk}"' in page and f'name="consent_{b.pk}"' in page
        response = login(mediator_a).post(
            url("case_act", case.pk, "court_apply"),
            {"court": tongzhou.pk, "applied_on": "2026-12-03", f"consent_{a.pk}": "2026-12-02"},
        )
        assert response.status_code == 422 and "has not consented" in response.content.decode()
        assert not CourtConfirmation.objects.exists()
        response = login(mediator_a).post(
            url("case_act", case.pk, "court_apply"),
            {
                "court": tongzhou.pk,
                "applied_on": "2026-12-03",
                f"consent_{a.pk}": "2026-12-02",
                f"consent_{b.pk}": "2026-12-03",
            },
        )
        assert response.status_code == 302
        page = login(mediator_a).get(url("case", case.pk)).content.decode()
    assert CourtConsent.objects.count() == 2 and 'id="court-consents"' in page


# --- 14. one month is a calendar month; the court's decision period -----------------------------------
def test_a_month_is_a_calendar_month_with_the_months_last_day_when_it_has_no_such_day():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)  # a leap year
    assert add_months(date(2026, 3, 31), 1) == date(2026, 4, 30)
    assert add_months(date(2026, 12, 15), 1) == date(2027, 1, 15)
    assert add_months(date(2026, 5, 10), 1) - date(2026, 5, 10) == timedelta(days=31)  # not 30 days


@pytest.mark.parametrize(
    ("accepted_on", "due_on"),
    [
        (date(2026, 1, 31), date(2026, 2, 28)),  # Saturday 02-28 is a make-up working day
        (date(2026, 3, 31), date(2026, 4, 30)),
        (date(2026, 1, 15), date(2026, 2, 24)),  # 02-15 falls in the Spring Festival → 02-24
        (date(2026, 7, 1), date(2026, 8, 3)),  # Saturday 08-01 → Monday 08-03
    ],
)
def test_the_mediation_limit_is_one_calendar_month_from_acceptance(tree, mediator_a, accepted_on, due_on):
    assert period_end_months(accepted_on, 1) == due_on
    with on(accepted_on):
        case = accept(mediator_a, register(mediator_a, tree))
    assert case.due_on == due_on


def test_the_courts_decision_period_defaults_to_the_law_and_cites_it():
    field = MediationRules._meta.get_field("court_decide_days")
    assert field.default == 30 and "第一百八十七条" in str(field.help_text)
    assert MediationRules._meta.get_field("target_months").default == 1
    assert "第二百零五条" in str(MediationRules._meta.get_field("court_apply_days").help_text)
    assert MediationRules().court_excluded_types == "marriage_family"
