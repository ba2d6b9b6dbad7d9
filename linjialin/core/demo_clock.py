"""Replaying a demo year: the steps of many objects queued by time and run one after another with the
clock set to each step's time, so timelines, the hash-chained audit trail (in time order) and figures
agree. Only for the single-threaded demo command: `clock` swaps `timezone.now` for the whole process."""

from __future__ import annotations

import heapq
import itertools
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from .calendar import is_working_day, local_tz, next_working_day
from .errors import Conflict
from .workflow import TransitionNotAllowed

# The refusals a demo step may meet (the services said no): counted as skipped, the year goes on.
FAILED = (PermissionDenied, ValidationError, TransitionNotAllowed, Conflict)
# Office hours: staff steps happen on a working day (core.calendar: weekends, statutory holidays and 调休
# make-up days) between these times, local time.
OPENS, CLOSES = time(8, 30), time(17, 30)


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


def year_start(today: date) -> date:
    """The first day of the demo year: this calendar year, or the previous one in January–February (so
    a demo loaded early in the year still has a year behind it)."""
    return date(today.year, 1, 1) if today.timetuple().tm_yday > 60 else date(today.year - 1, 1, 1)


def attempt(counts: Counter, fn: Callable, counter: str = "") -> tuple[bool, object]:
    """Run one step in a savepoint: (True, its result), or (False, None) when the services refused it
    (counted as "skipped"). `counter` counts the steps that went through."""
    try:
        with transaction.atomic():
            result = fn()
    except FAILED:
        counts["skipped"] += 1
        return False, None
    if counter:
        counts[counter] += 1
    return True, result


def in_hours(when: datetime) -> bool:
    local = when.astimezone(local_tz())
    return is_working_day(local.date()) and OPENS <= local.time() <= CLOSES


def working(when: datetime) -> datetime:
    """`when`, or the next office-hours moment after it: a step drawn for 21:40 or a Sunday happens the
    next working morning. Never earlier than `when`, so a step still follows the one that queued it.
    The minutes after opening (0–89) come from the drawn time, so mornings do not all start at 08:30."""
    if in_hours(when):
        return when
    local = when.astimezone(local_tz())
    day = local.date()
    if not (is_working_day(day) and local.time() < OPENS):
        day = next_working_day(day)
    return at(day, OPENS.hour, OPENS.minute) + timedelta(minutes=(local.hour * 60 + local.minute) % 90)


def last_working_day_before(day: date) -> date:
    day -= timedelta(days=1)
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


@dataclass(order=True)
class Step:
    at: datetime
    seq: int
    run: Callable[[], None] = field(compare=False)


class Year:
    """The queue of the year's steps, run in time order with the clock set to each. Steps on or after
    `today` are dropped, or, with `until` (an instant), those at or after it: the past stays the past."""

    def __init__(self, today: date, *, until: datetime | None = None):
        self.today, self.until = today, until
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
