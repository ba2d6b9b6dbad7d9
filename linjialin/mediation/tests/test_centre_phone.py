"""The centre's phone on a party's pages: data (MediationRules.centre_phone, edited in the admin), shown
as a large tap-to-call link; without a number the page sends the party to their community worker
instead of saying "call the centre" with nothing to call."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from linjialin.mediation.models import MediationRules

from .test_cases_fixtures import register  # noqa: F401
from .test_party_page import url

pytestmark = pytest.mark.django_db


def _rules(phone: str) -> MediationRules:
    rules = MediationRules.objects.first() or MediationRules()
    rules.centre_phone = phone
    rules.full_clean()
    rules.save()
    return rules


def test_the_party_page_shows_the_centres_phone_as_a_call_link(tree, mediator_a, resident_a, login):
    _rules("010-6954 1234")
    case = register(mediator_a, tree, resident_a)
    html = login(resident_a).get(url("my_case", case.pk), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'href="tel:01069541234"' in html
    assert "Call the mediation centre: 010-6954 1234" in html


def test_the_party_page_in_chinese(tree, mediator_a, resident_a, login):
    _rules("010-69541234")
    case = register(mediator_a, tree, resident_a)
    html = login(resident_a).get(url("my_case", case.pk).removeprefix("/en")).content.decode()
    assert 'href="tel:01069541234"' in html and "拨打调解中心电话：010-69541234" in html


def test_a_changed_number_shows_at_once(tree, mediator_a, resident_a, login):
    _rules("010-69541234")
    case = register(mediator_a, tree, resident_a)
    _rules("12348")  # the admin edits the row
    html = login(resident_a).get(url("my_case", case.pk), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'href="tel:12348"' in html and "tel:01069541234" not in html


def test_without_a_number_no_empty_call_link(tree, mediator_a, resident_a, login):
    _rules("")
    case = register(mediator_a, tree, resident_a)
    html = login(resident_a).get(url("my_case", case.pk), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'href="tel:' not in html.split('id="centre-phone"')[1].split("</section>")[0]
    assert "Ask your community worker" in html


def test_the_confirmation_after_applying_shows_the_number(tree, resident_a, login):
    from linjialin.mediation.services import cases

    _rules("010-69541234")
    case = cases.apply_for_mediation(
        resident_a,
        household=tree.household_a1,
        dispute_type="neighbour",
        title="噪音扰民",
        facts="楼上装修",
        other_party_name="李四",
    )
    html = login(resident_a).get(url("apply_done", case.pk), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'href="tel:01069541234"' in html


@pytest.mark.parametrize("bad", ["call us", "010-6954-1234 ext. 5", "--"])
def test_a_number_that_is_not_one_is_refused_by_the_admin_form(bad):
    with pytest.raises(ValidationError) as exc:
        _rules(bad)
    assert "centre_phone" in exc.value.message_dict


def test_an_outsider_does_not_see_someone_elses_case(tree, mediator_a, resident_a, resident_b, login):
    _rules("010-69541234")
    case = register(mediator_a, tree, resident_a)
    assert login(resident_b).get(url("my_case", case.pk)).status_code == 404
