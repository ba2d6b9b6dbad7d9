"""The one spreadsheet writer: no cell a spreadsheet would run as a formula (OWASP CSV injection)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from linjialin.core import exports

ATTACKS = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1", "=1"]


def _csv(rows) -> list[list[str]]:
    data = exports.csv_bytes(rows)
    assert data.startswith(b"\xef\xbb\xbf")  # Excel on Chinese Windows reads it as UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


@pytest.mark.parametrize("text", ATTACKS)
def test_csv_cell_starting_like_a_formula_is_quoted(text):
    assert _csv([[text]]) == [["'" + text]]


def test_csv_plain_text_and_numbers_are_written_as_they_are():
    rows = _csv([["张三", "a=b", "13800000001", -5, 2.5, Decimal("-1.25"), None, 0]])
    assert rows == [["张三", "a=b", "13800000001", "-5", "2.5", "-1.25", "", "0"]]


def test_csv_chunks_stream_the_same_file():
    rows = [["姓名"], ["=1+1"], *[[str(i)] for i in range(1200)]]
    assert "".join(exports.csv_chunks(rows)).encode("utf-8") == exports.csv_bytes(rows)


def test_unquote_reads_our_own_quoted_text_back():
    assert exports.unquote("'=1+1") == "=1+1"
    assert exports.unquote("'quoted") == "'quoted"  # only quotes the exporter added


def _xlsx(write_only: bool, values):
    wb = Workbook(write_only=write_only)
    ws = wb.create_sheet("s") if write_only else wb.active
    exports.xlsx_append(ws, values)
    return load_workbook(io.BytesIO(exports.xlsx_bytes(wb))).worksheets[0]


@pytest.mark.parametrize("write_only", [False, True])
def test_xlsx_formula_text_is_a_text_cell_and_numbers_stay_numbers(write_only):
    ws = _xlsx(write_only, [*ATTACKS, "#N/A", -5, 2.5, None])
    cells = list(ws[1])
    for cell, text in zip(cells, ATTACKS, strict=False):
        assert cell.data_type == "s" and cell.value == text  # never "f" (a live formula)
        assert cell.quotePrefix  # editing it in Excel keeps it text
    assert cells[len(ATTACKS)].data_type == "s" and cells[len(ATTACKS)].value == "#N/A"
    negative, fraction = cells[len(ATTACKS) + 1], cells[len(ATTACKS) + 2]
    assert negative.data_type == "n" and negative.value == -5  # a negative number is a number
    assert fraction.data_type == "n" and fraction.value == 2.5
