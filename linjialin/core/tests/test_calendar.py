"""The working-day calendar: 2026 statutory holidays and 调休 days, the deadline convention, admin edits."""

import importlib
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linjialin.core import calendar
from linjialin.core.models import AuditEvent, CalendarDay

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = ZoneInfo("UTC")
seed_migration = importlib.import_module("linjialin.core.migrations.0003_calendar_2026")


def at(y, m, d, hour=10, minute=0):
    return datetime(y, m, d, hour, minute, tzinfo=SHANGHAI)


def end_of(y, m, d):
    return datetime(y, m, d, 23, 59, 59, 999999, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def calendar_2026(db):
    """The 2026 rows as the data migration seeds them (re-seeded: a transactional test may have flushed)."""
    calendar.clear_cache()
    seed_migration.seed(django_apps, None)
    yield
    calendar.clear_cache()  # rows added by a test vanish with its rollback, which sends no signal


# --- the seeded 2026 schedule -----------------------------------------------------------------------


def test_2026_seed_matches_the_state_council_notice():
    holidays = set(CalendarDay.objects.filter(kind="holiday").values_list("date", flat=True))
    workdays = set(CalendarDay.objects.filter(kind="workday").values_list("date", flat=True))
    assert len(holidays) == 3 + 9 + 3 + 5 + 3 + 3 + 7
    assert workdays == {
        date(2026, 1, 4),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 5, 9),
        date(2026, 9, 20),
        date(2026, 10, 10),
    }
    assert all(d.weekday() >= 5 for d in workdays)  # 调休 days are weekend days
    assert {date(2026, 2, 15), date(2026, 2, 23), date(2026, 10, 1), date(2026, 10, 7)} <= holidays
    assert CalendarDay.objects.get(date=date(2026, 2, 17)).name == "春节"


def test_a_normal_week():
    # 2026-03-09 is a Monday with no exception around it
    assert [calendar.is_working_day(date(2026, 3, 9) + timedelta(days=i)) for i in range(7)] == [
        True,
        True,
        True,
        True,
        True,
        False,
        False,
    ]
    assert calendar.add_working_days(at(2026, 3, 9), 1) == end_of(2026, 3, 10)
    assert calendar.add_working_days(at(2026, 3, 9), 4) == end_of(2026, 3, 13)
    assert calendar.add_working_days(at(2026, 3, 9), 5) == end_of(2026, 3, 16)


def test_friday_afternoon_plus_one_working_day_is_end_of_monday():
    assert calendar.add_working_days(at(2026, 3, 13, 15), 1) == end_of(2026, 3, 16)
    # the time of day of the start does not matter, only its local date
    assert calendar.add_working_days(at(2026, 3, 13, 0, 1), 1) == end_of(2026, 3, 16)


def test_zero_working_days_is_end_of_today_or_next_working_day():
    assert calendar.add_working_days(at(2026, 3, 11), 0) == end_of(2026, 3, 11)
    assert calendar.add_working_days(at(2026, 3, 14), 0) == end_of(2026, 3, 16)  # Saturday → Monday
    assert calendar.add_working_days(at(2026, 10, 2), 0) == end_of(2026, 10, 8)  # 国庆 → first day back


def test_across_spring_festival_the_saturday_before_is_a_make_up_working_day():
    assert calendar.add_working_days(at(2026, 2, 13, 15), 1) == end_of(2026, 2, 14)  # Sat 调休
    assert calendar.add_working_days(at(2026, 2, 13, 15), 2) == end_of(2026, 2, 24)  # 15–23 off
    assert not calendar.is_working_day(date(2026, 2, 16))  # a Monday in the holiday
    assert calendar.is_working_day(date(2026, 2, 28))  # Saturday 调休


def test_across_national_day():
    assert calendar.add_working_days(at(2026, 9, 30, 16), 1) == end_of(2026, 10, 8)
    assert calendar.add_working_days(at(2026, 9, 30, 16), 3) == end_of(2026, 10, 10)  # Thu, Fri, Sat 调休
    assert calendar.is_working_day(date(2026, 10, 10))  # Saturday
    assert calendar.is_working_day(date(2026, 9, 20))  # Sunday
    assert not calendar.is_working_day(date(2026, 10, 5))  # Monday


def test_new_year_sunday_make_up_day():
    assert calendar.is_working_day(date(2026, 1, 4))  # Sunday 调休
    assert not calendar.is_working_day(date(2026, 1, 2))  # Friday holiday
    assert calendar.add_working_days(at(2025, 12, 31), 1) == end_of(2026, 1, 4)


def test_utc_start_uses_the_shanghai_date():
    # Thursday 2026-03-12 17:30 UTC is already Friday 01:30 in Shanghai
    start = datetime(2026, 3, 12, 17, 30, tzinfo=UTC)
    assert calendar.add_working_days(start, 0) == end_of(2026, 3, 13)
    result = calendar.add_working_days(start, 1)
    assert result == end_of(2026, 3, 16)  # Monday, not Friday
    assert result.tzinfo is not None and result.utcoffset() == timedelta(hours=8)


def test_clock_hours_ignore_holidays():
    assert calendar.add_clock_hours(at(2026, 9, 30, 10), 48) == at(2026, 10, 2, 10)
    assert calendar.deadline(at(2026, 9, 30, 10), 48, "hours") == at(2026, 10, 2, 10)
    assert calendar.deadline(at(2026, 9, 30, 10), 1, "working_days") == end_of(2026, 10, 8)
    utc_result = calendar.add_clock_hours(datetime(2026, 9, 30, 2, tzinfo=UTC), 2)
    assert utc_result == at(2026, 9, 30, 12) and utc_result.utcoffset() == timedelta(hours=8)


def test_bad_input_is_refused_clearly():
    with pytest.raises(ValueError, match="timezone-aware"):
        calendar.add_working_days(datetime(2026, 3, 13, 15), 1)
    with pytest.raises(ValueError, match="timezone-aware"):
        calendar.add_clock_hours(datetime(2026, 3, 13, 15), 1)
    with pytest.raises(ValueError, match="n must be >= 0"):
        calendar.add_working_days(at(2026, 3, 13), -1)
    with pytest.raises(ValueError, match="unit must be"):
        calendar.deadline(at(2026, 3, 13), 1, "days")


def test_working_days_between_for_reporting():
    assert calendar.working_days_between(date(2026, 9, 30), date(2026, 10, 8)) == 1
    assert calendar.working_days_between(at(2026, 9, 30), at(2026, 10, 12)) == 4  # 8, 9, 10 (Sat), 12
    assert calendar.working_days_between(date(2026, 10, 12), date(2026, 9, 30)) == -4
    assert calendar.working_days_between(date(2026, 3, 9), date(2026, 3, 9)) == 0


def test_model_refuses_a_make_up_working_day_on_a_weekday():
    with pytest.raises(ValidationError) as exc:
        CalendarDay(date=date(2026, 3, 11), kind="workday", name="typo").full_clean()
    assert "kind" in exc.value.message_dict


# --- edits take effect at once --------------------------------------------------------------------


def test_a_new_holiday_changes_results_immediately():
    start = at(2026, 3, 13, 15)  # Friday
    assert calendar.add_working_days(start, 1) == end_of(2026, 3, 16)  # caches 2026
    day = CalendarDay.objects.create(date=date(2026, 3, 16), kind="holiday", name="test closure")
    assert not calendar.is_working_day(date(2026, 3, 16))
    assert calendar.add_working_days(start, 1) == end_of(2026, 3, 17)
    day.delete()
    assert calendar.add_working_days(start, 1) == end_of(2026, 3, 16)


@pytest.fixture
def superuser(db):
    from linjialin.accounts.models import User

    return User.objects.create_superuser("13900000099", "pw-not-used-123", display_name="超级管理员")


def test_admin_adds_a_holiday_audited_and_effective_at_once(client, superuser):
    start = at(2026, 3, 13, 15)
    assert calendar.add_working_days(start, 1) == end_of(2026, 3, 16)
    client.force_login(superuser)
    url = reverse("admin:core_calendarday_add")
    response = client.post(url, {"date": "2026-03-16", "kind": "holiday", "name": "临时休息", "note": ""})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert calendar.add_working_days(start, 1) == end_of(2026, 3, 17)
    event = AuditEvent.objects.get(action="calendar.day_saved")
    assert event.after["date"] == "2026-03-16" and event.actor == superuser

    # the change list filters by year and kind
    listing = client.get(reverse("admin:core_calendarday_changelist"), {"year": "2026", "kind": "workday"})
    assert listing.status_code == 200
    shown = {row.date for row in listing.context["cl"].result_list}
    assert shown == set(
        CalendarDay.objects.filter(kind="workday", date__year=2026).values_list("date", flat=True)
    )
    assert len(shown) == 6 and "国庆节调休上班" in listing.content.decode()


def test_admin_refuses_a_weekday_make_up_day_and_writes_nothing(client, superuser):
    client.force_login(superuser)
    response = client.post(
        reverse("admin:core_calendarday_add"), {"date": "2026-03-11", "kind": "workday", "name": "x"}
    )
    assert response.status_code == 200  # the form again, with the error
    assert not CalendarDay.objects.filter(date=date(2026, 3, 11)).exists()
    assert not AuditEvent.objects.filter(action="calendar.day_saved").exists()


def test_admin_delete_is_audited(client, superuser):
    client.force_login(superuser)
    day = CalendarDay.objects.get(date=date(2026, 10, 10))
    assert calendar.is_working_day(date(2026, 10, 10))
    response = client.post(reverse("admin:core_calendarday_delete", args=[day.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not calendar.is_working_day(date(2026, 10, 10))  # back to an ordinary Saturday
    assert AuditEvent.objects.get(action="calendar.day_deleted").before["name"] == "国庆节调休上班"


# --- coverage of years and the system check -----------------------------------------------------------


def test_year_is_covered():
    assert calendar.year_is_covered(2026)
    assert not calendar.year_is_covered(2027)


def test_system_check_warns_for_a_missing_year():
    with time_machine.travel(datetime(2026, 11, 28, 9, tzinfo=SHANGHAI), tick=False):
        warnings = calendar.check_calendar_years()
    assert [w.id for w in warnings] == ["core.W001"]
    assert "2027" in warnings[0].msg and "2027" in warnings[0].hint


def test_system_check_is_quiet_when_both_years_are_entered():
    CalendarDay.objects.create(date=date(2027, 1, 1), kind="holiday", name="元旦")
    with time_machine.travel(datetime(2026, 11, 28, 9, tzinfo=SHANGHAI), tick=False):
        assert calendar.check_calendar_years() == []
    with time_machine.travel(datetime(2027, 6, 1, 9, tzinfo=SHANGHAI), tick=False):
        warnings = calendar.check_calendar_years()
    assert [w.msg for w in warnings] == ["The working-day calendar has no rows for 2028."]


def test_system_check_uses_the_shanghai_new_year():
    # 2026-12-31 17:00 UTC is already 2027-01-01 01:00 in Shanghai: 2027 and 2028 are due
    with time_machine.travel(datetime(2026, 12, 31, 17, tzinfo=UTC), tick=False):
        warnings = calendar.check_calendar_years()
    assert sorted(w.msg for w in warnings) == [
        "The working-day calendar has no rows for 2027.",
        "The working-day calendar has no rows for 2028.",
    ]


# --- properties ----------------------------------------------------------------------------------------

starts = st.datetimes(
    min_value=datetime(2025, 11, 1), max_value=datetime(2027, 1, 31), timezones=st.just(SHANGHAI)
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=starts, n=st.integers(min_value=0, max_value=40))
def test_add_working_days_properties(start, n):
    result = calendar.add_working_days(start, n)
    assert result.tzinfo is not None
    assert result.astimezone(SHANGHAI).time() == time.max
    assert calendar.is_working_day(result)  # always lands on a working day
    assert result >= start
    following = calendar.add_working_days(start, n + 1)
    if n == 0 and not calendar.is_working_day(start):
        assert following == result  # started on a rest day: "by end of today" already means the next one
    else:
        assert following > result  # otherwise strictly monotonic in n
    if n >= 1:
        assert calendar.working_days_between(start, result) == n
    else:
        assert calendar.working_days_between(start, result) == (0 if calendar.is_working_day(start) else 1)
