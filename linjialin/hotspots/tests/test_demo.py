"""The hotspots demo loader: detection nights and the owner of each task."""

from __future__ import annotations

from datetime import datetime

import time_machine
from django.utils import timezone

from linjialin.hotspots import demo
from linjialin.testing.plugin import make_user

from .conftest import NOW


def test_on_the_first_of_a_month_detection_runs_once_that_night(tree):
    make_user(demo.STAFF, "街道干部", "subdistrict_staff", tree.subdistrict)
    now = datetime(2027, 3, 1, 12, 0, tzinfo=timezone.get_default_timezone())
    assert demo.load(tree.subdistrict, now=now)["runs"] == 2  # 1 February, 1 March


def test_a_task_is_owned_by_the_community_worker_over_the_place(tree, community_worker, subdistrict_staff):
    with time_machine.travel(NOW, tick=False):
        assert demo._owner(tree.household_a1.path, subdistrict_staff) == community_worker
        assert demo._owner(tree.subdistrict.path, subdistrict_staff) == subdistrict_staff
