"""Demo data for hotspots and 每月一题: the detection job run as the beat runs it (nightly; here on the
first night of each month of the demo year and last night), over the year of requests, then this
month's theme of the subdistrict with the top hotspots as its problems and a task (立项) for each, one
of them started. Through the services, with the clock set (core/demo_clock.py). Called by
`linjialin demo` after the requests."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from linjialin.accounts.models import User
from linjialin.accounts.selectors import users_holding
from linjialin.core import demo_clock
from linjialin.core.calendar import local_date
from linjialin.places.models import Level, Place
from linjialin.service_requests.demo_year import STAFF_DEMO

from . import services
from .models import Hotspot

STAFF = STAFF_DEMO  # subdistrict staff: supervises requests, keeps the subdistrict's themes
PROBLEMS = 3


def load(subdistrict: Place | None = None, *, now: datetime | None = None) -> dict:
    """Returns the counts: detection runs, hotspots on the board, themes, problems, tasks."""
    subdistrict = subdistrict or Place.objects.filter(level=Level.SUBDISTRICT).order_by("path").first()
    staff = User.objects.filter(mobile=STAFF).first()
    if subdistrict is None or staff is None:
        return {}
    now = now or timezone.now()
    today = local_date(now)
    # the first night of each month and last night, once each (on the 1st they are the same night)
    nights = list(dict.fromkeys([date(today.year, m, 1) for m in range(2, today.month + 1)] + [today]))
    runs = 0
    with transaction.atomic():
        for night in nights:
            at = min(demo_clock.at(night, 1, 40), now - timedelta(minutes=1))
            with demo_clock.clock(at):
                services.run_detection()
            runs += 1
        with demo_clock.clock(now - timedelta(minutes=1)):
            themes, problems, tasks = _theme(subdistrict, staff, today)
    return {
        "runs": runs,
        "hotspots": Hotspot.objects.count(),
        "themes": themes,
        "problems": problems,
        "tasks": tasks,
    }


def _owner(path: str, fallback: User) -> User:
    """A community worker over the hotspot's place (it handles requests there), else the staff."""
    owner = users_holding("requests.handle", path, levels={Level.COMMUNITY}).first()
    return owner or fallback


def _theme(subdistrict: Place, staff: User, today: date) -> tuple[int, int, int]:
    top = list(
        Hotspot.objects.filter(path__startswith=subdistrict.path).order_by("rank", "-score")[:PROBLEMS]
    )
    if not top:
        return 0, 0, 0
    theme = services.save_theme(
        staff,
        None,
        place=subdistrict,
        month=today,
        title="每月一题：" + "、".join(h.label[:12] for h in top[:2]),
        description="从本月热点中选出居民反映最集中的问题，明确牵头单位和完成时限，逐项销号。",
    )
    tasks = 0
    for i, hotspot in enumerate(top):
        owner = _owner(hotspot.path, staff)
        task = services.create_task(
            staff,
            hotspot,
            title=f"集中整治：{hotspot.label[:40]}",
            owner=owner,
            deadline=today + timedelta(days=30),
            note="每月一题立项，牵头处理并回访居民",
        )
        tasks += 1
        if i == 0:
            services.move_task(owner, task, "start")
        services.add_problem(staff, theme, hotspot=hotspot)
    return 1, len(top), tasks
