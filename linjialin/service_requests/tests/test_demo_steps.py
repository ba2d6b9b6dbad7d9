"""Single steps of the demo year's loop, on stand-ins (no database): what each step queues next."""

from __future__ import annotations

import random
from datetime import date
from types import SimpleNamespace

from linjialin.core import demo_clock
from linjialin.service_requests import demo_today
from linjialin.service_requests.demo_year import Fate, H, _Loop


def test_a_refused_give_back_queues_one_next_step_not_two():
    loop = object.__new__(_Loop)
    loop.rng = random.Random(1)
    loop.attempt = lambda fn, counter="": False  # every step refused
    queued = []
    loop.next = lambda rid, hours, ok=True: queued.append(rid)
    req = SimpleNamespace(pk=7, handler=None, level=H.DEPARTMENT)
    loop._accepted(req, Fate(give_back=True))
    assert queued == [7]


def test_clusters_in_a_community_of_fewer_than_60_households():
    community = SimpleNamespace(pk=1)
    households = [SimpleNamespace(pk=i) for i in range(10)]
    queued = []
    loop = SimpleNamespace(
        rng=random.Random(3),
        places=SimpleNamespace(communities=[community], households={1: households}),
        categories={"utilities-heating": object()},
        office=lambda day, rng: demo_clock.at(day, 9),
        year=SimpleNamespace(at=lambda when, fn: queued.append(when)),
    )
    demo_today.plan_clusters(loop, date(2026, 12, 7))
    assert 5 <= len(queued) < 8
