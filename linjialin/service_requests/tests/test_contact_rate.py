"""The first-contact figure: a request counts once its first-contact deadline has passed; contacted by
then is a hit, contacted late or never a miss (北京市接诉即办工作条例: the handler contacts the requester;
docs/rates.md). Hand-made rows, December 2026 Shanghai time, now = 10 Dec 12:00."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.urls import reverse

from linjialin.service_requests import metrics
from linjialin.service_requests.models import RequestRules, State

TZ = ZoneInfo("Asia/Shanghai")
DEC = (datetime(2026, 12, 1, tzinfo=TZ), datetime(2027, 1, 1, tzinfo=TZ))
NOW = datetime(2026, 12, 10, 12, tzinfo=TZ)


def row(pk, contact_by, contacted_at=None):
    return {
        **dict.fromkeys(metrics.FIELDS),
        "pk": pk,
        "path": "1.",
        "level": 5,
        "state": State.IN_PROGRESS,
        "submitted_at": contact_by.replace(day=max(contact_by.day - 1, 1)),
        "contact_by": contact_by,
        "contacted_at": contacted_at,
        "held": False,
    }


def test_contacted_by_the_deadline_is_a_hit_late_or_never_a_miss_and_an_open_window_waits(db):
    rows = [
        row(1, datetime(2026, 12, 9, 9, tzinfo=TZ), datetime(2026, 12, 9, 8, tzinfo=TZ)),  # in time
        row(2, datetime(2026, 12, 9, 9, tzinfo=TZ), datetime(2026, 12, 9, 10, tzinfo=TZ)),  # an hour late
        row(3, datetime(2026, 12, 8, 9, tzinfo=TZ)),  # never contacted
        row(4, datetime(2026, 12, 11, 9, tzinfo=TZ), datetime(2026, 12, 10, 9, tzinfo=TZ)),  # window open
        row(5, datetime(2026, 11, 30, 9, tzinfo=TZ)),  # due last month: not this month's figure
    ]
    r = metrics.rates_of_rows(rows, *DEC, RequestRules.objects.get(), now=NOW)
    assert (r.contact.numerator, r.contact.denominator, r.contact.pending) == (1, 3, 1)
    assert r.contact.percent == "33.3%"
    assert r.contact.formula == "按时联系 1 ÷ 应联系 3"


def test_the_rates_page_and_the_api_show_the_first_contact_figure(tree, subdistrict_dispatcher, login):
    client = login(subdistrict_dispatcher)
    page = client.get(reverse("requests:rates"), {"place": tree.subdistrict.pk})
    assert page.status_code == 200 and "首次联系及时率" in page.content.decode()
    query = {"place": tree.subdistrict.pk, "from": "2026-12-01", "to": "2026-12-31"}
    api = client.get("/api/v1/requests/rates", query)
    assert api.status_code == 200 and api.json()["total"]["contact"]["denominator"] == 0
