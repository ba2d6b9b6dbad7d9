"""A submission diverted as an emergency (a gas leak, a fire) is answered kindly: the number to call as a
large call button first, what to do, and that the people on duty were told — never "not accepted" — in
both languages; other diversions still say where the matter belongs."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from linjialin.service_requests.models import Diversion, DiversionRule, ServiceRequest, State

pytestmark = pytest.mark.django_db


def _submit(client, description: str) -> ServiceRequest:
    with translation.override("en"):
        url = reverse("requests:submit")
    client.post(
        url.removeprefix("/en"),
        {
            "request_type": "help",
            "description": description,
            "category": "",
            "place": "household",
            "urgency": "normal",
        },
    )
    return ServiceRequest.objects.latest("pk")


def _outcome(client, req, language: str) -> str:
    with translation.override(language):
        url = reverse("requests:outcome", args=[req.pk])
    return client.get(url).content.decode()


def _section(html: str, marker: str) -> str:
    return html.split(marker, 1)[1].split("</section>", 1)[0]


def test_a_gas_leak_gets_a_kind_answer_in_chinese(login, resident_a):
    client = login(resident_a)
    req = _submit(client, "楼道里有燃气泄漏的味道，很浓")
    assert req.state == State.NOT_ACCEPTED and req.diversion == Diversion.EMERGENCY
    html = _outcome(client, req, "zh-hans")
    assert "如有危险，请立即打电话求助" in html
    calls = html.split('id="emergency-calls"', 1)[1].split("</div>", 1)[0]
    assert 'href="tel:119"' in calls and "立即拨打 119" in calls and "火警" in calls
    assert html.index('id="emergency-calls"') < html.index('id="diversion"')  # the call comes first
    diversion = _section(html, 'id="diversion"')
    assert "不予受理" not in diversion and "社区值班人员已收到通知" in diversion and req.number in diversion
    assert "关闭阀门" in diversion  # what to do with gas, from the rule (data)
    detail = client.get(reverse("requests:detail", args=[req.pk])).content.decode()
    state = detail.split('id="request-state">', 1)[1].split("</span>", 1)[0]
    assert state == "紧急情况：请立即拨打求助电话"


def test_a_gas_leak_gets_a_kind_answer_in_english(login, resident_a):
    client = login(resident_a)
    req = _submit(client, "gas leak in the stairwell")
    html = _outcome(client, req, "en")
    assert "If anyone is in danger, call for help now" in html
    assert "Call 119 now" in html and 'href="tel:119"' in html
    diversion = _section(html, 'id="diversion"')
    assert "not accepted" not in diversion.lower() and "You are not alone" in diversion
    assert "close the valve" in diversion


def test_the_gas_companys_line_becomes_a_second_call_button_when_the_admin_adds_it(login, resident_a):
    rule = DiversionRule.objects.filter(kind=Diversion.EMERGENCY, keywords__contains="燃气泄漏").get()
    rule.referred_to = "119 火警；96777 燃气抢修"
    rule.save(update_fields=["referred_to"])
    client = login(resident_a)
    req = _submit(client, "家里燃气泄漏了")
    calls = _outcome(client, req, "zh-hans").split('id="emergency-calls"', 1)[1].split("</div>", 1)[0]
    assert 'href="tel:119"' in calls and 'href="tel:96777"' in calls and "燃气抢修" in calls


def test_a_court_matter_still_says_where_it_belongs(login, resident_a):
    client = login(resident_a)
    req = _submit(client, "我要起诉邻居，请问怎么去法院立案")
    assert req.diversion and req.diversion != Diversion.EMERGENCY
    html = _outcome(client, req, "en")
    assert 'id="emergency-calls"' not in html
    section = _section(html, 'id="diversion"')
    assert "12368" in section and "the office above is the one that can really settle it" in section
    assert "not accepted" not in section


def test_an_outsider_cannot_open_the_outcome(login, resident_a, outsider):
    req = _submit(login(resident_a), "楼道里着火了")
    assert login(outsider).get(reverse("requests:outcome", args=[req.pk])).status_code == 404
