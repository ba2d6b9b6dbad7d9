"""A new mediation application → the centre's managers and the mediators of the applicant's community,
each in their own language; the community's mediators get a notice that leads to a page they can open
(their desk: the case itself is confidential to its team until the managers form it)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from linjialin.mediation.services import cases
from linjialin.notifications.models import Notification
from linjialin.testing.plugin import make_user

pytestmark = pytest.mark.django_db


def _apply(tree, resident_a):
    return cases.apply_for_mediation(
        resident_a,
        household=tree.household_a1,
        dispute_type="neighbour",
        title="噪音扰民",
        facts="楼上每晚十二点后还在装修",
        other_party_name="李四",
        client_token="apply-1",  # noqa: S106 (a double-submit token, not a secret)
    )


def _notice(user, kind="mediation.application.new"):
    return Notification.objects.filter(user=user, kind=kind).first()


def test_a_new_application_tells_the_managers_and_the_communitys_mediators(
    tree, resident_a, mediation_manager, mediator_a, mediator_b, lawyer, client
):
    mediation_manager.language, mediator_a.language = "zh-hans", "en"
    mediation_manager.save(update_fields=["language"])
    mediator_a.save(update_fields=["language"])
    case = _apply(tree, resident_a)
    manager_notice = _notice(mediation_manager, "mediation.case.new")
    assert manager_notice is not None and manager_notice.link == reverse("mediation:case", args=[case.pk])
    notice = _notice(mediator_a)
    assert notice is not None
    assert notice.title == f"New mediation application from {tree.community_1.name}: case {case.number}"
    assert notice.link == reverse("mediation:desk")
    assert "噪音" not in notice.title + notice.body and "李四" not in notice.body  # no content
    # the link opens for the mediator (no dead end), the case itself stays the team's
    client.force_login(mediator_a)
    assert client.get(notice.link).status_code == 200
    assert client.get(reverse("mediation:case", args=[case.pk])).status_code == 404
    # another community's mediator, a subdistrict lawyer and the applicant are not told
    assert _notice(mediator_b) is None and _notice(lawyer) is None
    assert not Notification.objects.filter(user=resident_a, kind__startswith="mediation.").exists()
    # the manager is told once (as a manager, not again as a mediator)
    assert Notification.objects.filter(user=mediation_manager).count() == 1


def test_the_notice_is_written_in_chinese_for_a_chinese_reader(tree, resident_a, mediator_a):
    mediator_a.language = "zh-hans"
    mediator_a.save(update_fields=["language"])
    case = _apply(tree, resident_a)
    notice = _notice(mediator_a)
    assert notice.title == f"{tree.community_1.name}有新的调解申请：案件{case.number}"
    assert "调解小组" in notice.body


def test_a_mediator_whose_grant_ended_is_not_told(tree, resident_a):
    today = timezone.localdate()
    former = make_user(
        "13900000091",
        "前调解员",
        "mediator",
        tree.community_1,
        valid_from=today - timedelta(days=60),
        valid_to=today - timedelta(days=1),
    )
    _apply(tree, resident_a)
    assert _notice(former) is None


def test_a_double_tap_tells_each_mediator_once(tree, resident_a, mediator_a):
    _apply(tree, resident_a)
    _apply(tree, resident_a)
    assert Notification.objects.filter(user=mediator_a, kind="mediation.application.new").count() == 1


def test_a_case_the_mediator_registers_at_the_desk_tells_no_other_mediator(tree, mediator_a, resident_a):
    other = make_user("13900000093", "调解员丙", "mediator", tree.community_1)
    cases.register_case(
        mediator_a,
        source="application",
        title="噪音纠纷",
        dispute_type="neighbour",
        place=tree.entrance_a,
        facts="楼上夜间噪音",
        parties=[
            {"side": "applicant", "name": "张三", "mobile": "13800000001"},
            {"side": "respondent", "name": "王五"},
        ],
    )
    assert _notice(other) is None  # desk registrations have a team already (the registrar leads)
