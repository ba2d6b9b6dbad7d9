"""Request photos: checked by their content (not their name), re-encoded without EXIF/GPS.

`check_photos(files, already=0)` answers the cleaned photos or raises one ValidationError listing
every problem, before anything is stored; `store(req, photo, actor)` writes one cleaned photo to the
default storage (var/media, not served publicly: the request page serves it after a visibility check).
The limits are data (PageRules, one row; the model defaults without a row).
"""

from __future__ import annotations

import io
import uuid
import warnings
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from .models import PageRules, RequestPhoto

# Pillow format → (stored extension, content type)
FORMATS = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png"), "WEBP": ("webp", "image/webp")}


def photo_response(item: RequestPhoto) -> FileResponse:
    """A stored photo, to a viewer already checked by the calling view: cached privately only, and its
    content type is not sniffed."""
    response = FileResponse(item.file.open("rb"), content_type=item.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def photo_rules() -> PageRules:
    return PageRules.objects.first() or PageRules()


@dataclass
class CleanPhoto:
    content: bytes
    extension: str
    content_type: str
    width: int
    height: int


def _decode(data: bytes) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        probe = Image.open(io.BytesIO(data))
        if probe.format not in FORMATS:
            raise UnidentifiedImageError(probe.format)
        probe.verify()  # structure check; the image must be reopened after verify()
        image = Image.open(io.BytesIO(data))
        image.load()
    return image


def _reencode(image: Image.Image, fmt: str, max_side: int) -> tuple[bytes, int, int]:
    """A fresh file from the pixels only: EXIF (GPS, camera), XMP and text chunks are not copied."""
    image = ImageOps.exif_transpose(image)  # keep the orientation the phone meant, then drop EXIF
    image.thumbnail((max_side, max_side))
    out = io.BytesIO()
    if fmt == "JPEG":
        image.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
    elif fmt == "PNG":
        if image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
            image = image.convert("RGBA")
        image.save(out, "PNG", optimize=True)
    else:
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
        image.save(out, "WEBP", quality=85)
    return out.getvalue(), image.width, image.height


def check_photo(upload, rules: PageRules) -> CleanPhoto:
    name = getattr(upload, "name", "") or _("photo")
    limit = rules.max_megabytes * 1024 * 1024
    if upload.size > limit:
        raise ValidationError(
            _("%(name)s is larger than %(mb)d MB.") % {"name": name, "mb": rules.max_megabytes}
        )
    upload.seek(0)
    data = upload.read(limit + 1)
    try:
        image = _decode(data)
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombWarning,
        Image.DecompressionBombError,
    ):
        raise ValidationError(_("%(name)s is not a JPEG, PNG or WebP photo.") % {"name": name}) from None
    fmt = image.format or Image.open(io.BytesIO(data)).format
    content, width, height = _reencode(image, fmt, rules.max_side)
    extension, content_type = FORMATS[fmt]
    return CleanPhoto(content, extension, content_type, width, height)


def check_photos(files, already: int = 0) -> list[CleanPhoto]:
    """Every file checked; one ValidationError with all the problems, or the cleaned photos."""
    rules = photo_rules()
    files = list(files)
    if already + len(files) > rules.max_photos:
        raise ValidationError(
            _("At most %(n)d photos per request (this one would have %(total)d).")
            % {"n": rules.max_photos, "total": already + len(files)}
        )
    cleaned, errors = [], []
    for upload in files:
        try:
            cleaned.append(check_photo(upload, rules))
        except ValidationError as exc:
            errors += exc.messages
    if errors:
        raise ValidationError(errors)
    return cleaned


def store(req, photo: CleanPhoto, actor, *, after: bool = False) -> RequestPhoto:
    name = default_storage.save(
        f"requests/{req.pk}/{uuid.uuid4().hex}.{photo.extension}", ContentFile(photo.content)
    )
    return RequestPhoto.objects.create(
        request=req,
        file=name,
        content_type=photo.content_type,
        width=photo.width,
        height=photo.height,
        size=len(photo.content),
        uploaded_by=actor,
        uploaded_at=timezone.now(),
        after=after,
    )
