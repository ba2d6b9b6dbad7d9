"""The request pages: who sees what (anonymous → login, others → 404), submitting with clear errors and
nothing written on bad input, a double submit makes one request, the handler flow and rating via pages."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from PIL import Image

from linjialin.core.models import AuditEvent
from linjialin.service_requests import services
from linjialin.service_requests.models import Category, Channel, RequestPhoto, ServiceRequest, State


@pytest.fixture(autouse=True)
def _english_and_media(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "media"},
        },
    }
    with translation.override("en"):
        yield


def jpeg(name="p.jpg", pad=0):
    out = io.BytesIO()
    Image.new("RGB", (30, 20), (10, 120, 200)).save(out, "JPEG")
    return SimpleUploadedFile(name, out.getvalue() + b"\x00" * pad, content_type="image/jpeg")


def form_data(**kw):
    data = {
        "request_type": "help",
        "description": "楼道灯坏了，晚上看不见台阶",
        "category": "",
        "place": "household",
        "urgency": "normal",
        "client_token": "t-1",
    }
    data.update(kw)
    return data


def submitted(user):
    return ServiceRequest.objects.filter(submitted_by=user)


@pytest.fixture
def req(tree, resident_a):
    return services.submit_request(
        resident_a, place=tree.household_a1, request_type="help", description="门口的灯坏了"
    )


@pytest.mark.parametrize("name", ["requests:mine", "requests:submit", "requests:queue", "requests:behalf"])
def test_anonymous_goes_to_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_anonymous_detail_goes_to_login(client, req):
    response = client.get(reverse("requests:detail", args=[req.pk]))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_others_get_404_on_a_request(req, login, resident_a, resident_b, outsider, entrance_leader_a):
    url = reverse("requests:detail", args=[req.pk])
    assert login(outsider).get(url).status_code == 404
    assert login(resident_b).get(url).status_code == 404
    assert login(resident_b).post(reverse("requests:act", args=[req.pk, "withdraw"])).status_code == 404
    assert login(resident_a).get(url).status_code == 200
    assert login(entrance_leader_a).get(url).status_code == 200
    req.refresh_from_db()
    assert req.state == State.SUBMITTED


def test_visible_but_not_allowed_is_403(req, login, entrance_leader_a, resident_a):
    assert login(resident_a).post(reverse("requests:act", args=[req.pk, "accept"])).status_code == 403
    assert (
        login(entrance_leader_a).post(reverse("requests:act", args=[req.pk, "withdraw"])).status_code == 403
    )
    req.refresh_from_db()
    assert req.state == State.SUBMITTED


def test_submit_page_has_the_emergency_notice_and_a_fresh_token(login, resident_a):
    client = login(resident_a)
    first = client.get(reverse("requests:submit"))
    second = client.get(reverse("requests:submit"))
    html = first.content.decode()
    for number in ("110", "119", "120", "122"):
        assert f'href="tel:{number}"' in html
    assert first.context["form"].initial["client_token"] != second.context["form"].initial["client_token"]


def test_submit_happy_path_with_photos(login, resident_a, tree):
    client = login(resident_a)
    corridor = Category.objects.get(code="corridor")
    response = client.post(
        reverse("requests:submit"),
        form_data(category=corridor.pk, place="entrance", board_consent="on", photos=[jpeg(), jpeg("b.jpg")]),
    )
    req = submitted(resident_a).get()
    assert response.status_code == 302 and response["Location"] == reverse("requests:detail", args=[req.pk])
    assert (req.place, req.category, req.requester, req.channel, req.board_consent) == (
        tree.entrance_a,
        corridor,
        resident_a,
        Channel.RESIDENT,
        True,
    )
    assert req.photos.count() == 2
    page = client.get(reverse("requests:mine")).content.decode()
    assert req.number in page
    detail = client.get(response["Location"]).content.decode()
    assert "楼道灯坏了" in detail and "submitted" in detail and "photos added" in detail


def test_building_is_sent_to_the_grid_naming_the_building(login, resident_a, tree):
    login(resident_a).post(reverse("requests:submit"), form_data(place="building"))
    req = submitted(resident_a).get()
    assert req.place == tree.grid_1 and req.description.startswith("【1号楼】")


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"description": "   "}, "description", "Please describe the problem."),
        ({"description": "长" * 2001}, "description", "at most 2000 characters"),
        ({"category": "99999"}, "category", "Unknown category"),
        ({"request_type": "gossip"}, "request_type", "Choose a type"),
        ({"photos": [jpeg(f"{i}.jpg") for i in range(10)]}, "photos", "At most 9 photos"),
        (
            {"photos": [jpeg(), SimpleUploadedFile("cat.jpg", b"MZ\x90\x00" + b"\x00" * 2000, "image/jpeg")]},
            "photos",
            "cat.jpg is not a JPEG, PNG or WebP photo",
        ),
        ({"photos": [jpeg("huge.jpg", pad=20 * 1024 * 1024)]}, "photos", "huge.jpg is larger than 10 MB"),
    ],
)
def test_bad_input_gets_a_clear_message_and_nothing_is_written(login, resident_a, changes, field, message):
    response = login(resident_a).post(reverse("requests:submit"), form_data(**changes))
    assert response.status_code == 422
    form = response.context["form"]
    assert any(message in e for e in form.errors[field]), form.errors
    assert message in response.content.decode()
    assert not ServiceRequest.objects.exists() and not RequestPhoto.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="request.").exists()
    assert form["client_token"].value() != "t-1"  # the re-rendered form is a new submission


def test_double_submit_with_the_same_token_makes_one_request(login, resident_a):
    client = login(resident_a)
    first = client.post(reverse("requests:submit"), form_data(photos=[jpeg()]))
    second = client.post(reverse("requests:submit"), form_data(photos=[jpeg()]))
    req = submitted(resident_a).get()
    assert first["Location"] == second["Location"] == reverse("requests:detail", args=[req.pk])
    assert req.photos.count() == 1


def test_handler_flow_and_rating_through_the_pages(req, login, entrance_leader_a, resident_a):
    leader = login(entrance_leader_a)
    queue = leader.get(reverse("requests:queue"))
    assert [r.pk for r in queue.context["reqs"]] == [req.pk]
    detail = leader.get(reverse("requests:detail", args=[req.pk]))
    assert detail.context["actions"] == ["accept", "escalate"]  # filed directly: no dispatcher to return to
    assert detail.context["contact"]["mobile"] == "139****0001"  # not the handler yet: masked
    act = lambda name, text="": leader.post(reverse("requests:act", args=[req.pk, name]), {"text": text})  # noqa: E731
    assert act("accept").status_code == 302
    detail = leader.get(reverse("requests:detail", args=[req.pk]))
    assert detail.context["contact"]["mobile"] == "13900000001"  # the handler sees the number
    assert [r.pk for r in leader.get(reverse("requests:queue") + "?tab=mine").context["reqs"]] == [req.pk]
    response = act("contact", "")
    assert (
        response.status_code == 422
        and "Say how and when you reached the requester." in response.content.decode()
    )
    assert act("contact", "电话联系，约好明天上门").status_code == 302
    assert act("resolve", "已更换灯泡").status_code == 302
    req.refresh_from_db()
    assert req.state == State.RESOLVED and req.result == "已更换灯泡"

    resident = login(resident_a)
    page = resident.get(reverse("requests:detail", args=[req.pk]))
    assert page.context["can_rate"] and page.context["actions"] == []
    bad = resident.post(reverse("requests:rate", args=[req.pk]), {"solved": "yes"})
    assert bad.status_code == 422 and "Choose 满意, 基本满意 or 不满意." in bad.content.decode()
    ok = resident.post(
        reverse("requests:rate", args=[req.pk]), {"solved": "yes", "satisfaction": "satisfied"}
    )
    assert ok.status_code == 302
    req.refresh_from_db()
    assert req.state == State.CLOSED and req.satisfaction == "satisfied"
    kinds = [e.label for e in resident.get(reverse("requests:detail", args=[req.pk])).context["events"]]
    assert [str(k) for k in kinds] == [
        "submitted",
        "accepted",
        "requester contacted",
        "resolved",
        "rated / called back",
        "closed",
    ]


def test_not_solved_reopens_and_the_requester_may_withdraw(req, login, entrance_leader_a, resident_a):
    services.accept_request(entrance_leader_a, req)
    services.record_contact(entrance_leader_a, req, note="电话")
    services.resolve_request(entrance_leader_a, req, result="修了")
    resident = login(resident_a)
    resident.post(reverse("requests:rate", args=[req.pk]), {"solved": "no", "satisfaction": "unsatisfied"})
    req.refresh_from_db()
    assert req.state == State.IN_PROGRESS and req.reopen_count == 1
    assert "withdraw" in resident.get(reverse("requests:detail", args=[req.pk])).context["actions"]
    resident.post(reverse("requests:act", args=[req.pk, "withdraw"]), {"text": "自己修好了"})
    req.refresh_from_db()
    assert req.state == State.WITHDRAWN


def test_entrance_leader_submits_on_behalf_of_a_household(login, entrance_leader_a, tree):
    client = login(entrance_leader_a)
    assert client.get(reverse("requests:submit"))["Location"] == reverse("requests:behalf")
    data = form_data(household=tree.household_a2.pk, contact_name="李奶奶", contact_mobile="13712345678")
    response = client.post(reverse("requests:behalf"), data)
    req = submitted(entrance_leader_a).get()
    assert response.status_code == 302
    assert (req.channel, req.place, req.requester, req.contact_name) == (
        Channel.ON_BEHALF,
        tree.household_a2,
        None,
        "李奶奶",
    )
    client.post(reverse("requests:behalf"), data)  # the same token again
    assert submitted(entrance_leader_a).count() == 1
    other = client.post(
        reverse("requests:behalf"),
        form_data(household=tree.household_x1.pk, client_token="t-2"),  # noqa: S106
    )
    assert other.status_code == 422 and "search for the household again" in other.content.decode()


def test_contact_is_masked_for_viewers_who_are_not_the_handler(
    req, login, grid_worker, subdistrict_dispatcher
):
    page = login(grid_worker).get(reverse("requests:detail", args=[req.pk]))
    assert page.context["contact"]["mobile"] == "139****0001" and page.context["contact"]["name"] == "张*"
    assert "张三" not in page.content.decode() and "13900000001" not in page.content.decode()
    assert page.context["events"][0].actor_name == "the requester"
    page = login(subdistrict_dispatcher).get(reverse("requests:detail", args=[req.pk]))
    assert page.context["contact"]["mobile"] == "13900000001"


def test_the_requester_sees_their_own_contact(req, login, resident_a):
    page = login(resident_a).get(reverse("requests:detail", args=[req.pk]))
    assert page.context["contact"] == {"name": "张三", "mobile": "13900000001", "full": True}


def test_nav_shows_requests_to_who_may_use_them(login, resident_a, auditor):
    # (the home page passes its own `perms`, so the nav is read on another page)
    assert (
        f'href="{reverse("requests:mine")}"'
        in login(resident_a).get(reverse("places:browse"), follow=True).content.decode()
    )
    html = login(auditor).get(reverse("places:browse"), follow=True).content.decode()
    assert reverse("requests:mine") not in html and reverse("requests:queue") not in html


def test_photos_are_added_to_an_open_request(req, login, resident_a, resident_b, entrance_leader_a):
    url = reverse("requests:add_photos", args=[req.pk])
    bad = login(resident_a).post(url, {"photos": [jpeg(), SimpleUploadedFile("x.jpg", b"MZ" + b"\0" * 100)]})
    assert bad.status_code == 422 and "x.jpg is not a JPEG, PNG or WebP photo." in bad.content.decode()
    assert not RequestPhoto.objects.exists()
    assert login(resident_a).post(url, {}).status_code == 422
    assert login(resident_a).post(url, {"photos": [jpeg()]}).status_code == 302
    assert login(entrance_leader_a).post(url, {"photos": [jpeg()]}).status_code == 302
    assert login(resident_b).post(url, {"photos": [jpeg()]}).status_code == 404
    assert req.photos.count() == 2
    services.withdraw_request(resident_a, req)
    assert login(resident_a).post(url, {"photos": [jpeg()]}).status_code == 403
    assert not login(resident_a).get(reverse("requests:detail", args=[req.pk])).context["can_add_photos"]
