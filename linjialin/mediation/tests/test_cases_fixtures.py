"""Shared fixtures and helpers of the case tests (imported by test_cases*.py, test_api.py and
test_workflow_machine.py): a neighbours' dispute at entrance A between 张三 (resident_a, a user) and
王五 (resident_b1), registered by mediator_a, and helpers that walk it along."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from linjialin.mediation.models import Case, CaseParty, Consent
from linjialin.mediation.services import cases


@pytest.fixture(autouse=True)
def _english():
    """The assertions read messages in English (the source language)."""
    with translation.override("en"):
        yield


def party_rows(tree, resident_a=None):
    return [
        {
            "side": "applicant",
            "name": "张三",
            "mobile": "13800000001",
            "id_number": "11010519491231002X",
            "resident": tree.resident_a1,
            "user": resident_a,
        },
        {"side": "respondent", "name": "王五", "mobile": "13800000003", "resident": tree.resident_b1},
    ]


def register(actor, tree, resident_a=None, **kw) -> Case:
    values = {
        "source": "screening",
        "title": "楼上漏水纠纷",
        "dispute_type": "neighbour",
        "place": tree.entrance_a,
        "facts": "楼上卫生间漏水，楼下天花板受损，双方多次争吵。",
        "dispute_items": "维修费用和赔偿",
        "parties": party_rows(tree, resident_a),
    }
    values.update(kw)
    return cases.register_case(actor, **values)


def consent_all(actor, case: Case) -> None:
    for party in CaseParty.objects.filter(case=case):
        cases.record_consent(actor, case, party, consent=Consent.GIVEN, rights_told=True, note="当面告知权利")


def accept(actor, case: Case) -> Case:
    consent_all(actor, case)
    return cases.accept_case(actor, case)


def signed_by_all(case: Case, day) -> dict:
    """Every party of the case signed on `day` (a written agreement)."""
    return {p.pk: day for p in CaseParty.objects.filter(case=case)}


def agree(actor, case: Case, *, signed_on=None, effective_on=None, written=True):
    """An agreement dated `signed_on`; a written one signed by every party and sealed on `effective_on`
    (default: the same day), so it takes effect that day."""
    today = timezone.localdate()
    signed_on = signed_on or today
    parties = list(CaseParty.objects.filter(case=case))
    return cases.record_agreement(
        actor,
        case,
        written=written,
        facts="楼上漏水致楼下天花板受损，楼上负主要责任。",
        terms="楼上负责维修并赔偿楼下800元。",
        performance="十日内在楼上住户家中完成维修，现金支付赔偿。",
        signed_on=signed_on,
        signatures=signed_by_all(case, effective_on or signed_on) if written else None,
        sealed_on=(effective_on or signed_on) if written else None,
        items=[
            {
                "party": parties[1],
                "duty": "维修卫生间防水",
                "how": "请专业师傅",
                "where": "1单元201",
                "due_on": signed_on + timedelta(days=10),
            },
            {
                "party": parties[1],
                "duty": "赔偿800元",
                "how": "现金",
                "where": "调解室",
                "due_on": signed_on + timedelta(days=10),
            },
        ],
    )


@pytest.fixture(name="case")
def case_fixture(tree, mediator_a, resident_a):
    return register(mediator_a, tree, resident_a)


@pytest.fixture(name="accepted")
def accepted_fixture(case, mediator_a):
    return accept(mediator_a, case)


def apply_to_court(actor, case: Case, applied_on, *, court=None, consents=None):
    """The joint application to the competent court (通州区人民法院 for the tree's places), every party
    consenting on the day of the application unless `consents` says otherwise."""
    from linjialin.mediation import selectors

    if court is None:
        court = selectors.competent_courts(case)[0]
    if consents is None:
        consents = {p.pk: applied_on for p in CaseParty.objects.filter(case=case)}
    return cases.record_court_application(actor, case, court=court, applied_on=applied_on, consents=consents)
