"""Photos "after the work" on resolve: taken with the result, checked before anything is written, shown
on the request page and on the entrance board next to the result (only to those who may see the board)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from linjialin.core.models import AuditEvent
from linjialin.service_requests import services
from linjialin.service_requests.models import RequestPhoto, State

from .test_pages import _english_and_media, jpeg  # noqa: F401  (the fixture: media in a temp folder)

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_progress(tree, resident_a, entrance_leader_a):
    req = services.submit_request(
        resident_a,
        place=tree.household_a1,
        request_type="help",
        description="楼道灯坏了",
        board_consent=True,
    )
    services.accept_request(entrance_leader_a, req)
    services.record_contact(entrance_leader_a, req, note="电话联系了")
    req.refresh_from_db()
    return req


def test_resolving_with_after_photos_stores_them_marked_after(in_progress, entrance_leader_a):
    two = [jpeg(), jpeg("b.jpg")]
    services.resolve_request(entrance_leader_a, in_progress, result="已更换灯泡", photos=two)
    in_progress.refresh_from_db()
    assert in_progress.state == State.RESOLVED
    assert list(in_progress.photos.values_list("after", flat=True)) == [True, True]
    event = in_progress.events.get(kind="photos")
    assert event.data["after"] is True and event.data["count"] == 2
    assert AuditEvent.objects.filter(action="request.photos", after__after=True).count() == 1


def test_a_bad_after_photo_writes_nothing(in_progress, entrance_leader_a):
    fake = SimpleUploadedFile("x.jpg", b"not an image", content_type="image/jpeg")
    with pytest.raises(ValidationError) as caught:
        services.resolve_request(entrance_leader_a, in_progress, result="已更换灯泡", photos=[fake])
    assert "photos" in caught.value.message_dict
    in_progress.refresh_from_db()
    assert in_progress.state == State.IN_PROGRESS and not RequestPhoto.objects.exists()


def test_only_the_handler_may_resolve_with_photos(in_progress, resident_a, grid_worker):
    from django.core.exceptions import PermissionDenied

    for someone in (resident_a, grid_worker):
        with pytest.raises(PermissionDenied):
            services.resolve_request(someone, in_progress, result="好了", photos=[jpeg()])
    assert not RequestPhoto.objects.exists()


def test_the_leader_resolves_with_a_photo_on_the_page_and_it_shows(
    login, in_progress, entrance_leader_a, resident_a, tree, outsider
):
    leader = login(entrance_leader_a)
    page = leader.get(reverse("requests:detail", args=[in_progress.pk])).content.decode()
    assert 'id="resolve-photos"' in page and 'enctype="multipart/form-data"' in page
    url = reverse("requests:act", args=[in_progress.pk, "resolve"])
    response = leader.post(url, {"text": "已更换灯泡", "photos": [jpeg()]})
    assert response.status_code == 302
    photo = RequestPhoto.objects.get()
    assert photo.after
    html = leader.get(reverse("requests:detail", args=[in_progress.pk])).content.decode()
    assert "After the work" in html and reverse("requests:photo", args=[in_progress.pk, photo.pk]) in html
    assert "photos after the work added" in html
    # the requester rates it, and it is on the board with its after photo
    in_progress.refresh_from_db()
    services.rate_request(resident_a, in_progress, solved=True, satisfaction="satisfied")
    board_url = reverse("requests:board_entrance", args=[tree.entrance_a.pk])
    photo_url = reverse("requests:board_photo", args=[tree.entrance_a.pk, photo.pk])
    board = login(resident_a).get(board_url).content.decode()
    assert "已更换灯泡" in board and photo_url in board
    assert login(resident_a).get(photo_url).status_code == 200
    assert login(outsider).get(photo_url).status_code == 404


def test_a_bad_photo_on_the_page_is_a_clear_error_and_nothing_changes(login, in_progress, entrance_leader_a):
    fake = SimpleUploadedFile("x.jpg", b"not an image", content_type="image/jpeg")
    url = reverse("requests:act", args=[in_progress.pk, "resolve"])
    response = login(entrance_leader_a).post(url, {"text": "已更换灯泡", "photos": [fake]})
    assert response.status_code == 422 and "invalid-feedback" in response.content.decode()
    in_progress.refresh_from_db()
    assert in_progress.state == State.IN_PROGRESS


def test_a_photo_of_a_request_not_on_the_board_is_not_served_there(login, tree, resident_a):
    req = services.submit_request(
        resident_a, place=tree.household_a1, request_type="help", description="漏水"
    )
    services.attach_photos(resident_a, req, [jpeg()])  # a "before" photo, and no board consent
    photo = RequestPhoto.objects.get()
    url = reverse("requests:board_photo", args=[tree.entrance_a.pk, photo.pk])
    assert login(resident_a).get(url).status_code == 404
