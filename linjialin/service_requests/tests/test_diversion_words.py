"""Kind words for a submission sent elsewhere: an emergency gets the number to call as a big call link
and is told that the people on duty follow it up; a court, arbitration or 信访 matter is told which
office can settle it. Neither is told "not accepted" (不予受理), in Chinese or in English."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import translation

from linjialin.service_requests.models import DiversionRule, ServiceRequest

from .test_intake import form_data

REFUSALS = ("不予受理", "not accepted", "Not accepted")


def _submit(client, text: str) -> tuple[ServiceRequest, str]:
    response = client.post(reverse("requests:submit"), form_data(description=text))
    req = ServiceRequest.objects.latest("pk")
    assert response.status_code == 302 and response["Location"] == reverse("requests:outcome", args=[req.pk])
    return req, client.get(response["Location"]).content.decode()


def _main(html: str) -> str:
    return html.split("<main", 1)[1].split("</main>", 1)[0]


@pytest.mark.parametrize(
    ("language", "text", "number", "heading", "kept"),
    [
        ("zh-hans", "厨房里有很重的燃气味", "119", "如有危险，请立即打电话求助", "社区值班人员已收到通知"),
        (
            "en",
            "my neighbour fainted on the stairs",
            "120",
            "If anyone is in danger, call for help now",
            "people on duty",
        ),
    ],
)
def test_an_emergency_gets_its_number_as_a_call_link_and_kind_words(
    login, resident_a, language, text, number, heading, kept
):
    client = login(resident_a)
    with translation.override(language):
        req, html = _submit(client, text)
        detail = _main(client.get(reverse("requests:detail", args=[req.pk])).content.decode())
    page = _main(html)
    button = rf'<a class="[^"]*emergency-call[^"]*" href="tel:{number}">([^<]+)'
    button += r"(?:<span[^>]*>[^<]*</span>)?</a>"
    call = re.search(button, page)
    assert call and number in call.group(1)
    assert page.index("emergency-call") < page.index("emergency-notice")  # the matched number comes first
    assert heading in page and kept in page and req.number in page
    for word in REFUSALS:
        assert word not in page and word not in detail
    assert ("紧急情况" if language == "zh-hans" else "emergency: call for help now") in detail


@pytest.mark.parametrize(
    ("language", "text", "channel", "heading"),
    [
        ("zh-hans", "物业欠款的事我已经向法院起诉了", "12368", "这件事由其他部门为您办理"),
        ("en", "公司拖欠工资，想申请劳动仲裁", "12333", "Another office can settle this for you"),
        ("zh-hans", "这件事我去过信访办了", "信访部门", "这件事由其他部门为您办理"),
    ],
)
def test_a_matter_for_another_office_says_where_help_is_without_refusing(
    login, resident_a, language, text, channel, heading
):
    client = login(resident_a)
    with translation.override(language):
        req, html = _submit(client, text)
        detail = _main(client.get(reverse("requests:detail", args=[req.pk])).content.decode())
        mine = _main(client.get(reverse("requests:mine")).content.decode())
    page = _main(html)
    assert heading in page and channel in page and req.number in page
    assert "tel:" not in page.split('id="diversion"', 1)[1]  # no emergency call for a court matter
    for word in REFUSALS:
        assert word not in page and word not in detail and word not in mine


def test_the_seeded_diversion_messages_do_not_refuse(db):
    rules = DiversionRule.objects.all()
    assert rules.filter(kind="litigation").exists() and rules.filter(kind="petition").exists()
    for rule in rules:
        assert "不予受理" not in rule.message_zh and "not accepted" not in rule.message_en


def test_the_rewording_leaves_a_message_an_administrator_wrote(db):
    from importlib import import_module

    from django.apps import apps

    migration = import_module("linjialin.service_requests.migrations.0013_kind_diversion_wording")
    kind, seeded, zh, _en = migration.REWORDED[0]
    own = DiversionRule.objects.create(kind=kind, keywords="仲裁庭", message_zh="请咨询街道司法所。")
    old = DiversionRule.objects.create(kind=kind, keywords="法院判决", message_zh=seeded)
    migration.reword(apps, None)
    own.refresh_from_db()
    old.refresh_from_db()
    assert own.message_zh == "请咨询街道司法所。" and old.message_zh == zh
