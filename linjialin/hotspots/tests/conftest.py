from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from linjialin.service_requests.models import Category, ServiceRequest

NOW = datetime(2027, 1, 20, 12, 0, tzinfo=timezone.get_default_timezone())  # after the grants start
_numbers = itertools.count(1)

LAMP = ["楼道灯坏了", "楼道的灯不亮了，晚上很黑", "楼道灯坏了好几天了", "楼道声控灯不亮", "晚上楼道灯不亮"]
CLUTTER = ["楼道堆放杂物", "楼道里堆满了杂物没人清理", "楼道杂物堆放影响通行", "楼梯间杂物太多"]
CHARGING = ["楼下有人飞线充电", "有人从窗户飞线给电动车充电", "飞线充电很危险"]


def make_request(place, text, *, at=None, category="corridor-light", requester=None, contact_name=""):
    n = next(_numbers)
    return ServiceRequest.objects.create(
        number=f"T{n:08d}",
        request_type="report",
        description=text,
        category=Category.objects.get(code=category) if category else None,
        place=place,
        path=place.path,
        submitted_at=at or NOW - timedelta(days=1),
        requester=requester,
        contact_name=contact_name,
    )


@pytest.fixture
def now():
    return NOW


@pytest.fixture
def lamp_hotspot(tree):
    """Five lamp reports at entrance A in the current window, one in the previous, clutter besides."""
    for i, text in enumerate(LAMP):
        place = tree.household_a1 if i % 2 else tree.household_a2
        make_request(place, text, at=NOW - timedelta(days=i + 1), contact_name="张三")
    make_request(tree.household_a1, "楼道灯又坏了", at=NOW - timedelta(days=40))
    for i, text in enumerate(CLUTTER):
        make_request(tree.entrance_a, text, at=NOW - timedelta(days=i + 2), category="corridor-clutter")
    return tree
