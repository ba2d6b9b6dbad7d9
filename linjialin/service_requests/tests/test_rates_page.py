"""The staff rates page: the numbers equal metrics on the hand-computed set (test_metrics), drill-down
from a place to its children, per handling level and unit, the periods, CSV / xlsx exports (audited),
who may see it, bad input, and a query count that does not grow with the number of children."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from linjialin.core.models import AuditEvent
from linjialin.places.models import Level
from linjialin.places.services import new_place
from linjialin.service_requests import metrics
from linjialin.service_requests.models import HandlingUnit, RequestRules, ServiceRequest, State

from . import test_metrics
from .test_metrics import NOV, H, T, make

fixed_set = test_metrics.fixed_set  # the hand-computed set, as a fixture here too

NOVEMBER = {"period": "custom", "from": "2026-11-01", "to": "2026-11-30"}


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def url() -> str:
    return reverse("requests:rates")  # inside the test's language (/en/…)


def get(client, **params):
    return client.get(url(), {**NOVEMBER, **params})


def numbers(rates: metrics.Rates) -> list:
    return [(r.numerator, r.denominator, r.percent) for r in rates.cells] + [rates.score.text]


def test_the_page_shows_the_same_numbers_as_metrics(fixed_set, tree, subdistrict_dispatcher, login):
    response = get(login(subdistrict_dispatcher), place=tree.subdistrict.pk)
    assert response.status_code == 200
    table = response.context["table"]
    expected = metrics.rates(ServiceRequest.objects.all(), period_start=NOV[0], period_end=NOV[1],
                             rules=RequestRules.objects.get())  # fmt: skip
    assert numbers(table.total) == numbers(expected)
    assert numbers(table.total)[0] == (3, 5, "60.0%") and table.total.score.text == "71.7"
    _total, by_place = metrics.rates_by_place(subdistrict_dispatcher, tree.subdistrict, NOV)
    assert [(r.place, numbers(r.rates)) for r in table.places] == [
        (r.place, numbers(r.rates)) for r in by_place
    ]
    html = response.content.decode()
    # the counts behind each rate, the formulas with numbers and the configured weights
    assert "3 / 5" in html and "2.6 / 3" in html and "71.7" in html
    assert "accepted in time 3 ÷ due for acceptance 5" in html
    assert "response rate × 30 + resolution rate × 35 + satisfaction rate × 35" in html
    assert "basically satisfied × 0.80" in html
    assert "24-hour sign-off rate" in html and "7-day completion rate" in html


def test_the_weights_shown_are_the_configured_ones(fixed_set, tree, subdistrict_dispatcher, login):
    RequestRules.objects.update(
        response_weight=50, resolution_weight=25, satisfaction_weight=25, signoff_hours=12
    )
    html = get(login(subdistrict_dispatcher), place=tree.subdistrict.pk).content.decode()
    assert "response rate × 50 + resolution rate × 25 + satisfaction rate × 25" in html
    assert "12-hour sign-off rate" in html


def test_drill_down_from_subdistrict_to_community_grid_and_entrance(
    fixed_set,
    tree,
    subdistrict_dispatcher,
    login,
):
    client = login(subdistrict_dispatcher)
    response = get(client, place=tree.subdistrict.pk)
    html = response.content.decode()
    link = f'href="?place={tree.community_1.pk}&amp;period=custom&amp;from=2026-11-01&amp;to=2026-11-30"'
    assert link in html
    c1 = response.context["table"].places[0]
    assert (c1.place, c1.drill, numbers(c1.rates)[0]) == (tree.community_1, True, (2, 4, "50.0%"))

    response = get(client, place=tree.community_1.pk)
    assert [(r.place, r.drill) for r in response.context["table"].places] == [(tree.grid_1, True)]
    assert numbers(response.context["table"].places[0].rates)[0] == (2, 4, "50.0%")

    response = get(client, place=tree.grid_1.pk)
    rows = response.context["table"].places
    assert [(r.place, r.drill) for r in rows] == [(tree.entrance_a, False), (tree.entrance_b, False)]
    assert numbers(rows[0].rates)[0] == (2, 4, "50.0%") and rows[1].rates.response.denominator == 0
    assert f"?place={tree.entrance_a.pk}&" not in response.content.decode()  # no link below the entrance

    response = get(client, place=tree.entrance_a.pk)
    assert response.context["table"].places == []  # households are never rows
    assert response.context["table"].total.response.denominator == 4
    crumbs = [(p, linked) for p, linked in response.context["crumbs"]]
    assert crumbs == [(tree.subdistrict, True), (tree.community_1, True), (tree.grid_1, True)]


def test_per_handling_level_and_per_unit(fixed_set, tree, subdistrict_dispatcher, login):
    office = HandlingUnit.objects.create(
        code="city", name_zh="城管科", place=tree.subdistrict, path=tree.subdistrict.path
    )
    water = HandlingUnit.objects.create(
        code="water", name_zh="自来水公司", kind="utility", place=tree.subdistrict, path=tree.subdistrict.path
    )
    ServiceRequest.objects.filter(pk__in=[fixed_set["r1"].pk, fixed_set["r2"].pk]).update(unit=office)
    ServiceRequest.objects.filter(pk=fixed_set["r9"].pk).update(unit=water)
    response = get(login(subdistrict_dispatcher), place=tree.subdistrict.pk)
    table = response.context["table"]
    levels = {row.level: row.rates.response.denominator for row in table.levels}
    assert levels == {4: 4, 3: 0, 2: 1, 1: 0, 0: 0}
    assert [row.label for row in table.levels][0] == "entrance"
    units = {row.unit: row.rates for row in table.units}
    assert list(units) == [office, water]
    assert numbers(units[office])[:2] == [(1, 2, "50.0%"), (1, 2, "50.0%")]
    assert numbers(units[water])[0] == (1, 1, "100.0%")
    assert "城管科" in response.content.decode() and "自来水公司" in response.content.decode()


@pytest.mark.parametrize(
    ("kind", "today", "expected"),
    [
        ("this_month", date(2026, 11, 28), (date(2026, 11, 1), date(2026, 11, 28))),
        ("last_month", date(2026, 11, 28), (date(2026, 10, 1), date(2026, 10, 31))),
        ("last_month", date(2026, 1, 5), (date(2025, 12, 1), date(2025, 12, 31))),
        ("this_quarter", date(2026, 11, 28), (date(2026, 10, 1), date(2026, 11, 28))),
        ("this_quarter", date(2026, 3, 31), (date(2026, 1, 1), date(2026, 3, 31))),
    ],
)
def test_named_periods(kind, today, expected):
    assert metrics.period_days(kind, today) == expected


def test_custom_period_given_backwards_is_the_same(fixed_set, tree, subdistrict_dispatcher, login):
    client = login(subdistrict_dispatcher)
    forwards = get(client, place=tree.subdistrict.pk).context["table"]
    backwards = get(client, place=tree.subdistrict.pk, **{"from": "2026-11-30", "to": "2026-11-01"})
    assert numbers(backwards.context["table"].total) == numbers(forwards.total)


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"period": "custom", "from": "", "to": ""}, "from", "A custom period needs both days."),
        ({"from": "30.11.2026"}, "from", "Enter a date like 2026-11-30."),
        ({"period": "fortnight"}, "period", "Choose a period from the list."),
    ],
)
def test_bad_period_gets_a_clear_message_and_no_export(
    tree, subdistrict_dispatcher, login, params, field, message
):
    client = login(subdistrict_dispatcher)
    response = get(client, place=tree.subdistrict.pk, format="csv", **params)
    assert response.status_code == 422
    assert message in response.context["form"].errors[field]
    assert message in response.content.decode()
    assert not AuditEvent.objects.filter(action="requests.rates_exported").exists()


def test_csv_export_with_bom_audited(fixed_set, tree, subdistrict_dispatcher, login):
    response = get(login(subdistrict_dispatcher), place=tree.subdistrict.pk, format="csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="rates-110112008-20261101-20261130.csv"' in response["Content-Disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:5] == [
        "Group",
        "Place, level or unit",
        "Response rate (响应率)",
        "numerator",
        "denominator",
    ]
    assert rows[0][-1] == "Score"
    assert rows[1] == ["Total", "通运街道", "60.0%", "3", "5", "66.7%", "2", "3", "86.7%", "2.6", "3",
                       "60.0%", "3", "5", "—", "0", "0", "40.0%", "2", "5", "71.7"]  # fmt: skip
    assert [r[1] for r in rows[2:4]] == ["社区一", "社区二"] and rows[2][2:5] == ["50.0%", "2", "4"]
    assert [r[0] for r in rows[4:9]] == ["Handling level"] * 5
    event = AuditEvent.objects.get(action="requests.rates_exported")
    assert event.actor == subdistrict_dispatcher and event.path == tree.subdistrict.path
    assert event.after == {"format": "csv", "from": "2026-11-01", "to": "2026-11-30", "rows": 8}


def test_xlsx_export_audited(fixed_set, tree, community_worker, login):
    response = get(login(community_worker), place=tree.community_1.pk, format="xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == metrics.XLSX_TYPE
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["Group", "Place, level or unit", "Response rate (响应率)"]
    total = [c.value for c in sheet[2]]
    assert total[:5] == ["Total", "社区一", 0.5, 2, 4] and sheet.cell(2, 3).number_format == "0.0%"
    notes = [[c.value for c in row] for row in book.worksheets[1].iter_rows()]
    assert notes[1] == ["Period", "2026-11-01 – 2026-11-30"]
    assert any("× 30" in (row[1] or "") for row in notes)
    assert AuditEvent.objects.get(action="requests.rates_exported").after["format"] == "xlsx"


def test_unknown_export_format_is_404_and_not_audited(tree, subdistrict_dispatcher, login):
    assert get(login(subdistrict_dispatcher), place=tree.subdistrict.pk, format="pdf").status_code == 404
    assert not AuditEvent.objects.filter(action="requests.rates_exported").exists()


def test_permission_matrix(
    tree, client, resident_a, outsider, community_worker, entrance_leader_a, auditor, login
):
    rates_url = url()
    response = client.get(rates_url)
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]
    assert login(resident_a).get(rates_url).status_code == 403  # no requests.view anywhere
    assert login(auditor).get(rates_url).status_code == 403
    # outside the scope: 404, also for an export (nothing audited)
    assert get(login(outsider), place=tree.community_1.pk).status_code == 404
    assert get(login(outsider), place=tree.community_1.pk, format="csv").status_code == 404
    assert get(login(community_worker), place=tree.subdistrict.pk).status_code == 404
    assert get(login(community_worker), place=999999).status_code == 404
    assert not AuditEvent.objects.filter(action="requests.rates_exported").exists()
    # without a place: the user's own top place
    assert login(outsider).get(rates_url).context["place"] == tree.community_2
    assert login(community_worker).get(rates_url).context["place"] == tree.community_1
    assert login(entrance_leader_a).get(rates_url).context["place"] == tree.entrance_a


def test_counts_only_requests_in_scope(fixed_set, tree, outsider, login):
    table = get(login(outsider), place=tree.community_2.pk).context["table"]
    assert numbers(table.total)[0] == (1, 1, "100.0%")


def test_nav_links_to_the_page_for_staff_only(tree, community_worker, resident_a, login):
    rates_url = url()
    page = reverse("places:detail", args=[tree.community_1.pk])
    assert f'href="{rates_url}"' in login(community_worker).get(page).content.decode()
    page = reverse("places:detail", args=[tree.household_a1.pk])
    assert f'href="{rates_url}"' not in login(resident_a).get(page).content.decode()


def _more_communities(tree, n):
    for i in range(n):
        community = new_place(tree.subdistrict, level=Level.COMMUNITY, code=str(10 + i), name=f"社区{10 + i}")
        community.save()
        grid = new_place(community, level=Level.GRID, code="1", name="网格")
        grid.save()
        for k in range(3):
            make(grid, state=State.ACCEPTED, accepted_at=T + k * H)


def test_query_count_does_not_grow_with_children(
    tree, subdistrict_dispatcher, login, django_assert_max_num_queries
):
    client = login(subdistrict_dispatcher)
    get(client, place=tree.subdistrict.pk)  # warm the session and content types
    with django_assert_max_num_queries(13):
        response = get(client, place=tree.subdistrict.pk)
    assert len(response.context["table"].places) == 2
    _more_communities(tree, 6)
    with django_assert_max_num_queries(13):
        response = get(client, place=tree.subdistrict.pk)
    assert len(response.context["table"].places) == 8
    assert response.context["table"].total.response.denominator == 18
