"""Shared helpers of the mutual aid page tests (test_pages*.py): English, a media folder, neighbours,
posts made through the services."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from linjialin.mutual_aid.models import Post, Reach
from linjialin.mutual_aid.services import posts
from linjialin.testing.plugin import make_user


def english_and_media(settings, tmp_path):
    """For an autouse fixture of each test module: English, media in a temporary folder."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "media"},
        },
    }
    return translation.override("en")


def make_neighbour(tree):
    """A resident of household A2: the same entrance as resident_a."""
    user = make_user("13700002001", "李四", "resident", tree.household_a2)
    tree.resident_a2.user = user
    tree.resident_a2.save(update_fields=["user"])
    return user


def make_nobody():
    """A user without any role."""
    return make_user("13700002002", "无角色")


def make_post(actor, household, **kw) -> Post:
    values = {"kind": "need", "category": "errands", "text": "帮忙买两瓶矿泉水，腿脚不便"}
    values.update(kw)
    return posts.create_post(actor, household=household, **values)


def widen_to(post: Post, reach: int = Reach.BUILDING) -> Post:
    Post.objects.filter(pk=post.pk).update(reach=reach)
    post.refresh_from_db()
    return post


def png(name: str = "photo.png") -> SimpleUploadedFile:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, "PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")
