"""Intake screening (docs/intake.md): emergencies flagged and not queued, with the numbers shown and the
people on duty told; court / arbitration / 信访 matters recorded as not accepted with the channel
explained; "not about that" goes through normally with the match on the timeline; a repeat with no new
facts is linked to the open request and the resident is shown its progress."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation

from linjialin.core.models import AuditEvent
from linjialin.notifications.models import Notification
from linjialin.service_requests import intake, metrics, services
from linjialin.service_requests.models import (
    Category,
    Diversion,
    DiversionRule,
    RequestRules,
    ServiceRequest,
    State,
)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


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


SECOND, THIRD = "t-2", "t-3"  # client tokens of later submissions


def queue_ids(client, tab="new"):
    response = client.get(reverse("requests:queue") + f"?tab={tab}")
    assert response.status_code == 200
    return [r.pk for r in response.context["reqs"]]


# --- matching ---------------------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "kind", "keyword"),
    [
        ("楼下有人晕倒了，快来人", "emergency", "有人晕倒"),
        ("厨房 煤气泄漏 的味道很重", "emergency", "煤气泄漏"),
        ("小区门口发生车祸", "emergency", "车祸"),
        ("Someone has a KNIFE in the lobby", "emergency", "knife"),
        ("我已经向法院起诉了物业", "litigation", "起诉"),
        ("申请劳动仲裁的事", "arbitration", "劳动仲裁"),
        ("我要去信访局上访", "petition", "信访"),
        ("ｆｉｒｅ！", "emergency", "fire"),  # full-width letters are normalised (NFKC)
    ],
)
def test_seeded_rules_match_on_normalised_text(text, kind, keyword):
    DiversionRule.objects.filter(kind="emergency", keywords__contains="着火").update(
        keywords="着火\n煤气泄漏\nfire"
    )
    match = intake.match_diversion(text)
    assert match is not None and match.kind == kind and match.keyword == keyword
    assert match.message_zh and match.referred_to


@pytest.mark.django_db
@pytest.mark.parametrize(
    "text", ["The courtyard lamp is broken", "楼道灯坏了", "邻居装修噪音太大", "", "fireworks at night"]
)
def test_ordinary_text_matches_nothing(text):
    assert intake.match_diversion(text) is None


@pytest.mark.django_db
def test_rules_are_data_an_inactive_rule_no_longer_matches():
    assert intake.match_diversion("我要去上访") is not None
    DiversionRule.objects.filter(kind=Diversion.PETITION).update(active=False)
    assert intake.match_diversion("我要去上访") is None


@pytest.mark.django_db
def test_the_service_does_not_screen_unless_asked(tree, resident_a):
    req = services.submit_request(
        resident_a, place=tree.household_a1, request_type="help", description="楼道里着火了"
    )
    assert req.state == State.SUBMITTED and req.diversion == ""


# --- emergencies ------------------------------------------------------------------------------------
def test_emergency_is_flagged_not_queued_and_the_numbers_are_shown(
    login, resident_a, entrance_leader_a, grid_worker, community_worker, tree
):
    client = login(resident_a)
    response = client.post(reverse("requests:submit"), form_data(description="楼道里着火了，好多烟"))
    req = ServiceRequest.objects.get(submitted_by=resident_a)
    assert response.status_code == 302 and response["Location"] == reverse("requests:outcome", args=[req.pk])
    assert req.state == State.NOT_ACCEPTED and req.diversion == Diversion.EMERGENCY
    assert req.accept_by is None and req.resolve_by is None
    page = client.get(response["Location"])
    html = page.content.decode()
    assert 'href="tel:119"' in html and "emergency-notice" in html and "119 火警" in html
    assert "call 119 (fire) at once" in html
    # the people on duty are told at once; the handler's queue does not get it
    told = set(Notification.objects.filter(kind="request.emergency").values_list("user_id", flat=True))
    assert {grid_worker.pk, community_worker.pk} <= told and resident_a.pk not in told
    assert req.pk not in queue_ids(login(entrance_leader_a))
    assert req.pk not in queue_ids(login(grid_worker))
    event = req.events.get(kind="diverted")
    assert event.data["diversion"] == "emergency" and event.data["keyword"] == "着火"
    assert AuditEvent.objects.filter(action="request.diverted", object_id=str(req.pk)).exists()
    # the grid worker (notified) may open it to follow it up
    assert login(grid_worker).get(reverse("requests:detail", args=[req.pk])).status_code == 200


def test_risk_to_life_shows_the_notice_and_is_queued(login, resident_a, entrance_leader_a):
    client = login(resident_a)
    response = client.post(reverse("requests:submit"), form_data(urgency="risk", description="阳台护栏松动"))
    req = ServiceRequest.objects.get(submitted_by=resident_a)
    assert response["Location"] == reverse("requests:outcome", args=[req.pk])
    assert req.state == State.SUBMITTED and req.diversion == ""
    html = client.get(response["Location"]).content.decode()
    assert 'href="tel:110"' in html and "emergency-notice" in html and "shortest time limit" in html
    assert req.pk in queue_ids(login(entrance_leader_a))


def test_outcome_page_of_an_ordinary_request_goes_to_its_detail(login, resident_a, outsider):
    client = login(resident_a)
    client.post(reverse("requests:submit"), form_data())
    req = ServiceRequest.objects.get(submitted_by=resident_a)
    response = client.get(reverse("requests:outcome", args=[req.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("requests:detail", args=[req.pk])
    assert login(outsider).get(reverse("requests:outcome", args=[req.pk])).status_code == 404


# --- litigation / arbitration / 信访 ----------------------------------------------------------------
def test_litigation_is_not_accepted_with_the_channel_explained(login, resident_a, entrance_leader_a):
    client = login(resident_a)
    response = client.post(
        reverse("requests:submit"), form_data(description="物业欠款的事我已经向法院起诉了，请社区督促")
    )
    req = ServiceRequest.objects.get(submitted_by=resident_a)
    assert req.state == State.NOT_ACCEPTED and req.diversion == Diversion.LITIGATION
    assert req.closed_at is not None
    html = client.get(response["Location"]).content.decode()
    assert "12368" in html and "人民法院" in html and "Not about that?" in html
    assert f"?again={req.pk}" in html
    # under "my requests", with the explanation on its timeline
    assert req in client.get(reverse("requests:mine")).context["reqs"]
    detail = client.get(reverse("requests:detail", args=[req.pk])).content.decode()
    assert "another office can settle it" in detail and "12368" in detail
    assert "not accepted" not in detail  # the requester is told where help is, not refused
    assert req.pk not in queue_ids(login(entrance_leader_a))
    audit = AuditEvent.objects.get(action="request.diverted", object_id=str(req.pk))
    assert audit.after["diversion"] == "litigation" and audit.after["keyword"] == "起诉"
    assert not Notification.objects.filter(kind="request.emergency").exists()


@pytest.mark.parametrize(
    ("text", "kind", "channel"),
    [
        ("公司拖欠工资，想申请劳动仲裁", "arbitration", "仲裁委员会"),
        ("这件事我去过信访办了", "petition", "信访"),
    ],
)
def test_arbitration_and_petition_are_not_accepted(login, resident_a, text, kind, channel):
    client = login(resident_a)
    response = client.post(reverse("requests:submit"), form_data(description=text))
    req = ServiceRequest.objects.get(submitted_by=resident_a)
    assert (req.state, req.diversion) == (State.NOT_ACCEPTED, kind)
    assert channel in client.get(response["Location"]).content.decode()


def test_not_about_that_goes_through_normally_with_the_match_on_the_timeline(
    login, resident_a, entrance_leader_a
):
    client = login(resident_a)
    client.post(reverse("requests:submit"), form_data(description="法院路口的路灯坏了", place="entrance"))
    diverted = ServiceRequest.objects.get(submitted_by=resident_a)
    assert diverted.diversion == Diversion.LITIGATION
    # the "submit it as a normal request" link: the form again, filled in, with the box
    page = client.get(reverse("requests:submit") + f"?again={diverted.pk}")
    html = page.content.decode()
    assert page.status_code == 200 and 'name="not_diverted"' in html and "法院路口的路灯坏了" in html
    assert page.context["form"].initial["place"] == "entrance"
    # without ticking the box it is diverted again
    client.post(reverse("requests:submit"), form_data(description="法院路口的路灯坏了", client_token=SECOND))
    assert ServiceRequest.objects.filter(submitted_by=resident_a, diversion="litigation").count() == 2
    response = client.post(
        reverse("requests:submit"),
        form_data(description="法院路口的路灯坏了", client_token=THIRD, not_diverted="on", again=diverted.pk),
    )
    req = ServiceRequest.objects.get(submitted_by=resident_a, client_token=THIRD)
    assert response["Location"] == reverse("requests:detail", args=[req.pk])
    assert req.state == State.SUBMITTED and req.diversion == "" and req.accept_by is not None
    event = req.events.get(kind="diversion_overridden")
    assert event.data["diversion"] == "litigation" and "法院" in event.note
    assert AuditEvent.objects.filter(action="request.diversion_overridden", object_id=str(req.pk)).exists()
    assert req.pk in queue_ids(login(entrance_leader_a))


def test_again_only_for_ones_own_diverted_request(login, resident_a, resident_b):
    login(resident_a).post(reverse("requests:submit"), form_data(description="我要上访"))
    diverted = ServiceRequest.objects.get(submitted_by=resident_a)
    page = login(resident_b).get(reverse("requests:submit") + f"?again={diverted.pk}")
    assert page.status_code == 200 and "我要上访" not in page.content.decode()
    assert page.context["again"] is None


def test_behalf_emergency_is_diverted_and_the_leader_may_resubmit(login, entrance_leader_a, tree):
    client = login(entrance_leader_a)
    response = client.post(
        reverse("requests:behalf"),
        form_data(
            household=tree.household_a2.pk,
            contact_name="李四",
            contact_mobile="13800000002",
            description="老人在家晕倒了",
        ),
    )
    req = ServiceRequest.objects.get(submitted_by=entrance_leader_a)
    assert req.diversion == Diversion.EMERGENCY and req.channel == "on_behalf"
    html = client.get(response["Location"]).content.decode()
    assert "120" in html and reverse("requests:behalf") + f"?again={req.pk}" in html
    page = client.get(reverse("requests:behalf") + f"?again={req.pk}")
    initial = page.context["form"].initial
    assert (initial["household"], initial["contact_name"]) == (tree.household_a2.pk, "李四")
    assert 'name="not_diverted"' in page.content.decode()


# --- repeats ----------------------------------------------------------------------------------------
@pytest.fixture
def open_req(tree, resident_a):
    return services.submit_request(
        resident_a,
        place=tree.household_a1,
        request_type="help",
        description="楼道灯坏了，晚上看不见台阶",
        category=Category.objects.get(code="corridor"),
    )


def test_repeat_asks_first_then_links_without_new_facts(login, resident_a, open_req):
    client = login(resident_a)
    response = client.post(
        reverse("requests:submit"), form_data(description="楼道灯还是坏的，晚上看不见台阶")
    )
    assert response.status_code == 200 and ServiceRequest.objects.count() == 1  # nothing written yet
    html = response.content.decode()
    assert open_req.number in html and 'name="repeat_answer"' in html and "See its progress" in html
    # submitted again without an answer: asked again, with a message, still nothing written
    response = client.post(
        reverse("requests:submit"), form_data(description="楼道灯还是坏的，晚上看不见台阶", repeat_asked="1")
    )
    assert response.status_code == 422 and "Say whether there are new facts." in response.content.decode()
    assert ServiceRequest.objects.count() == 1
    response = client.post(
        reverse("requests:submit"),
        form_data(description="楼道灯还是坏的，晚上看不见台阶", repeat_answer="link"),
    )
    linked = ServiceRequest.objects.exclude(pk=open_req.pk).get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "requests:detail", args=[open_req.pk]
    )
    assert linked.state == State.MERGED and linked.repeat_of == open_req and linked.merged_into == open_req
    assert ServiceRequest.objects.filter(submitted_by=resident_a, state__in=["submitted"]).count() == 1
    assert linked.events.filter(kind="repeat_linked").exists()
    on_open = open_req.events.get(kind="repeat")
    assert on_open.actor is None and linked.number in on_open.note
    assert AuditEvent.objects.filter(action="request.repeat_linked", object_id=str(linked.pk)).exists()
    page = client.get(response["Location"])
    assert "still open" in page.content.decode()


def test_repeat_with_new_facts_goes_through(login, resident_a, open_req, entrance_leader_a):
    client = login(resident_a)
    response = client.post(
        reverse("requests:submit"),
        form_data(
            description="今天有老人在楼道摔倒了",
            category=Category.objects.get(code="corridor").pk,
            repeat_answer="new",
        ),
    )
    new = ServiceRequest.objects.exclude(pk=open_req.pk).get()
    assert response["Location"] == reverse("requests:detail", args=[new.pk])
    assert new.state == State.SUBMITTED and new.repeat_of is None
    assert new.events.get(kind="repeat_new_facts").data["of"] == open_req.number
    assert new.pk in queue_ids(login(entrance_leader_a))


def test_same_category_at_the_same_place_is_a_repeat(tree, resident_a, open_req):
    with pytest.raises(intake.PossibleRepeat) as found:
        services.submit_request(
            resident_a,
            place=tree.household_a1,
            request_type="complaint",
            description="完全不同的描述文字",
            category=Category.objects.get(code="corridor"),
            screen=True,
        )
    assert found.value.existing == open_req
    assert ServiceRequest.objects.count() == 1


def test_not_a_repeat_elsewhere_after_the_window_or_once_closed(tree, resident_a, resident_b, open_req):
    def check(user, place, text="楼道灯坏了，晚上看不见台阶"):
        return intake.find_repeat(actor=user, requester=user, place=place, category=None, description=text)

    assert check(resident_a, tree.household_a1) == open_req
    assert check(resident_a, tree.household_a1, "电梯异响") is None  # other text, no category
    assert check(resident_b, tree.household_b1) is None  # another place
    RequestRules.objects.update_or_create(pk=1, defaults={"repeat_days": 7})
    ServiceRequest.objects.filter(pk=open_req.pk).update(submitted_at=timezone.now() - timedelta(days=8))
    assert check(resident_a, tree.household_a1) is None
    ServiceRequest.objects.filter(pk=open_req.pk).update(submitted_at=timezone.now(), state=State.CLOSED)
    assert check(resident_a, tree.household_a1) is None


def test_an_entrance_request_repeats_only_the_same_persons(tree, resident_a, entrance_leader_a):
    theirs = services.submit_request(
        entrance_leader_a, place=tree.entrance_a, request_type="help", description="单元门禁坏了"
    )

    def check(user):
        return intake.find_repeat(
            actor=user, requester=user, place=tree.entrance_a, category=None, description="单元门禁坏了"
        )

    assert check(entrance_leader_a) == theirs
    assert check(resident_a) is None


def test_a_diversion_wins_over_a_repeat(login, resident_a, open_req):
    login(resident_a).post(reverse("requests:submit"), form_data(description="楼道灯坏了，楼道里着火了"))
    req = ServiceRequest.objects.exclude(pk=open_req.pk).get()
    assert req.diversion == Diversion.EMERGENCY and req.repeat_of is None


def test_bad_repeat_answer_is_a_clear_message(tree, resident_a):
    with pytest.raises(Exception) as exc:
        services.submit_request(
            resident_a, place=tree.household_a1, request_type="help", description="x", screen=True, repeat="?"
        )
    assert "new facts" in str(exc.value)
    assert not ServiceRequest.objects.exists()


# --- photos and the rates ---------------------------------------------------------------------------
@pytest.fixture
def media(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "media"},
        },
    }


def jpeg():
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (30, 20), (200, 20, 20)).save(out, "JPEG")
    return SimpleUploadedFile("p.jpg", out.getvalue(), content_type="image/jpeg")


def test_photos_stay_with_a_diverted_or_linked_submission(media, login, resident_a, open_req):
    client = login(resident_a)
    client.post(reverse("requests:submit"), form_data(description="楼道着火了", photos=[jpeg()]))
    diverted = ServiceRequest.objects.get(diversion=Diversion.EMERGENCY)
    assert diverted.photos.count() == 1
    client.post(
        reverse("requests:submit"),
        form_data(
            description=open_req.description, client_token=SECOND, repeat_answer="link", photos=[jpeg()]
        ),
    )
    linked = ServiceRequest.objects.get(repeat_of=open_req)
    assert linked.photos.count() == 1 and open_req.photos.count() == 0


def test_diverted_and_linked_submissions_are_not_counted_in_the_rates(
    login, resident_a, open_req, tree, subdistrict_dispatcher
):
    client = login(resident_a)
    client.post(reverse("requests:submit"), form_data(description="我要去法院起诉"))
    client.post(
        reverse("requests:submit"),
        form_data(description=open_req.description, client_token=SECOND, repeat_answer="link"),
    )
    assert ServiceRequest.objects.count() == 3
    period = (timezone.now() - timedelta(days=1), timezone.now() + timedelta(minutes=1))
    total, _rows = metrics.rates_by_place(subdistrict_dispatcher, tree.subdistrict, period)
    # the open request only (in progress: its windows have not closed yet)
    assert (total.signoff.denominator, total.signoff.pending) == (0, 1)
    assert (total.completion.denominator, total.completion.pending) == (0, 1)


def test_outcome_for_an_api_client(tree, resident_a, open_req):
    diverted = services.submit_request(
        resident_a, place=tree.household_a1, request_type="help", description="劳动仲裁的事", screen=True
    )
    said = intake.outcome(diverted)
    assert said["diversion"] == "arbitration" and "12333" in said["diversion_message"]
    assert said["referred_to"] and said["repeat_of"] is None
    linked = services.submit_request(
        resident_a,
        place=tree.household_a1,
        request_type="help",
        description=open_req.description,
        screen=True,
        repeat="link",
    )
    said = intake.outcome(linked)
    assert said["diversion"] is None and said["repeat_of"] == open_req.pk
    assert said["repeat_of_number"] == open_req.number
    assert intake.outcome(open_req) == {
        "diversion": None,
        "diversion_message": "",
        "referred_to": "",
        "repeat_of": None,
        "repeat_of_number": "",
    }
