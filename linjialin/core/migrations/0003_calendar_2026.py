"""Seed the 2026 working-day calendar.

Source: 国务院办公厅关于2026年部分节假日安排的通知 (published 2025-11-04, Xinhua).
Every listed rest day is recorded as a holiday (also those falling on a weekend); every 调休 weekend
working day as a workday. Idempotent (update_or_create), so tests can re-run `seed` after a flush.
"""

from datetime import date, timedelta

from django.db import migrations

# (first day, last day, name) — 放假
HOLIDAYS_2026 = [
    (date(2026, 1, 1), date(2026, 1, 3), "元旦"),
    (date(2026, 2, 15), date(2026, 2, 23), "春节"),
    (date(2026, 4, 4), date(2026, 4, 6), "清明节"),
    (date(2026, 5, 1), date(2026, 5, 5), "劳动节"),
    (date(2026, 6, 19), date(2026, 6, 21), "端午节"),
    (date(2026, 9, 25), date(2026, 9, 27), "中秋节"),
    (date(2026, 10, 1), date(2026, 10, 7), "国庆节"),
]
# 调休上班 (weekend days that are working days)
WORKDAYS_2026 = [
    (date(2026, 1, 4), "元旦调休上班"),
    (date(2026, 2, 14), "春节调休上班"),
    (date(2026, 2, 28), "春节调休上班"),
    (date(2026, 5, 9), "劳动节调休上班"),
    (date(2026, 9, 20), "国庆节调休上班"),
    (date(2026, 10, 10), "国庆节调休上班"),
]
SOURCE = "国务院办公厅关于2026年部分节假日安排的通知（2025-11-04）"


def rows_2026():
    for first, last, name in HOLIDAYS_2026:
        day = first
        while day <= last:
            yield day, "holiday", name
            day += timedelta(days=1)
    for day, name in WORKDAYS_2026:
        yield day, "workday", name


def seed(apps, schema_editor):
    CalendarDay = apps.get_model("core", "CalendarDay")
    for day, kind, name in rows_2026():
        CalendarDay.objects.update_or_create(date=day, defaults={"kind": kind, "name": name, "note": SOURCE})


def unseed(apps, schema_editor):
    CalendarDay = apps.get_model("core", "CalendarDay")
    CalendarDay.objects.filter(date__in=[day for day, _, _ in rows_2026()], note=SOURCE).delete()


class Migration(migrations.Migration):
    dependencies = [("core", "0002_calendarday")]

    operations = [migrations.RunPython(seed, unseed)]
