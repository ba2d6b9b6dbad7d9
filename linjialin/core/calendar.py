"""Working-day calendar for time limits (statutory holidays and 调休 make-up working days).

The normal week: Monday–Friday are working days, Saturday and Sunday rest days. `CalendarDay` rows are the
exceptions (a `holiday` makes a day a rest day, a `workday` makes a weekend day a working day). 2026 is
seeded by a data migration; admins add later years in the admin (see docs/calendar.md).

All dates are local dates in settings.TIME_ZONE (Asia/Shanghai), whatever timezone is active for the
request. Datetimes must be timezone-aware; results are aware datetimes in settings.TIME_ZONE.

The deadline convention (kept in one place, `end_of_day` + `add_working_days`):

* `n` working days from `start` ends at the END (23:59:59.999999 local) of the n-th working day after the
  local date of `start`. The time of day of `start` does not matter: submitted Friday 15:00, 1 working
  day → Monday 23:59:59.999999 (or the next working day if Monday is a holiday).
* `n = 0` → the end of the start day if it is a working day, else the end of the next working day.
* Clock-hour limits (`add_clock_hours`) ignore the calendar: 48 h is 48 h, holiday or not.

Exceptions are cached per year in memory. Saving or deleting a `CalendarDay` clears this process's cache
at once (signal receivers below); other processes (worker, other web workers) reload after at most
`CACHE_SECONDS`. Tests that change rows inside a rolled-back transaction should call `clear_cache()`.
"""

from __future__ import annotations

import threading
import time as _time
from datetime import date, datetime, time, timedelta

from django.core import checks
from django.db import DatabaseError
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from .models import CalendarDay

CACHE_SECONDS = 300

HOURS = "hours"  # the values of deadline()'s `unit`
WORKING_DAYS = "working_days"


# --- cache -------------------------------------------------------------------------------------------

_lock = threading.Lock()
_cache: dict[int, tuple[float, dict[date, str]]] = {}


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def _exceptions(year: int) -> dict[date, str]:
    """{date: kind} of the CalendarDay rows in `year` (cached)."""
    now = _time.monotonic()
    hit = _cache.get(year)
    if hit is not None and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    rows = dict(
        CalendarDay.objects.filter(date__gte=date(year, 1, 1), date__lte=date(year, 12, 31)).values_list(
            "date", "kind"
        )
    )
    with _lock:
        _cache[year] = (now, rows)
    return rows


@receiver(post_save, sender=CalendarDay, dispatch_uid="core.calendar.saved")
@receiver(post_delete, sender=CalendarDay, dispatch_uid="core.calendar.deleted")
def _invalidate(sender, **kwargs):
    clear_cache()


# --- dates and times ---------------------------------------------------------------------------------


def local_tz():
    """The calendar's timezone: settings.TIME_ZONE (not the request's active timezone)."""
    return timezone.get_default_timezone()


def _require_aware(value: datetime, name: str) -> None:
    if timezone.is_naive(value):
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")


def local_date(value: date | datetime) -> date:
    """The local (settings.TIME_ZONE) date of an aware datetime; a date is returned as is."""
    if isinstance(value, datetime):
        _require_aware(value, "value")
        return value.astimezone(local_tz()).date()
    return value


def end_of_day(day: date) -> datetime:
    """THE deadline instant of a day: 23:59:59.999999 local time (the one place this is decided)."""
    return datetime.combine(day, time.max, tzinfo=local_tz())


def is_working_day(day: date | datetime) -> bool:
    """Mon–Fri unless a `holiday` row says otherwise; Sat/Sun only with a `workday` (调休) row."""
    day = local_date(day)
    kind = _exceptions(day.year).get(day)
    if kind == CalendarDay.Kind.HOLIDAY:
        return False
    if kind == CalendarDay.Kind.WORKDAY:
        return True
    return day.weekday() < 5


def next_working_day(day: date | datetime, *, inclusive: bool = False) -> date:
    """The first working day after `day` (or on it, with inclusive=True)."""
    day = local_date(day)
    if not inclusive:
        day += timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def add_working_days(start: datetime, n: int) -> datetime:
    """The end (23:59:59.999999 local) of the n-th working day after start's local date.

    n = 0: the end of the start day if it is a working day, else the end of the next working day.
    """
    _require_aware(start, "start")
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    day = local_date(start)
    if n == 0:
        return end_of_day(next_working_day(day, inclusive=True))
    for _i in range(n):
        day = next_working_day(day)
    return end_of_day(day)


def add_clock_hours(start: datetime, hours: float) -> datetime:
    """start + hours, ignoring the calendar (holidays count); returned in settings.TIME_ZONE."""
    _require_aware(start, "start")
    if hours < 0:
        raise ValueError(f"hours must be >= 0, got {hours}")
    return (start + timedelta(hours=hours)).astimezone(local_tz())


def deadline(start: datetime, amount: int, unit: str) -> datetime:
    """The due instant of a time limit of `amount` `unit`s ("hours" or "working_days") from `start`."""
    if unit == HOURS:
        return add_clock_hours(start, amount)
    if unit == WORKING_DAYS:
        return add_working_days(start, amount)
    raise ValueError(f"unit must be {HOURS!r} or {WORKING_DAYS!r}, got {unit!r}")


def working_days_between(a: date | datetime, b: date | datetime) -> int:
    """Working days d with local_date(a) < d <= local_date(b); negative when b is before a.

    So `working_days_between(start, add_working_days(start, n)) == n` for every n >= 1 (reporting:
    "handled in 3 working days").
    """
    first, last = local_date(a), local_date(b)
    sign = 1
    if last < first:
        first, last, sign = last, first, -1
    count = 0
    day = first + timedelta(days=1)
    while day <= last:
        count += is_working_day(day)
        day += timedelta(days=1)
    return sign * count


def year_is_covered(year: int) -> bool:
    """True when any CalendarDay row exists for `year` (its holiday schedule has been entered)."""
    return bool(_exceptions(year))


# --- system check ------------------------------------------------------------------------------------


@checks.register()
def check_calendar_years(app_configs=None, **kwargs):
    """Warn when this year or next year has no holiday schedule (working-day limits would be wrong)."""
    try:
        this_year = timezone.localdate(timezone=local_tz()).year
        missing = [year for year in (this_year, this_year + 1) if not year_is_covered(year)]
    except DatabaseError:  # no database yet (before the first migrate): nothing to say
        return []
    return [
        checks.Warning(
            f"The working-day calendar has no rows for {year}.",
            hint=f"Add the holiday schedule for {year} in the admin (Calendar days), see docs/calendar.md.",
            obj="core.CalendarDay",
            id="core.W001",
        )
        for year in missing
    ]


# --- legal periods counted in days or months ------------------------------------------------------------
# A period "of N days" or "of N months" set by law (民事诉讼法 2023 第八十五条;
# 民法典 第二百零一条至第二百零三条): the start day is not counted; a period in months ends on the same
# day of the month N months later (the month's last day when that month has no such day); and when the
# last day is a statutory holiday the period ends on the first day after it. "Holiday" (法定休假日) is
# read as any rest day of the working-day calendar: the State Council's holidays and the plain weekend
# (a 调休 weekend working day is not one).


def add_months(day: date, months: int) -> date:
    """The same day of the month `months` later, or that month's last day (2026-01-31 + 1 → 2026-02-28)."""
    if months < 0:
        raise ValueError(f"months must be >= 0, got {months}")
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    following = date(year + (month == 12), month % 12 + 1, 1)
    return date(year, month, min(day.day, (following - timedelta(days=1)).day))


def period_last_day(nominal: date) -> date:
    """The last day of a legal period whose counted end is `nominal`: the day itself on a working day,
    else the first working day after it (an end on 2026-10-07, a National Day holiday, moves to 10-08)."""
    return next_working_day(nominal, inclusive=True)


def period_end_days(start: date, days: int) -> date:
    """The last day of a period of `days` days counted from `start` (start not counted), rolled over."""
    if days < 0:
        raise ValueError(f"days must be >= 0, got {days}")
    return period_last_day(local_date(start) + timedelta(days=days))


def period_end_months(start: date, months: int) -> date:
    """The last day of a period of `months` calendar months from `start`, rolled over."""
    return period_last_day(add_months(local_date(start), months))


def earliest_nominal_end_open_on(today: date) -> date:
    """The earliest counted end whose rolled-over last day is `today` or later (periods ending on the rest
    days just before a working `today` still run today). For "is the period still open" filters in SQL:
    start + days >= this day."""
    day = today
    while not is_working_day(day - timedelta(days=1)) and period_last_day(day - timedelta(days=1)) >= today:
        day -= timedelta(days=1)
    return day
