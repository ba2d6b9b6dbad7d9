"""The one way the project writes spreadsheets (CSV and XLSX) that people open in Excel or WPS.

A cell whose text starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read by a spreadsheet
as a formula (OWASP "CSV injection"): a resident's name `=HYPERLINK("http://x","y")` in a roster export
would become a live link, or worse, on a worker's machine. So:

- CSV: such a text gets a leading single quote (the OWASP advice; Excel shows the text, runs nothing);
  the file starts with a UTF-8 BOM so Excel on Chinese Windows reads it as UTF-8, not GBK.
- XLSX: every text is written as a text cell (never a formula, never an error code), and texts that
  look like formulas also carry Excel's "quote prefix" style so editing the cell keeps it text.

Numbers, dates and None pass through unchanged: a negative amount stays a number in both formats.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def looks_like_formula(value) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_cell(value):
    """One CSV cell: formula-looking text is quoted with a leading `'`; numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float | Decimal):
        return value
    text = str(value)
    return "'" + text if looks_like_formula(text) else text


def unquote(text: str) -> str:
    """The text `csv_cell` quoted, as it was (for importers reading our own exports back)."""
    if text[:1] == "'" and looks_like_formula(text[1:]):
        return text[1:]
    return text


def csv_row(values: Iterable) -> list:
    return [csv_cell(v) for v in values]


def csv_bytes(rows: Iterable[Sequence]) -> bytes:
    """The whole file at once, UTF-8 with a BOM."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow(csv_row(row))
    return (BOM + out.getvalue()).encode("utf-8")


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_chunks(rows: Iterable[Sequence], *, batch: int = 500) -> Iterator[str]:
    """The file as text chunks for a streaming response (the first chunk starts with the BOM)."""
    writer = csv.writer(_Echo())
    yield BOM
    buffer: list[str] = []
    for row in rows:
        buffer.append(writer.writerow(csv_row(row)))
        if len(buffer) >= batch:
            yield "".join(buffer)
            buffer = []
    if buffer:
        yield "".join(buffer)


def xlsx_cells(ws, values: Iterable) -> list:
    """Cells for `ws.append(...)` (normal and write-only sheets): texts are text cells, never formulas."""
    from openpyxl.cell.cell import Cell

    cells = []
    for column, value in enumerate(values, 1):
        if isinstance(value, Cell):
            cells.append(value)
            continue
        # a provisional position: the write-only sheet formats a Cell's coordinate before placing it
        cell = Cell(ws, row=1, column=column, value=value)
        if isinstance(value, str):
            cell.data_type = "s"  # openpyxl would make "=…" a formula and "#N/A" an error
            if looks_like_formula(value):
                cell.quotePrefix = True
        cells.append(cell)
    return cells


def xlsx_append(ws, values: Iterable) -> None:
    """Append one row of safe cells to `ws`."""
    ws.append(xlsx_cells(ws, values))


def xlsx_bytes(wb) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
