"""Roster exports: a resident's name that looks like a formula is exported as inert text."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from linjialin.places import roster
from linjialin.places.models import Resident

FORMULA_NAME = '=HYPERLINK("http://x","y")'


def _export(client, place, fmt):
    response = client.get(reverse("places:export", args=[place.pk, fmt]))
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_roster_csv_export_quotes_a_formula_name(tree, community_worker, login):
    Resident.objects.filter(pk=tree.resident_a1.pk).update(name=FORMULA_NAME)
    body = _export(login(community_worker), tree.community_1, "csv")
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    names = [r[rows[0].index("姓名")] for r in rows[1:]]
    assert "'" + FORMULA_NAME in names and FORMULA_NAME not in names


def test_roster_xlsx_export_writes_a_formula_name_as_text(tree, community_worker, login):
    Resident.objects.filter(pk=tree.resident_a1.pk).update(name=FORMULA_NAME)
    body = _export(login(community_worker), tree.community_1, "xlsx")
    ws = load_workbook(io.BytesIO(body)).worksheets[0]
    column = [c.value for c in ws[1]].index("姓名") + 1
    cells = [ws.cell(r, column) for r in range(2, ws.max_row + 1)]
    cell = next(c for c in cells if c.value == FORMULA_NAME)
    assert cell.data_type == "s"  # not "f": Excel shows the text and runs nothing


def test_roster_csv_export_with_a_formula_name_reimports_unchanged(tree, community_worker, login):
    Resident.objects.filter(pk=tree.resident_a1.pk).update(name=FORMULA_NAME)
    body = _export(login(community_worker), tree.community_1, "csv")
    report = roster.import_roster(community_worker, io.BytesIO(body), filename="back.csv")
    assert report.ok, report.errors
    assert not report.changed
    assert Resident.objects.filter(name=FORMULA_NAME).count() == 1


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_roster_export_keeps_area_numbers_numeric(tree, community_worker, login, fmt):
    from linjialin.places.models import Place

    Place.objects.filter(pk=tree.household_a1.pk).update(area_m2=-3)  # odd, but a number stays a number
    body = _export(login(community_worker), tree.community_1, fmt)
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
        assert "-3.0" in [r[rows[0].index("面积")] for r in rows[1:]]
    else:
        ws = load_workbook(io.BytesIO(body)).worksheets[0]
        column = [c.value for c in ws[1]].index("面积") + 1
        assert any(
            ws.cell(r, column).value == -3 and ws.cell(r, column).data_type == "n"
            for r in range(2, ws.max_row + 1)
        )
