"""PIPL art. 45: a resident downloads everything held about them (zip of JSON + a readable PDF), only
what they may see; the download is audited."""

from __future__ import annotations

import io
import json
import zipfile

from django.urls import reverse
from django.utils import translation

from linjialin.core.models import AuditEvent
from linjialin.notifications.models import Notification
from linjialin.places import services as place_services
from linjialin.service_requests import services as request_services
from linjialin.service_requests.models import Category


def _submit(user, place, text):
    return request_services.submit_request(
        user,
        place=place,
        request_type="help",
        description=text,
        category=Category.objects.get(code="corridor"),
    )


def _download(client) -> tuple[dict, zipfile.ZipFile]:
    response = client.post(reverse("accounts:my_data_download"))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    return json.loads(archive.read("my-data.json")), archive


def test_resident_downloads_own_data_as_json_and_pdf(tree, resident_a, resident_b, community_worker, login):
    mine = _submit(resident_a, tree.household_a1, "楼道灯坏了")
    _submit(resident_b, tree.household_b1, "王五家的事")
    Notification.objects.create(user=resident_a, kind="t", title="给张三的通知")
    Notification.objects.create(user=resident_b, kind="t", title="给王五的通知")
    place_services.unmask_resident(community_worker, tree.resident_a1, reason="上门核实")

    data, archive = _download(login(resident_a))

    assert archive.read("my-data.pdf").startswith(b"%PDF")
    assert {"json/account.json", "json/requests.json", "json/audit.json"} <= set(archive.namelist())
    assert data["account"][0]["mobile"] == resident_a.mobile
    assert [r["name"] for r in data["resident_records"]] == ["张三"]
    assert data["resident_records"][0]["mobile"] == "13800000001"  # their own data in full
    assert [r["number"] for r in data["requests"]] == [mine.number]
    assert data["requests"][0]["timeline"]  # with the timeline they see
    assert [n["title"] for n in data["notifications"]] == ["给张三的通知"]
    text = json.dumps(data, ensure_ascii=False)
    assert "王五" not in text  # nothing about another resident
    seen = [e for e in data["audit"] if e["why"] == "上门核实"]
    assert seen and seen[0]["who"] == community_worker.display_name  # who viewed my data, and why
    event = AuditEvent.objects.get(action="privacy.data_downloaded")
    assert event.actor == resident_a and event.after["requests"] == 1


def test_download_needs_sign_in_and_post(tree, client):
    assert client.post(reverse("accounts:my_data_download")).status_code == 302
    assert not AuditEvent.objects.filter(action="privacy.data_downloaded").exists()


def test_my_data_page_in_both_languages(tree, resident_a, login):
    client = login(resident_a)
    for language, words in (("zh-hans", "我的个人信息"), ("en", "My personal data")):
        client.post(reverse("accounts:language"), {"language": language})
        with translation.override(language):
            url = reverse("accounts:my_data")  # English pages live under /en/
        page = client.get(url)
        assert page.status_code == 200 and words in page.content.decode()
    home = client.get(reverse("home"))
    assert reverse("accounts:my_data") in home.content.decode()


def test_download_shows_my_mediation_case_as_a_party_sees_it(tree, resident_a, login):
    from linjialin.mediation.services import cases

    case = cases.apply_for_mediation(
        resident_a,
        household=tree.household_a1,
        dispute_type="neighbour",
        title="噪音扰民",
        facts="楼上每晚十二点后还在装修",
        other_party_name="李四",
        other_party_mobile="13711112222",
    )
    data, _archive = _download(login(resident_a))
    (mine,) = data["mediation"]
    assert mine["number"] == case.number
    assert mine["my_party_record"]["name"] == "张三"
    text = json.dumps(data["mediation"], ensure_ascii=False)
    assert "13711112222" not in text  # the other party's number is not mine to download
