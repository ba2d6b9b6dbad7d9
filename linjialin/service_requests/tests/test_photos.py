"""Request photos: type by content, size and count limits (data), EXIF/GPS removed, nothing stored on error,
served only through a visibility-checked view."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from PIL import Image

from linjialin.service_requests import services
from linjialin.service_requests.models import PageRules, RequestEvent, RequestPhoto


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "media"},
        },
    }
    with translation.override("en"):
        yield tmp_path / "media"


def image_bytes(fmt="JPEG", size=(40, 30), gps=False, color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", size, color)
    kwargs = {}
    if gps:
        exif = Image.Exif()
        exif[0x010F] = "PhoneMaker"  # Make
        exif[0x8825] = {1: "N", 2: (39.0, 54.0, 20.0), 3: "E", 4: (116.0, 23.0, 30.0)}  # GPS
        kwargs["exif"] = exif
    image.save(out, fmt, **kwargs)
    return out.getvalue()


def upload(name="p.jpg", data=None, content_type="image/jpeg"):
    return SimpleUploadedFile(name, image_bytes() if data is None else data, content_type=content_type)


def stored_files(media):
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


@pytest.fixture
def req(tree, resident_a):
    return services.submit_request(
        resident_a, place=tree.household_a1, request_type="help", description="楼道灯坏了"
    )


def test_photos_are_reencoded_without_exif_and_gps(req, resident_a, _media):
    original = image_bytes(gps=True)
    assert Image.open(io.BytesIO(original)).getexif().get(0x8825)  # the test photo does carry GPS
    png, webp = image_bytes("PNG"), image_bytes("WEBP")
    photos = services.attach_photos(
        resident_a,
        req,
        [
            upload("gps.jpg", original),
            upload("a.png", png, "image/png"),
            upload("b.webp", webp, "image/webp"),
        ],
    )
    assert [p.content_type for p in photos] == ["image/jpeg", "image/png", "image/webp"]
    stored = photos[0].file.open("rb").read()
    assert stored != original
    exif = Image.open(io.BytesIO(stored)).getexif()
    assert 0x8825 not in exif and 0x010F not in exif
    assert len(stored_files(_media)) == 3
    assert RequestEvent.objects.filter(request=req, kind="photos").get().data == {"count": 3}


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("photo.jpg", b"MZ\x90\x00" + b"\x00" * 4000, "is not a JPEG, PNG or WebP photo"),  # a renamed .exe
        ("photo.jpg", b"\x7fELF\x02\x01\x01" + b"\x00" * 4000, "is not a JPEG, PNG or WebP photo"),
        ("anim.gif", None, "is not a JPEG, PNG or WebP photo"),
    ],
)
def test_a_file_that_is_not_a_photo_is_refused_and_nothing_is_stored(
    req, resident_a, _media, name, data, message
):
    if data is None:
        out = io.BytesIO()
        Image.new("RGB", (10, 10)).save(out, "GIF")
        data = out.getvalue()
    with pytest.raises(ValidationError, match=message):
        services.attach_photos(resident_a, req, [upload("good.jpg"), upload(name, data)])
    assert not RequestPhoto.objects.exists() and stored_files(_media) == []


def test_size_and_count_limits_are_data(req, resident_a, _media):
    big = image_bytes() + b"\x00" * (20 * 1024 * 1024)  # a real JPEG padded to 20 MB
    with pytest.raises(ValidationError, match="larger than 10 MB"):
        services.attach_photos(resident_a, req, [upload("big.jpg", big)])
    with pytest.raises(ValidationError, match="At most 9 photos"):
        services.attach_photos(resident_a, req, [upload(f"{i}.jpg") for i in range(10)])
    PageRules.objects.create(max_photos=2, max_megabytes=1)
    services.attach_photos(resident_a, req, [upload("1.jpg")])
    with pytest.raises(ValidationError, match="At most 2 photos"):
        services.attach_photos(resident_a, req, [upload("2.jpg"), upload("3.jpg")])
    assert RequestPhoto.objects.count() == 1 and len(stored_files(_media)) == 1


def test_large_photos_are_scaled_down(req, resident_a):
    PageRules.objects.create(max_side=100)
    (photo,) = services.attach_photos(resident_a, req, [upload("wide.png", image_bytes("PNG", (400, 200)))])
    assert (photo.width, photo.height) == (100, 50)


def test_only_the_requester_or_a_handler_adds_photos(req, resident_b, entrance_leader_a):
    with pytest.raises(PermissionDenied):
        services.attach_photos(resident_b, req, [upload()])
    assert len(services.attach_photos(entrance_leader_a, req, [upload()])) == 1


def test_photos_are_served_only_to_who_may_see_the_request(req, resident_a, resident_b, outsider, login):
    (photo,) = services.attach_photos(resident_a, req, [upload()])
    url = reverse("requests:photo", args=[req.pk, photo.pk])
    response = login(resident_a).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"
    assert login(resident_b).get(url).status_code == 404
    assert login(outsider).get(url).status_code == 404
    other = reverse("requests:photo", args=[req.pk + 1, photo.pk])
    assert login(resident_a).get(other).status_code == 404
