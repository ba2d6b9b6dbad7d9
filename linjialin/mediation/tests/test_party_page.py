"""A party follows their own case: linked by their mobile when staff register it, the reason shown when
it ends without an agreement, and their copy of the agreement to download."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from linjialin.mediation.models import CaseParty, CaseState
from linjialin.mediation.services import cases

from .test_cases_fixtures import accept, agree, register  # noqa: F401

pytestmark = pytest.mark.django_db


def url(name, *args):
    with translation.override("en"):
        return reverse(f"mediation:{name}", args=args)


def typed_at_the_desk(tree):
    """Parties as a staff member types them: names and mobiles, no resident picked."""
    return [
        {"side": "applicant", "name": "张三", "mobile": "138 0000 0001"},
        {"side": "respondent", "name": "某装修队", "kind": "organisation", "mobile": "13800000001"},
    ]


def test_a_person_registered_with_a_residents_mobile_is_linked_to_them_and_sees_the_case(
    tree, mediator_a, resident_a, login
):
    case = register(mediator_a, tree, parties=typed_at_the_desk(tree))
    person, organisation = CaseParty.objects.filter(case=case).order_by("id")
    assert person.resident == tree.resident_a1 and person.user == resident_a
    assert organisation.resident is None and organisation.user is None  # only people are residents
    page = login(resident_a).get(url("my_cases"), HTTP_ACCEPT_LANGUAGE="en")
    assert case.number in page.content.decode()


def test_an_unknown_mobile_links_nobody(tree, mediator_a, resident_a):
    unknown = register(mediator_a, tree, parties=[{"name": "甲", "mobile": "13911112222"}, {"name": "乙"}])
    assert not CaseParty.objects.filter(case=unknown, resident__isnull=False).exists()
    assert not CaseParty.objects.filter(case=unknown, user__isnull=False).exists()


def test_the_party_sees_why_the_case_was_not_accepted(tree, mediator_a, resident_a, login):
    case = register(mediator_a, tree, resident_a)
    other = CaseParty.objects.filter(case=case).exclude(user=resident_a).get()
    cases.record_consent(mediator_a, case, other, consent="refused", rights_told=True, note="对方坚持起诉")
    case.refresh_from_db()
    assert case.state == CaseState.NOT_ACCEPTED
    html = login(resident_a).get(url("my_case", case.pk)).content.decode()
    assert 'id="outcome-note"' in html and case.outcome_note in html
    assert 'id="agreement-pdf"' not in html


def test_the_party_downloads_their_copy_of_the_agreement(tree, mediator_a, resident_a, login):
    case = register(mediator_a, tree, resident_a)
    accept(mediator_a, case)
    agree(mediator_a, case)
    client = login(resident_a)
    html = client.get(url("my_case", case.pk)).content.decode()
    assert 'id="agreement-pdf"' in html and 'id="outcome-note"' not in html
    response = client.get(url("agreement_pdf", case.pk))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")


# --- a handler refers the dispute behind a micro-request (the request's page) ------------------------------
def _request(tree, resident_a):
    from linjialin.service_requests.models import Category
    from linjialin.service_requests.services import submit_request

    return submit_request(
        resident_a,
        place=tree.household_a1,
        request_type="help",
        description="楼上邻居家狗整夜叫，多次沟通无果，要求调解",
        category=Category.objects.get(code="corridor"),
    )


def test_a_handler_refers_a_request_from_its_page(tree, resident_a, grid_worker, mediation_manager, login):
    from linjialin.mediation.models import Case

    req = _request(tree, resident_a)
    client = login(grid_worker)
    page = client.get(reverse("requests:detail", args=[req.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert 'id="refer-to-mediation"' in page.content.decode()
    refer = url("from_request", req.pk)
    response = client.post(refer, {"title": "", "dispute_type": "neighbour"})  # no title: nothing written
    assert response.status_code == 302 and not Case.objects.exists()
    response = client.post(refer, {"title": "犬吠纠纷", "dispute_type": "neighbour"})
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/requests/{req.pk}/")
    assert case.service_request_id == req.pk and case.source == "request"
    client.post(refer, {"title": "again", "dispute_type": "neighbour"})  # referred once
    assert Case.objects.count() == 1
    # the requester sees the referral form nowhere and may not refer; an outsider does not see the request
    page = login(resident_a).get(reverse("requests:detail", args=[req.pk]))
    assert 'id="refer-to-mediation"' not in page.content.decode()
    assert login(resident_a).post(refer, {"title": "x", "dispute_type": "neighbour"}).status_code == 403


def test_an_outsider_gets_404_on_a_referral(tree, resident_a, outsider, login, client):
    req = _request(tree, resident_a)
    refer = url("from_request", req.pk)
    assert client.post(refer, {"title": "x", "dispute_type": "neighbour"}).status_code == 302  # → login
    assert login(outsider).post(refer, {"title": "x", "dispute_type": "neighbour"}).status_code == 404
