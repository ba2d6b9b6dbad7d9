"""The taxonomy in the viewer's language: categories and handling units show their English name in
English and their Chinese name in Chinese, on pages and in forms; the seeded taxonomy has both."""

from __future__ import annotations

import re

from django.urls import reverse
from django.utils import translation

from linjialin.service_requests.forms import RequestForm
from linjialin.service_requests.models import Category
from linjialin.testing.plugin import make_unit


def test_every_seeded_category_has_an_english_name(db):
    categories = Category.objects.all()
    assert categories.count() > 20  # the migrations seeded the taxonomy
    assert not categories.filter(name_en="").exists()
    assert not [c.code for c in categories if re.search(r"[\u4e00-\u9fff]", c.name_en)]


def test_category_and_unit_labels_follow_the_active_language(tree):
    category = Category.objects.get(code="corridor-light")
    unit = make_unit(tree, "words-housing", "区住建委", name_en="District housing commission")
    with translation.override("zh-hans"):
        assert (str(category), category.label, str(unit)) == ("楼道灯不亮", "楼道灯不亮", "区住建委")
    with translation.override("en"):
        assert (str(category), category.label, str(unit)) == (
            "Stairwell light out",
            "Stairwell light out",
            "District housing commission",
        )
    unnamed = make_unit(tree, "words-unnamed", "街道办")  # no English name: the Chinese one in English too
    with translation.override("en"):
        assert unnamed.label == "街道办"


def test_request_form_offers_categories_in_the_viewers_language(db):
    with translation.override("en"):
        labels = [label for _value, label in RequestForm().fields["category"].choices][1:]
    assert "Stairwell light out" in labels
    assert not [label for label in labels if re.search(r"[\u4e00-\u9fff]", str(label))]
    with translation.override("zh-hans"):
        labels = [str(label) for _value, label in RequestForm().fields["category"].choices][1:]
    assert "楼道灯不亮" in labels


def test_request_page_shows_its_category_in_english(tree, resident_a, login):
    from linjialin.service_requests import services

    req = services.submit_request(
        resident_a,
        place=tree.household_a1,
        request_type="help",
        description="楼道灯坏了",
        category=Category.objects.get(code="corridor-light"),
    )
    client = login(resident_a)
    with translation.override("en"):
        page = client.get(reverse("requests:detail", args=[req.pk])).content.decode()
    assert "Stairwell light out" in page and "楼道灯不亮" not in page
    with translation.override("zh-hans"):
        page = client.get(reverse("requests:detail", args=[req.pk])).content.decode()
    assert "楼道灯不亮" in page
