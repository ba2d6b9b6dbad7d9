"""The centre's monthly and yearly report (issue 5 §6): the figures of figures.py for the subdistrict and
one row per community, as xlsx (a summary sheet, a sheet per figure group, the definitions) and PDF
(WeasyPrint, A4 landscape, WenQuanYi Micro Hei as in hotspots/report.py). Counts only: no names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linjialin.core import exports
from linjialin.places.models import Level, Place

from . import figures
from .models import DisputeType, Source

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = {"xlsx": XLSX, "pdf": "application/pdf"}


@dataclass(frozen=True)
class Period:
    """A month ("2026-11") or a year ("2026"): [start, end)."""

    kind: str  # "month" | "year"
    start: date
    end: date

    @classmethod
    def parse(cls, value: str) -> Period:
        value = (value or "").strip()
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})", value):
            year, month = int(m.group(1)), int(m.group(2))
            start = date(year, month, 1)  # ValueError for month 13
            end = date(year + (month == 12), month % 12 + 1, 1)
            return cls("month", start, end)
        if re.fullmatch(r"\d{4}", value):
            year = int(value)
            return cls("year", date(year, 1, 1), date(year + 1, 1, 1))
        raise ValueError(value)

    @property
    def key(self) -> str:
        return self.start.strftime("%Y-%m") if self.kind == "month" else str(self.start.year)


# --- the figures, in groups, with their labels --------------------------------------------------------
RATES = ("success_rate", "performance_rate")

HEADLINE = (
    ("screening_sessions", gettext_lazy("screening sessions")),
    ("consultations", gettext_lazy("legal consultations")),
    ("resolved", gettext_lazy("disputes resolved")),
    ("success_rate", gettext_lazy("success rate")),
)


def groups() -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(key, title, [(figure, label)]) for each group of figures."""
    return [
        (
            "screening",
            _("Screening (前端预防)"),
            [
                ("screening_sessions", _("screening sessions held")),
                ("risks_found", _("risks found")),
                ("risks_to_case", _("risks that became a case")),
                ("risks_to_task", _("risks that became a prevention task")),
                ("risks_closed", _("risks closed with a note")),
                ("risks_open", _("risks still open")),
                ("consultations", _("legal consultations")),
            ],
        ),
        (
            "sources",
            _("Cases by source"),
            [("cases_registered", _("cases registered"))]
            + [(f"source_{value}", str(label)) for value, label in Source.choices],
        ),
        (
            "types",
            _("Cases by type"),
            [(f"type_{value}", str(label)) for value, label in DisputeType.choices],
        ),
        (
            "outcomes",
            _("Mediation and outcomes (中端化解)"),
            [
                ("accepted", _("cases accepted")),
                ("resolved", _("resolved with an agreement")),
                ("resolved_written", _("of which written agreements")),
                ("resolved_oral", _("of which oral agreements")),
                ("failed", _("no agreement")),
                ("withdrawn", _("withdrawn")),
                ("not_accepted", _("not accepted")),
                ("success_rate", _("success rate")),
                ("avg_days", _("average days from acceptance to the end")),
                ("over_limit", _("cases over the one-month limit")),
            ],
        ),
        (
            "after",
            _("Court confirmation and follow-up (末端提升再预防)"),
            [
                ("court_confirmed", _("agreements confirmed by a court")),
                ("followups", _("follow-up visits made")),
                ("followups_performing", _("visits finding the agreement performed or on time")),
                ("performance_rate", _("performance rate at follow-up")),
                ("tasks_done", _("prevention tasks done")),
            ],
        ),
    ]


def definitions() -> list[tuple[str, str]]:
    return [
        (
            _("success rate"),
            _(
                "Cases resolved with an agreement ÷ cases whose mediation ended in the period with an "
                "agreement or without one. Withdrawn and not accepted cases are left out. — when no case "
                "ended with a result."
            ),
        ),
        (
            _("average days"),
            _(
                "Calendar days from acceptance to the agreement, the failure or the withdrawal, over the "
                "cases that ended in the period after being accepted."
            ),
        ),
        (
            _("over the one-month limit"),
            _(
                "Cases that ended in the period after their due date (extensions move it), and cases "
                "still in mediation whose due date fell before the end of the period."
            ),
        ),
        (
            _("risks"),
            _(
                "Findings of the screening sessions held in the period; handled or still open as of the "
                "day the report is made."
            ),
        ),
        (
            _("performance rate at follow-up"),
            _(
                "Follow-up visits in the period finding the agreement performed or being performed on "
                "time ÷ follow-up visits made. — when no visit was made."
            ),
        ),
    ]


def cell(figures_: dict, name: str) -> str | int | float:
    """A figure for display: rates as 87.5% (— without a denominator), the average with one decimal."""
    value = figures_[name]
    if name in RATES:
        return figures.rate_text(value)
    if name == "avg_days":
        return "—" if value is None else value
    return value


@dataclass
class ReportData:
    place: Place
    period: Period
    rows: list[figures.Row] = field(default_factory=list)  # one per community (a subdistrict report)
    total: figures.Row | None = None

    @property
    def all_rows(self) -> list[figures.Row]:
        return [*self.rows, self.total]

    @property
    def title(self) -> str:
        return _("Mediation centre figures, %(place)s, %(period)s") % {
            "place": self.place.name,
            "period": self.period.key,
        }

    def headline(self) -> list[tuple[str, str | int | float]]:
        return [(str(label), cell(self.total.figures, name)) for name, label in HEADLINE]

    def tables(self) -> list[dict]:
        """Per group: its title, the column labels, and a row per place with the displayed values."""
        out = []
        for key, title, items in groups():
            out.append(
                {
                    "key": key,
                    "title": title,
                    "columns": [label for _name, label in items],
                    "rows": [
                        (row.label, row.place is None, [cell(row.figures, name) for name, _label in items])
                        for row in self.all_rows
                    ],
                }
            )
        return out


def build(place: Place, period: Period) -> ReportData:
    """The report's figures: per community and the total for a subdistrict, the place alone otherwise."""
    if place.level == Level.SUBDISTRICT:
        rows, total = figures.by_community(place, period.start, period.end)
        total.label = _("%(place)s (total)") % {"place": place.name}
        return ReportData(place, period, rows, total)
    return ReportData(
        place, period, [], figures.Row(place, place.name, figures.compute(place, period.start, period.end))
    )


def xlsx(data: ReportData) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    summary = wb.active
    summary.title = _("Summary")[:31]

    def sheet_table(ws, title: str, columns: list[str], rows):
        exports.xlsx_append(ws, [title])
        ws["A1"].font = Font(bold=True, size=14)
        exports.xlsx_append(ws, [_("Period"), data.period.key])
        exports.xlsx_append(ws, [_("Place"), *columns])
        for c in ws[3]:
            c.font = Font(bold=True)
            c.alignment = Alignment(wrap_text=True, vertical="top")
        for label, is_total, values in rows:
            exports.xlsx_append(ws, [label, *values])
            if is_total:
                for c in ws[ws.max_row]:
                    c.font = Font(bold=True)
        ws.column_dimensions["A"].width = 22
        for column in list(ws.columns)[1:]:
            ws.column_dimensions[column[0].column_letter].width = 14
        ws.freeze_panes = "B4"

    names = [name for name, _label in HEADLINE]
    sheet_table(
        summary,
        data.title,
        [str(label) for _name, label in HEADLINE],
        [(r.label, r.place is None, [cell(r.figures, n) for n in names]) for r in data.all_rows],
    )
    for t in data.tables():
        sheet_table(wb.create_sheet(t["title"][:31].replace("/", " ")), t["title"], t["columns"], t["rows"])
    notes = wb.create_sheet(_("Definitions")[:31])
    exports.xlsx_append(notes, [_("Figure"), _("Definition")])
    for c in notes[1]:
        c.font = Font(bold=True)
    for term, text in definitions():
        exports.xlsx_append(notes, [term, text])
    notes.column_dimensions["A"].width = 24
    notes.column_dimensions["B"].width = 90
    for row in notes.iter_rows():
        for c in row:
            c.alignment = Alignment(wrap_text=True, vertical="top")
    return exports.xlsx_bytes(wb)


def render_html(data: ReportData) -> str:
    return render_to_string(
        "mediation/pdf/report.html", {"data": data, "tables": data.tables(), "definitions": definitions()}
    )


def pdf(data: ReportData) -> bytes:
    from weasyprint import HTML

    return HTML(string=render_html(data)).write_pdf()
