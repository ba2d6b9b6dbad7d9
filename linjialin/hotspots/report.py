"""每月一题: the monthly report (themes, problems, tasks, progress, before/after counts) as xlsx and PDF.

The PDF is WeasyPrint over an HTML template set in "WenQuanYi Micro Hei" (fonts-wqy-microhei) with
lang="zh-Hans", so Pango breaks Chinese lines between characters and never inside a Latin word.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from linjialin.core import exports

from .models import MonthlyTheme, TaskState

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class TaskLine:
    title: str
    owner: str
    deadline: date
    state: str
    state_label: str
    before: int | None
    after: int | None


@dataclass
class ProblemLine:
    title: str
    text: str
    place: str
    count: int | None
    tasks: list[TaskLine] = field(default_factory=list)
    done: int = 0


@dataclass
class ThemeLine:
    month: date
    title: str
    description: str
    place: str
    problems: list[ProblemLine] = field(default_factory=list)
    policies: list[tuple[str, str, str]] = field(default_factory=list)
    tasks: int = 0
    done: int = 0

    @property
    def progress(self) -> int:
        return round(100 * self.done / self.tasks) if self.tasks else 0


def theme_progress(theme: MonthlyTheme) -> ThemeLine:
    problems = []
    total = done = 0
    for p in theme.problems.all():
        line = ProblemLine(title=p.title, text=p.text, place=p.place_label, count=p.hotspot_count)
        for t in p.tasks.all().select_related("owner"):
            line.tasks.append(
                TaskLine(
                    title=t.title,
                    owner=t.owner.display_name or t.owner.get_username(),
                    deadline=t.deadline,
                    state=t.state,
                    state_label=str(t.get_state_display()),
                    before=t.before_count,
                    after=t.after_count,
                )
            )
            line.done += t.state == TaskState.DONE
        total += sum(1 for t in line.tasks if t.state != TaskState.CANCELLED)
        done += line.done
        problems.append(line)
    return ThemeLine(
        month=theme.month,
        title=theme.title,
        description=theme.description,
        place=theme.place.name,
        problems=problems,
        policies=[(p.title, p.text, p.link) for p in theme.policies.all()],
        tasks=total,
        done=done,
    )


def build(themes: list[MonthlyTheme], month: date) -> dict:
    return {"month": month, "themes": [theme_progress(t) for t in themes]}


def xlsx(data: dict) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = data["month"].strftime("%Y-%m")
    exports.xlsx_append(ws, [_("Monthly report (每月一题)"), data["month"].strftime("%Y-%m")])
    ws["A1"].font = Font(bold=True, size=14)
    header = [
        _("Theme"),
        _("Place"),
        _("Progress (%)"),
        _("Problem"),
        _("Requests when picked"),
        _("Task"),
        _("Owner"),
        _("Deadline"),
        _("State"),
        _("Requests before"),
        _("Requests after"),
    ]
    ws.append([])
    exports.xlsx_append(ws, header)
    for cell in ws[3]:
        cell.font = Font(bold=True)
    for t in data["themes"]:
        if not t.problems:
            exports.xlsx_append(ws, [t.title, t.place, t.progress])
        for p in t.problems:
            if not p.tasks:
                exports.xlsx_append(ws, [t.title, t.place, t.progress, p.title, p.count])
            for task in p.tasks:
                exports.xlsx_append(
                    ws,
                    [
                        t.title,
                        t.place,
                        t.progress,
                        p.title,
                        p.count,
                        task.title,
                        task.owner,
                        task.deadline,
                        task.state_label,
                        task.before,
                        task.after,
                    ],
                )
    policies = wb.create_sheet(_("Policies"))
    exports.xlsx_append(policies, [_("Theme"), _("Policy"), _("Text"), _("Link")])
    for t in data["themes"]:
        for title, text, link in t.policies:
            exports.xlsx_append(policies, [t.title, title, text, link])
    for sheet in (ws, policies):
        for column in sheet.columns:
            letter = column[0].column_letter
            sheet.column_dimensions[letter].width = 18
            for cell in column:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.freeze_panes = "A4" if sheet is ws else "A2"
    return exports.xlsx_bytes(wb)


def render_html(data: dict) -> str:
    return render_to_string("hotspots/report_pdf.html", data)


def pdf(data: dict) -> bytes:
    from weasyprint import HTML

    return HTML(string=render_html(data)).write_pdf()
