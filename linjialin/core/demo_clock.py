"""Replaying a demo year: the steps of many objects queued by time and run one after another with the
clock set to each step's time, so timelines, the hash-chained audit trail (in time order) and figures
agree. Only for the single-threaded demo command: `clock` swaps `timezone.now` for the whole process."""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.utils import timezone

from .calendar import local_tz


@contextmanager
def clock(at: datetime):
    """Run the services as if it were `at` (the demo replays a year in one go)."""
    real = timezone.now
    timezone.now = lambda: at
    try:
        yield
    finally:
        timezone.now = real


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=local_tz())


@dataclass(order=True)
class Step:
    at: datetime
    seq: int
    run: Callable[[], None] = field(compare=False)


class Year:
    """The queue of the year's steps, run in time order with the clock set to each. Steps on or after
    `today` are dropped, or, with `until` (an instant), those at or after it: the past stays the past."""

    def __init__(self, rng: random.Random, today: date, *, until: datetime | None = None):
        self.rng, self.today, self.until = rng, today, until
        self.queue: list[Step] = []
        self.counter = itertools.count()

    def at(self, when: datetime, fn: Callable[[], None]) -> None:
        if (when < self.until) if self.until is not None else (when.date() < self.today):
            heapq.heappush(self.queue, Step(when, next(self.counter), fn))

    def run(self, progress: Callable[[datetime], None] | None = None) -> int:
        steps = 0
        while self.queue:
            step = heapq.heappop(self.queue)
            with clock(step.at):
                step.run()
            steps += 1
            if progress is not None:
                progress(step.at)
        return steps
