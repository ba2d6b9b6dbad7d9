"""Hotline work orders (12345 style) from CSV (UTF-8 with or without BOM, or GBK) or .xlsx.

`check_file(actor, file, filename)` reads the whole file (places.roster.read_table: the same reader,
encodings and row numbers as the roster import) and checks every row; any problem → a report with
every (row, column, reason) and nothing is written. Otherwise `services.import_hotline_orders` writes
all new orders in one transaction. Idempotent by external id (工单编号): an order imported before is
reported as "already imported" and left exactly as it is, even when the file's row has changed.

Columns (Chinese header or English name; see COLUMNS): 工单编号, 受理时间, 诉求内容, 联系人, 联系电话,
诉求分类 (a category's code or name), 地址/所属社区 (a place's name or path within the importer's
dispatch scope), 办理时限 (a date and time; it replaces the computed resolution deadline), and an optional
诉求类型 (咨询 / 求助 / 投诉 / 举报 / 建议; 求助 when blank).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from linjialin.core import exports
from linjialin.core.scope import scope_for
from linjialin.places.models import Place
from linjialin.places.roster import Column, FileProblem, RowError, _norm_header, _strip_unit, read_table

from .models import Category, RequestType
from .services import MAX_DESCRIPTION

IMPORT_PERM = "requests.dispatch"
MAX_ROWS = 5000  # one upload; larger exports are split

COLUMNS: tuple[Column, ...] = (
    Column("external_id", "工单编号", "external id", ("工单号", "编号", "order id", "external_id"), True),
    Column("received_at", "受理时间", "received at", ("来电时间", "派单时间", "received_at", "time"), True),
    Column("content", "诉求内容", "content", ("工单内容", "内容", "问题描述", "description"), True),
    Column("contact_name", "联系人", "contact name", ("来电人", "诉求人", "姓名", "contact_name")),
    Column(
        "contact_phone", "联系电话", "contact phone", ("来电号码", "电话", "手机", "contact_phone", "phone")
    ),
    Column("category", "诉求分类", "category", ("分类", "问题分类", "工单分类"), True),
    Column("place", "地址", "place", ("所属社区", "诉求地址", "地点", "社区", "address"), True),
    Column("deadline", "办理时限", "deadline", ("截止时间", "办结时限", "办理期限")),
    Column("request_type", "诉求类型", "type", ("类型", "工单类型", "request_type")),
)
_LOOKUP = {
    _norm_header(name): col.key for col in COLUMNS for name in (col.header, col.label, col.key, *col.aliases)
}
TYPE_WORDS = {
    "咨询": RequestType.CONSULT,
    "求助": RequestType.HELP,
    "投诉": RequestType.COMPLAINT,
    "举报": RequestType.REPORT,
    "建议": RequestType.SUGGESTION,
    **{t.value: t.value for t in RequestType},
}
PHONE_RE = re.compile(r"^\d{7,11}$")
EXCEL_EPOCH = datetime(1899, 12, 30)
DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d")


@dataclass(frozen=True)
class HotlineRow:
    line: int  # as Excel shows it
    external_id: str
    received_at: datetime
    content: str
    contact_name: str
    contact_phone: str
    category: Category
    place: Place
    deadline: datetime | None
    request_type: str


@dataclass
class HotlineReport:
    filename: str
    rows: list[HotlineRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    created: list = field(default_factory=list)  # requests created
    already: list = field(default_factory=list)  # (row, request) imported before, left as they are
    written: bool = False
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


def parse_datetime(text: str) -> datetime | None:
    """A local (Beijing) date and time: 2026-11-28 09:30[:00], 2026/11/28 9:30, 2026年11月28日 9:30,
    a date alone (the end of that day for a deadline is the caller's choice), or an Excel serial number."""
    text = text.strip()
    if not text:
        return None
    if re.fullmatch(r"\d{5}(\.\d+)?", text):  # an Excel date cell: days since 1899-12-30
        naive = EXCEL_EPOCH + timedelta(days=float(text))
        return timezone.make_aware(naive.replace(microsecond=0))
    norm = re.sub(r"[年月/.]", "-", text).replace("日", " ").replace("：", ":")
    norm = re.sub(r"\s+", " ", norm).strip()
    norm = re.sub(r"(?<!\d)(\d)(?!\d)", r"0\1", norm)  # 2026-1-5 9:30 → 2026-01-05 09:30
    for fmt in DATETIME_FORMATS:
        try:
            naive = datetime.strptime(norm, fmt)
        except ValueError:
            continue
        return timezone.make_aware(naive)
    return None


def _is_date_only(text: str) -> bool:
    """A deadline written as a day (no time of day, not an Excel date-time number)."""
    return not re.search(r"\d\s*[:：]\s*\d", text) and not re.fullmatch(r"\d{5}\.\d+", text.strip())


def _headers(headers: list[str], header_row: int, report: HotlineReport) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, header in enumerate(headers):
        if not header:
            continue
        norm = _norm_header(header)
        key = _LOOKUP.get(norm) or _LOOKUP.get(_strip_unit(norm))
        if key is None:
            report.ignored_columns.append(header)
        elif key in index:
            report.errors.append(RowError(header_row, header, _("This column appears twice.")))
        else:
            index[key] = i
    for col in COLUMNS:
        if col.required and col.key not in index:
            message = _("Required column “%(column)s” is missing.") % {"column": col.header}
            report.errors.append(RowError(header_row, col.header, message))
    return index


class _Lookups:
    """Categories by code or name; places in the importer's dispatch scope by path or name."""

    def __init__(self, actor, place_texts: set[str]):
        self.categories: dict[str, Category | None] = {}
        for c in Category.objects.filter(active=True):
            for key in (c.code.lower(), c.name_zh, c.name_en.lower()):
                if key:
                    self.categories[key] = c
        # only the places the file names (one query, whatever the size of the scope)
        scope = scope_for(actor, IMPORT_PERM)
        paths = place_texts | {t.rstrip(".") + "." for t in place_texts}
        places = (
            Place.objects.none()
            if scope.is_empty or not place_texts
            else Place.objects.filter(scope.q()).filter(Q(path__in=paths) | Q(name__in=place_texts))
        )
        self.by_path: dict[str, Place] = {}
        self.by_name: dict[str, list[Place]] = {}
        for p in places:
            self.by_path[p.path] = p
            self.by_name.setdefault(p.name, []).append(p)

    def category(self, text: str) -> Category | None:
        return self.categories.get(text) or self.categories.get(text.lower())

    def place(self, text: str) -> tuple[Place | None, str]:
        found = self.by_path.get(text) or self.by_path.get(text.rstrip(".") + ".")
        if found:
            return found, ""
        named = self.by_name.get(text, [])
        if len(named) == 1:
            return named[0], ""
        if named:
            return None, _("%(n)d places have this name: write the place's path instead.") % {"n": len(named)}
        return None, _("Unknown place (or not one you dispatch for): use a place's name or path.")


def check_table(actor, table, report: HotlineReport) -> None:
    """Every row of the table checked; good rows into report.rows, every problem into report.errors."""
    index = _headers(table.headers, table.header_row, report)
    if report.errors:
        return
    if len(table.rows) > MAX_ROWS:
        report.errors.append(
            RowError(None, "", _("The file has more than %(n)d orders; please split it.") % {"n": MAX_ROWS})
        )
        return
    header_of = {col.key: table.headers[i] for col in COLUMNS if (i := index.get(col.key)) is not None}
    i = index["place"]
    lookups = _Lookups(
        actor, {cells[i].strip() for _line, cells in table.rows if i < len(cells) and cells[i]}
    )
    seen: dict[str, int] = {}
    for line, cells in table.rows:

        def cell(key: str, cells=cells) -> str:
            i = index.get(key)
            return cells[i].strip() if i is not None and i < len(cells) and cells[i] else ""

        problems: list[RowError] = []

        def problem(key: str, message: str, line=line, problems=problems) -> None:
            problems.append(RowError(line, header_of.get(key, ""), message))

        external_id = cell("external_id")
        if not external_id:
            problem("external_id", _("The work-order number is missing."))
        elif len(external_id) > 64:
            problem("external_id", _("The work-order number is longer than 64 characters."))
        elif external_id in seen:
            problem(
                "external_id",
                _("The same work-order number is already in row %(row)d.") % {"row": seen[external_id]},
            )
        else:
            seen[external_id] = line
        received_at = parse_datetime(cell("received_at"))
        if not cell("received_at"):
            problem("received_at", _("The time received is missing."))
        elif received_at is None:
            problem("received_at", _("Not a date and time: write it like 2026-11-28 09:30."))
        content = cell("content")
        if not content:
            problem("content", _("The content is missing."))
        elif len(content) > MAX_DESCRIPTION:
            problem(
                "content",
                _("The content may have at most %(n)d characters (it has %(m)d).")
                % {"n": MAX_DESCRIPTION, "m": len(content)},
            )
        contact_name = cell("contact_name")
        if len(contact_name) > 50:
            problem("contact_name", _("The contact name is longer than 50 characters."))
        phone = re.sub(r"[\s\-()（）]", "", cell("contact_phone"))
        if phone and not PHONE_RE.match(phone):
            problem("contact_phone", _("Not a phone number: 7 to 11 digits (a mobile has 11)."))
        category = None
        if not cell("category"):
            problem("category", _("The category is missing."))
        else:
            category = lookups.category(cell("category"))
            if category is None:
                problem("category", _("Unknown category: use a category's code or name."))
        place = None
        if not cell("place"):
            problem("place", _("The place is missing."))
        else:
            place, why = lookups.place(cell("place"))
            if place is None:
                problem("place", why)
        deadline = None
        if cell("deadline"):
            deadline = parse_datetime(cell("deadline"))
            if deadline is None:
                problem("deadline", _("Not a date and time: write it like 2026-12-05 18:00."))
            else:
                if _is_date_only(cell("deadline")):  # a date alone: the end of that day
                    deadline = timezone.make_aware(
                        datetime.combine(timezone.localtime(deadline).date(), time(23, 59, 59))
                    )
                if received_at is not None and deadline <= received_at:
                    problem("deadline", _("The deadline is before the time received."))
        request_type = RequestType.HELP
        if cell("request_type"):
            request_type = TYPE_WORDS.get(cell("request_type").lower())
            if request_type is None:
                problem("request_type", _("Unknown type: 咨询, 求助, 投诉, 举报 or 建议."))
        if problems:
            report.errors.extend(problems)
            continue
        report.rows.append(
            HotlineRow(
                line=line,
                external_id=external_id,
                received_at=received_at,
                content=content,
                contact_name=contact_name,
                contact_phone=phone,
                category=category,
                place=place,
                deadline=deadline,
                request_type=request_type,
            )
        )


def check_file(actor, file, filename: str) -> HotlineReport:
    report = HotlineReport(filename=filename)
    try:
        table = read_table(file, filename)
    except FileProblem as exc:
        report.errors.append(RowError(None, "", str(exc)))
        return report
    check_table(actor, table, report)
    if report.errors:
        report.rows = []
    return report


def import_file(actor, file, filename: str, *, dry_run: bool = False) -> HotlineReport:
    """Check the whole file; with no problem (and not a dry run) write it through the service."""
    from django.db import IntegrityError

    from . import services

    report = check_file(actor, file, filename)
    report.dry_run = dry_run
    if report.errors or dry_run:
        return report
    try:
        report.created, report.already = services.import_hotline_orders(actor, report.rows)
    except IntegrityError:  # the same orders imported at the same moment by someone else
        report.errors.append(
            RowError(None, "", _("These orders were being imported at the same time; try again."))
        )
        return report
    report.written = True
    return report


# --- the template -------------------------------------------------------------------------------
EXAMPLE = (
    (
        "2026112800001",
        "2026-11-28 09:30",
        "3号楼1单元门口路灯不亮，晚上看不见台阶",
        "李女士",
        "13800001234",
        "",
        "",
        "2026-12-05 18:00",
        "求助",
    ),
)


def template_rows(example_category: str = "", example_place: str = "") -> list[list[str]]:
    rows = [[c.header for c in COLUMNS]]
    for r in EXAMPLE:
        row = list(r)
        row[5], row[6] = example_category, example_place
        rows.append(row)
    return rows


def template_bytes(fmt: str, *, example_category: str = "", example_place: str = "") -> bytes:
    """The import template: the header row and one example row (xlsx, or CSV in UTF-8 with BOM)."""
    rows = template_rows(example_category, example_place)
    if fmt == "csv":
        return exports.csv_bytes(rows)
    if fmt != "xlsx":
        raise ValueError(fmt)
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "12345工单"
    for row in rows:
        exports.xlsx_append(ws, row)
    for i, col in enumerate(COLUMNS, 1):
        ws.cell(1, i).font = Font(bold=True, color="B3261E" if col.required else "000000")
        ws.cell(2, i).number_format = "@"  # numbers and times stay text as written
        ws.column_dimensions[ws.cell(1, i).column_letter].width = 40 if col.key == "content" else 16
    ws.freeze_panes = "A2"
    return exports.xlsx_bytes(wb)
