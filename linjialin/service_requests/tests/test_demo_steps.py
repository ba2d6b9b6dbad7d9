"""Single steps of the demo year's loop, on stand-ins (no database): what each step queues next."""

from __future__ import annotations

import random
from types import SimpleNamespace

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

