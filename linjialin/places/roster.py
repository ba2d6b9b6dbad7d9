"""Roster import and export: places, households and residents as one spreadsheet row per resident.

Import (`import_roster`) reads .xlsx or .csv (UTF-8 with or without BOM, or GBK/GB18030), checks the
whole file first and collects every problem as (row as Excel shows it, column header, reason). Any
problem → nothing is written. Otherwise everything is written in one transaction with bulk inserts and
updates (existing rows are preloaded into dicts; no query per row) and one audit event with the counts.

Semantics a user should know (also shown on the import page):
- Communities must exist and lie in the importer's scope (places.import_roster). Grids given by a new
  *name*, compounds, buildings, entrances (compound + building + unit) and households (entrance + room)
  are created when missing; a grid given by an unknown *code* is an error.
- A resident is identified by household + name. A blank cell leaves the stored value as it is; a
  masked number (``138****1234``, as in a masked export) also keeps the stored number.
- Tags are added, never removed (removing is done one by one on the resident's page).
- A row with household columns only (no name and no other resident data) records the household alone,
  e.g. a vacant flat. That is also how export writes households without residents.

Export (`export_roster`) writes the same columns for everything under a place, masked unless the user
may unmask and asks with a reason; sensitive tags only with places.export_sensitive; always audited.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import io
import itertools
import re
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from xml.etree import ElementTree
from xml.parsers.expat import ExpatError, ParserCreate

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linjialin.core import audit, exports
from linjialin.core.bulk import chunks, insert_rows, update_rows
from linjialin.core.masking import mask_id_number, mask_mobile
from linjialin.core.reasons import clean_reason
from linjialin.core.scope import Scope, scope_for, under

from .models import (
    CODE_WIDTH,
    Building,
    Compound,
    Level,
    Place,
    Relation,
    Resident,
    ResidentTag,
    TagType,
    Tenure,
)
from .services import new_place

IMPORT_PERM = "places.import_roster"
EXPORT_PERM = "places.export_roster"
EXPORT_SENSITIVE_PERM = "places.export_sensitive"
UNMASK_PERM = "places.unmask"
SENSITIVE_PERM = "places.view_sensitive"

BATCH = 1000
PROGRESS_EVERY = 500
MAX_ROWS = 500_000
MIN_BIRTH_YEAR = 1900

Progress = Callable[[str, int, int], None]  # (phase, done, total); phases: read, check, write


# --- columns ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    key: str
    header: str  # the template's (Chinese) header
    label: str  # English name, also accepted as a header
    aliases: tuple[str, ...] = ()
    required: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("community", "社区", "community", ("社区名称", "社区编码", "所属社区"), True),
    Column("grid", "网格", "grid", ("网格编码", "网格名称", "网格号", "所属网格"), True),
    Column("compound", "小区", "compound", ("小区名称",), True),
    Column("building", "楼号", "building", ("楼栋", "楼栋号", "楼"), True),
    Column("unit", "单元", "unit", ("单元号", "楼门"), True),
    Column("room", "房号", "room", ("门牌号", "房间号", "户号"), True),
    Column("floor", "楼层", "floor", ("所在楼层", "层")),
    Column("area_m2", "面积", "area_m2", ("area", "建筑面积", "面积m²", "面积m2", "面积平方米")),
    Column("tenure", "产权", "tenure", ("产权性质", "居住性质", "房屋性质")),
    Column("occupied", "是否居住", "occupied", ("是否在住", "是否实际居住", "is_occupied")),
    Column("name", "姓名", "name", ("居民姓名",), True),
    Column("mobile", "手机", "mobile", ("手机号", "手机号码", "联系电话", "电话", "phone")),
    Column("id_number", "身份证号", "id_number", ("身份证", "身份证号码", "证件号码", "id")),
    Column("birth_year", "出生年份", "birth_year", ("出生年",)),
    Column("relation", "与户主关系", "relation", ("关系", "户主关系")),
    Column("tags", "标签", "tags", ("居民标签",)),
    Column("consent", "同意来源", "consent", ("consent_source", "同意来源说明", "授权来源")),
)
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
HOUSEHOLD_KEYS = ("floor", "area_m2", "tenure", "occupied")
RESIDENT_DATA_KEYS = ("mobile", "id_number", "birth_year", "relation", "tags", "consent")

# Example rows of the template (a household of two; the ID number is a valid sample).
EXAMPLE_ROWS = (
    (
        "001",
        "001",
        "紫荆雅园",
        "16号楼",
        "251单元",
        "101",
        "1",
        "86.5",
        "自有",
        "是",
        "张秀兰",
        "13800138000",
        "11010519491231002X",
        "1949",
        "户主",
        "独居老人、党员",
        "本人书面同意 2026-03-01",
    ),
    (
        "001",
        "001",
        "紫荆雅园",
        "16号楼",
        "251单元",
        "101",
        "1",
        "86.5",
        "自有",
        "是",
        "李明",
        "13900139000",
        "",
        "1975",
        "子女",
        "志愿者",
        "",
    ),
)

TENURE_WORDS = {
    Tenure.OWNER: ("自有", "自住", "自购", "产权房", "owner", "owned", "owner-occupied"),
    Tenure.TENANT: ("租住", "租赁", "出租", "租房", "tenant", "rented", "rent"),
    Tenure.VACANT: ("空置", "空房", "vacant", "empty"),
}
TENURE_BY_WORD = {w.lower(): t.value for t, words in TENURE_WORDS.items() for w in words}
TENURE_LABEL = {Tenure.OWNER: "自有", Tenure.TENANT: "租住", Tenure.VACANT: "空置"}

YES = ("是", "y", "yes", "true", "1", "√", "✓", "在住", "居住")
NO = ("否", "n", "no", "false", "0", "×", "✗", "不在住", "未居住")

RELATION_WORDS = {
    Relation.HEAD: ("户主", "本人", "head", "self"),
    Relation.SPOUSE: ("配偶", "妻", "妻子", "夫", "丈夫", "spouse", "wife", "husband"),
    Relation.CHILD: (
        "子女",
        "子",
        "女",
        "儿子",
        "女儿",
        "长子",
        "长女",
        "次子",
        "次女",
        "child",
        "son",
        "daughter",
    ),
    Relation.PARENT: ("父母", "父亲", "母亲", "父", "母", "parent", "father", "mother"),
    Relation.GRANDCHILD: (
        "孙子女",
        "孙子",
        "孙女",
        "外孙",
        "外孙子",
        "外孙女",
        "grandchild",
        "grandson",
        "granddaughter",
    ),
    Relation.SIBLING: (
        "兄弟姐妹",
        "兄",
        "弟",
        "姐",
        "妹",
        "哥哥",
        "弟弟",
        "姐姐",
        "妹妹",
        "sibling",
        "brother",
        "sister",
    ),
    Relation.TENANT: ("租户", "租客", "承租人", "tenant"),
    Relation.OTHER: ("其他", "其它", "亲属", "other"),
}
RELATION_BY_WORD = {w.lower(): r.value for r, words in RELATION_WORDS.items() for w in words}
RELATION_LABEL = {r: words[0] for r, words in RELATION_WORDS.items()}

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
ID_RE = re.compile(r"^\d{17}[\dX]$")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
TAG_SPLIT = re.compile(r"[,，、;；/|\s]+")


def id_number_problem(value: str) -> str | None:
    """None when `value` is a valid 18-character resident ID (GB 11643), else the reason."""
    if not ID_RE.match(value):
        return _("An ID number has 17 digits and a final digit or X.")
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return _("The birth date inside the ID number is not a real date.")
    total = sum(int(d) * w for d, w in zip(value[:17], ID_WEIGHTS, strict=True))
    if ID_CHECK[total % 11] != value[17]:
        return _("The ID number's check digit is wrong (GB 11643 checksum).")
    return None


# --- report -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RowError:
    row: int | None  # as Excel shows it (the header is row 1); None for a problem with the whole file
    column: str  # the column header as written in the file (or the template's header)
    message: str


@dataclass
class KindCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


KINDS = (
    ("grids", gettext_lazy("grids")),
    ("compounds", gettext_lazy("compounds")),
    ("buildings", gettext_lazy("buildings")),
    ("entrances", gettext_lazy("entrances")),
    ("households", gettext_lazy("households")),
    ("residents", gettext_lazy("residents")),
    ("tags", gettext_lazy("resident tags")),
)


@dataclass
class ImportReport:
    filename: str
    dry_run: bool = False
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    counts: dict[str, KindCounts] = field(default_factory=lambda: {k: KindCounts() for k, _label in KINDS})
    ignored_columns: list[str] = field(default_factory=list)
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def changed(self) -> bool:
        return any(c.created or c.updated for c in self.counts.values())

    def table(self) -> list[tuple[str, str, KindCounts]]:
        return [(key, str(label), self.counts[key]) for key, label in KINDS]

    def summary(self) -> dict:
        return {
            k: {"created": c.created, "updated": c.updated, "unchanged": c.unchanged}
            for k, c in self.counts.items()
        }


# --- reading files ------------------------------------------------------------------------------
@dataclass
class Table:
    header_row: int
    headers: list[str]
    rows: list[tuple[int, list[str]]]  # (row number as Excel shows it, cell texts)


class FileProblem(Exception):
    pass


def _text(value) -> str:
    if value is None:
        return ""
    if type(value) is str:  # the common case first (every CSV cell)
        if value[:1] == "'":  # our own export quoted a formula-looking text: read it back as written
            value = exports.unquote(value)
        if value.isascii():
            return value.strip()
        return unicodedata.normalize("NFKC", value).strip()
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return unicodedata.normalize("NFKC", str(value)).strip()


def _read_bytes(file) -> bytes:
    if isinstance(file, (str, Path)):
        return Path(file).read_bytes()
    if hasattr(file, "seek"):
        file.seek(0)
    data = file.read()
    return data.encode() if isinstance(data, str) else data


def decode_csv(data: bytes) -> str:
    """UTF-8 (with or without BOM) first; otherwise GB18030, a superset of GBK (Excel on Chinese Windows)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise FileProblem(
            _("The file is neither UTF-8 nor GBK text; save it as CSV UTF-8 or as .xlsx.")
        ) from None


def _rows_from_csv(data: bytes) -> Iterator[tuple[int, list]]:
    text = decode_csv(data)
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    yield from enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), 1)


def _rows_from_xlsx(data: bytes) -> Iterator[tuple[int, list]]:
    """Rows of the first worksheet, streamed with expat.

    openpyxl (read-only) took 36 s for the 50,000-row benchmark file, mostly per-cell Python work; this
    reads cell values only (shared and inline strings, numbers, booleans, cached formula results) in a
    fraction of that. openpyxl still writes the template and the exports.
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        sheet = _first_sheet(zf)
        strings = _shared_strings(zf) if "xl/sharedStrings.xml" in zf.namelist() else []
        handle = zf.open(sheet)
    except (zipfile.BadZipFile, KeyError, ValueError, ExpatError, ElementTree.ParseError):
        raise FileProblem(_("The file cannot be opened as an Excel workbook (.xlsx).")) from None
    with zf, handle:
        yield from _SheetReader(strings).rows(handle)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


def _first_sheet(zf: zipfile.ZipFile) -> str:
    # expat (libexpat ≥ 2.4) refuses entity-expansion attacks; these small parts hold no DTD in practice
    workbook = ElementTree.fromstring(zf.read("xl/workbook.xml"))  # noqa: S314
    first = next(el for el in workbook.iter() if _local(el.tag) == "sheet")
    rid = next(v for k, v in first.attrib.items() if _local(k) == "id")
    rels = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))  # noqa: S314
    target = next(
        el.get("Target") for el in rels.iter() if _local(el.tag) == "Relationship" and el.get("Id") == rid
    )
    return target.lstrip("/") if target.startswith("/") else f"xl/{target}"


def _shared_strings(zf: zipfile.ZipFile) -> list[str]:
    """Each <si>: its <t> texts joined, leaving out phonetic runs (<rPh>)."""
    strings: list[str] = []
    parts: list[str] = []
    state = {"text": False, "phonetic": 0}

    def start(name, _attrs):
        name = _local(name)
        if name == "si":
            parts.clear()
        elif name == "rPh":
            state["phonetic"] += 1
        elif name == "t" and not state["phonetic"]:
            state["text"] = True

    def end(name):
        name = _local(name)
        if name == "si":
            strings.append("".join(parts))
        elif name == "rPh":
            state["phonetic"] -= 1
        elif name == "t":
            state["text"] = False

    def chars(text):
        if state["text"]:
            parts.append(text)

    parser = ParserCreate()
    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, chars
    parser.buffer_text = True
    with zf.open("xl/sharedStrings.xml") as handle:
        parser.ParseFile(handle)
    return strings


def _column_index(ref: str) -> int:
    index = 0
    for ch in ref:
        if "A" <= ch <= "Z":
            index = index * 26 + ord(ch) - 64
        else:
            break
    return index - 1


class _SheetReader:
    """expat callbacks for a worksheet; the common unprefixed names are tested first (hot path)."""

    def __init__(self, strings: list[str]):
        self.strings = strings
        self.ready: list[tuple[int, list]] = []
        self.row_number = 0
        self.cells: list = []
        self.cell_type = "n"
        self.column = 0
        self.text = ""
        self.collect = False

    def start(self, name, attrs):
        if name == "c":
            ref = attrs.get("r")
            self.column = _column_index(ref) if ref else len(self.cells)
            self.cell_type = attrs.get("t", "n")
            self.text = ""
        elif name == "v" or name == "t":
            self.collect = True
        elif name == "row":
            self.row_number = int(attrs["r"]) if "r" in attrs else self.row_number + 1
            self.cells = []
        elif ":" in name:
            self.start(_local(name), attrs)

    def chars(self, text):
        if self.collect:
            self.text += text

    def end(self, name):
        if name == "v" or name == "t":
            self.collect = False
        elif name == "c":
            text = self.text
            if not text:
                return
            kind = self.cell_type
            if kind == "s":
                value = self.strings[int(text)]
            elif kind == "n":
                number = float(text)
                value = int(number) if number.is_integer() and abs(number) < 1e15 else number
            elif kind == "b":
                value = text == "1"
            else:  # str (formula result), inlineStr, e (error)
                value = text
            cells = self.cells
            if self.column == len(cells):
                cells.append(value)
            else:
                if self.column > len(cells):
                    cells.extend([None] * (self.column - len(cells) + 1))
                cells[self.column] = value
        elif name == "row":
            self.ready.append((self.row_number, self.cells))
        elif ":" in name:
            self.end(_local(name))

    def rows(self, handle) -> Iterator[tuple[int, list]]:
        parser = ParserCreate()
        parser.StartElementHandler, parser.EndElementHandler = self.start, self.end
        parser.CharacterDataHandler = self.chars
        parser.buffer_text = True
        try:
            while chunk := handle.read(1 << 16):
                parser.Parse(chunk, False)
                yield from self.ready
                self.ready.clear()
            parser.Parse(b"", True)
        except (ExpatError, ValueError, IndexError):
            raise FileProblem(_("The file cannot be opened as an Excel workbook (.xlsx).")) from None
        yield from self.ready


def read_table(file, filename: str, progress: Progress | None = None) -> Table:
    """The first non-blank row is the header; fully blank rows are skipped but keep their numbers."""
    suffix = Path(filename or "").suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise FileProblem(_("Please upload an .xlsx or .csv file (old .xls files: save as .xlsx first)."))
    data = _read_bytes(file)
    if not data.strip():
        raise FileProblem(_("The file is empty."))
    source = _rows_from_xlsx(data) if suffix == ".xlsx" else _rows_from_csv(data)
    header_row, headers, rows = 0, [], []
    for number, raw in source:
        cells = [_text(v) for v in raw]
        if not any(cells):
            continue
        if not header_row:
            header_row, headers = number, cells
            continue
        rows.append((number, cells))
        if len(rows) > MAX_ROWS:
            raise FileProblem(_("The file has more than %(n)d rows; please split it.") % {"n": MAX_ROWS})
        if progress and len(rows) % PROGRESS_EVERY == 0:
            progress("read", len(rows), 0)
    if not header_row:
        raise FileProblem(_("The file is empty."))
    return Table(header_row, headers, rows)


def _norm_header(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).strip().lower().rstrip("*").strip()
    text = re.sub(r"\s+", "", text)
    return text


def _strip_unit(text: str) -> str:
    return re.sub(r"[(（][^)）]*[)）]$", "", text)


HEADER_LOOKUP: dict[str, str] = {}
for _col in COLUMNS:
    for _name in (_col.header, _col.label, _col.key, *_col.aliases):
        HEADER_LOOKUP[_norm_header(_name)] = _col.key


def match_headers(
    headers: list[str], header_row: int
) -> tuple[dict[str, int], dict[str, str], list[str], list[RowError]]:
    """(column key → index, key → header as written, ignored headers, errors)."""
    index: dict[str, int] = {}
    written: dict[str, str] = {}
    ignored: list[str] = []
    errors: list[RowError] = []
    for i, header in enumerate(headers):
        if not header:
            continue
        norm = _norm_header(header)
        key = HEADER_LOOKUP.get(norm) or HEADER_LOOKUP.get(_strip_unit(norm))
        if key is None:
            ignored.append(header)
        elif key in index:
            errors.append(RowError(header_row, header, _("This column appears twice.")))
        else:
            index[key], written[key] = i, header
    for col in COLUMNS:
        if col.required and col.key not in index:
            errors.append(
                RowError(
                    header_row,
                    col.header,
                    _("Required column “%(column)s” is missing.") % {"column": col.header},
                )
            )
    return index, written, ignored, errors


# --- checking -----------------------------------------------------------------------------------
@dataclass(slots=True)
class Row:
    line: int
    cells: dict[str, str]
    community: Place | None = None
    household_only: bool = False
    floor: int | None = None
    area: Decimal | None = None
    tenure: str | None = None
    occupied: bool | None = None
    mobile: str | None = None  # None: keep (blank or masked)
    mobile_masked: bool = False
    id_number: str | None = None
    id_masked: bool = False
    birth_year: int | None = None
    relation: str | None = None
    tags: list[TagType] = field(default_factory=list)
    consent: str = ""


class _NewPlace:
    """A place this import creates (unsaved Place plus what children need to know)."""

    __slots__ = ("place", "row", "next_code", "grid_node")

    def __init__(self, place: Place, row: int, grid_node=None):
        self.place, self.row, self.next_code, self.grid_node = place, row, 1, grid_node


# Household and resident fields the import sets; stored rows are preloaded as plain tuples in this order.
HOUSEHOLD_FIELDS = ("floor", "area_m2", "tenure", "is_occupied")
RESIDENT_FIELDS = ("mobile", "id_number", "birth_year", "relation")


class _Household:
    """A household of the file: an existing one (id, current values) or a new one under `entrance`."""

    __slots__ = ("id", "path", "row", "current", "values", "entrance", "code", "room")

    def __init__(self, row: int, *, id=None, path="", current=None, entrance=None, code="", room=""):
        self.id, self.path, self.row, self.current = id, path, row, current
        self.values: dict[str, tuple[object, int]] = {}  # field → (value, first row giving it)
        self.entrance, self.code, self.room = entrance, code, room

    @property
    def is_new(self) -> bool:
        return self.id is None


class _Resident:
    __slots__ = ("id", "row", "current", "household", "name", "data")

    def __init__(self, row: int, household: _Household, name: str, data: Row, *, id=None, current=None):
        self.id, self.row, self.current, self.household, self.name, self.data = (
            id,
            row,
            current,
            household,
            name,
            data,
        )

    @property
    def is_new(self) -> bool:
        return self.id is None


def _bounded_int(text: str) -> int | None:
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if number != number.to_integral_value():
        return None
    return int(number)


def _normalise_building(text: str) -> str:
    return f"{text}号楼" if text.isdigit() else text


def _normalise_unit(text: str) -> str:
    return f"{text}单元" if text.isdigit() else text


def _area(value) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(Decimal("0.01"))


class _Importer:
    """One import run: parse → preload → check every row → (write)."""

    def __init__(self, actor, table: Table, index: dict[str, int], written: dict[str, str], progress):
        self.actor = actor
        self.table = table
        self.index = index
        self.written = written
        self.progress = progress
        self.errors: list[RowError] = []
        self.import_scope: Scope = scope_for(actor, IMPORT_PERM)
        self.sensitive_scope: Scope = scope_for(actor, SENSITIVE_PERM)
        self.counts = {k: KindCounts() for k, _label in KINDS}

    # helpers
    def header(self, key: str) -> str:
        return self.written.get(key) or COLUMN_BY_KEY[key].header

    def error(self, row: int, key: str, message: str) -> None:
        self.errors.append(RowError(row, self.header(key), message))

    def _tick(self, phase: str, done: int, total: int) -> None:
        if self.progress and (done % PROGRESS_EVERY == 0 or done == total):
            self.progress(phase, done, total)

    # --- pass 1: each row on its own -----------------------------------------------------------
    def parse_rows(self) -> list[Row]:
        tags_by_word: dict[str, TagType] = {}
        for tag in TagType.objects.all():
            for word in (tag.code, tag.name_zh, tag.name_en):
                tags_by_word[_norm_header(word)] = tag
        self._load_communities()
        this_year = timezone.localdate().year
        rows: list[Row] = []
        total = len(self.table.rows)
        if self.progress:
            self.progress("check", 0, total * 2)
        for done, (line, raw) in enumerate(self.table.rows, 1):
            cells = {key: (raw[i] if i < len(raw) else "") for key, i in self.index.items()}
            row = Row(line, cells)
            self._parse_row(row, tags_by_word, this_year)
            rows.append(row)
            self._tick("check", done, total * 2)
        return rows

    def _parse_row(self, row: Row, tags_by_word: dict[str, TagType], this_year: int) -> None:
        c = row.cells
        err = self.error
        for key in ("community", "grid", "compound", "building", "unit", "room"):
            if not c.get(key):
                err(row.line, key, _("This value is required."))
        for key, limit in (
            ("compound", 100),
            ("building", 20),
            ("unit", 20),
            ("room", 20),
            ("name", 50),
            ("consent", 200),
        ):
            if len(c.get(key, "")) > limit:
                err(row.line, key, _("At most %(n)d characters.") % {"n": limit})
        if c.get("community"):
            row.community = self._community(row.line, c["community"])
        # household values
        if text := c.get("floor"):
            floor = _bounded_int(text)
            if floor is None:
                err(
                    row.line,
                    "floor",
                    _("The floor must be a whole number, not “%(value)s”.") % {"value": text},
                )
            elif not -10 <= floor <= 200:
                err(row.line, "floor", _("The floor must be between -10 and 200."))
            else:
                row.floor = floor
        if text := c.get("area_m2"):
            try:
                area = Decimal(text.replace("㎡", "").replace("m²", "").replace("m2", "").strip())
                if not area.is_finite():
                    raise InvalidOperation
            except InvalidOperation:
                err(
                    row.line,
                    "area_m2",
                    _("The floor area must be a number of square metres, not “%(value)s”.") % {"value": text},
                )
            else:
                if not 0 < area < 100000:
                    err(row.line, "area_m2", _("The floor area must be more than 0 and less than 100000 m²."))
                else:
                    row.area = area.quantize(Decimal("0.01"))
        if text := c.get("tenure"):
            row.tenure = TENURE_BY_WORD.get(text.lower())
            if row.tenure is None:
                err(
                    row.line,
                    "tenure",
                    _("Unknown tenure “%(value)s”; use 自有, 租住 or 空置.") % {"value": text},
                )
        if text := c.get("occupied"):
            low = text.lower()
            row.occupied = True if low in YES else False if low in NO else None
            if row.occupied is None:
                err(row.line, "occupied", _("Write 是 or 否, not “%(value)s”.") % {"value": text})
        # resident values
        has_data = any(c.get(k) for k in RESIDENT_DATA_KEYS)
        if not c.get("name"):
            if has_data:
                err(row.line, "name", _("The name is missing."))
            else:
                row.household_only = True
            return
        if text := c.get("mobile"):
            if "*" in text:
                row.mobile_masked = True
            else:
                mobile = re.sub(r"[\s\-]", "", text)
                mobile = mobile[3:] if mobile.startswith("+86") else mobile
                if MOBILE_RE.match(mobile):
                    row.mobile = mobile
                else:
                    err(
                        row.line,
                        "mobile",
                        _("“%(value)s” is not a mainland mobile number (11 digits starting with 1).")
                        % {"value": text},
                    )
        if text := c.get("id_number"):
            if "*" in text:
                row.id_masked = True
            else:
                value = text.replace(" ", "").upper()
                problem = id_number_problem(value)
                if problem:
                    err(row.line, "id_number", problem)
                else:
                    row.id_number = value
        if text := c.get("birth_year"):
            year = _bounded_int(text)
            if year is None or not MIN_BIRTH_YEAR <= year <= this_year:
                err(
                    row.line,
                    "birth_year",
                    _("The birth year must be a year between %(low)d and %(high)d.")
                    % {"low": MIN_BIRTH_YEAR, "high": this_year},
                )
            else:
                row.birth_year = year
        if row.id_number:
            id_year = int(row.id_number[6:10])
            if row.birth_year is None:
                row.birth_year = id_year if MIN_BIRTH_YEAR <= id_year <= this_year else None
            elif row.birth_year != id_year:
                err(
                    row.line,
                    "birth_year",
                    _("The birth year does not match the ID number (%(year)d).") % {"year": id_year},
                )
        if text := c.get("relation"):
            row.relation = RELATION_BY_WORD.get(text.lower())
            if row.relation is None:
                err(
                    row.line,
                    "relation",
                    _("Unknown relation to the head of household “%(value)s”.") % {"value": text},
                )
        row.consent = c.get("consent", "")
        if text := c.get("tags"):
            seen: set[str] = set()
            for word in TAG_SPLIT.split(text):
                if not word:
                    continue
                tag = tags_by_word.get(_norm_header(word))
                if tag is None:
                    err(row.line, "tags", _("Unknown tag “%(value)s”.") % {"value": word})
                    continue
                if tag.code in seen:
                    continue
                seen.add(tag.code)
                row.tags.append(tag)
                if tag.sensitive and not row.consent:
                    err(
                        row.line,
                        "consent",
                        _(
                            "The sensitive tag “%(tag)s” needs the source of the resident's consent "
                            "in column “%(column)s”."
                        )
                        % {"tag": tag.name_zh, "column": self.header("consent")},
                    )
                if tag.sensitive and row.community and not self.sensitive_scope.covers(row.community.path):
                    err(
                        row.line,
                        "tags",
                        _("You may not record the sensitive tag “%(tag)s” here.") % {"tag": tag.name_zh},
                    )

    def _load_communities(self) -> None:
        self.by_code: dict[str, list[Place]] = {}
        self.by_full_code: dict[str, Place] = {}
        self.by_name: dict[str, list[Place]] = {}
        self._community_cache: dict[str, Place | None] = {}
        if self.import_scope.is_empty:
            return
        communities = Place.objects.filter(level=Level.COMMUNITY).filter(self.import_scope.q("path"))
        for p in communities:
            self.by_code.setdefault(p.code, []).append(p)
            self.by_full_code[p.path.replace(".", "")] = p
            self.by_name.setdefault(p.name, []).append(p)

    def _community(self, line: int, text: str) -> Place | None:
        if text in self._community_cache:
            found = self._community_cache[text]
            if found is None:
                self.error(line, "community", self._community_problem(text))
            return found
        width = CODE_WIDTH[Level.COMMUNITY]
        if text.isdigit() and len(text) <= width:
            candidates = self.by_code.get(text.zfill(width), [])
        elif text.isdigit() and len(text) == CODE_WIDTH[Level.SUBDISTRICT] + width:
            candidates = [self.by_full_code[text]] if text in self.by_full_code else []
        else:
            candidates = self.by_name.get(text, [])
        found = candidates[0] if len(candidates) == 1 else None
        self._community_cache[text] = found
        if found is None:
            self.error(line, "community", self._community_problem(text))
        return found

    def _community_problem(self, text: str) -> str:
        width = CODE_WIDTH[Level.COMMUNITY]
        ambiguous = (
            self.by_code.get(text.zfill(width), [])
            if text.isdigit() and len(text) <= width
            else self.by_name.get(text, [])
        )
        if len(ambiguous) > 1:
            return _(
                "“%(value)s” names more than one community; use the 12-digit code (subdistrict + community)."
            ) % {"value": text}
        return _("Unknown community “%(value)s”, or one you may not import into.") % {"value": text}

    # --- preload what exists under the communities the file names ------------------------------
    def preload(self, rows: list[Row]) -> None:
        communities = {r.community.pk: r.community for r in rows if r.community is not None}
        self.communities = communities
        q = Q(pk__in=[])
        for c in communities.values():
            q |= under(c.path)
        self.grids: dict[int, dict[str, Place]] = {cid: {} for cid in communities}  # community → code → grid
        self.grids_by_name: dict[int, dict[str, list[Place]]] = {cid: {} for cid in communities}
        self.grid_by_id: dict[int, Place] = {}
        self.max_code: dict[int, int] = {}  # parent place id → highest child code in use
        self.compounds: dict[tuple[int, str], Compound] = {}
        self.buildings: dict[tuple[int, str], Building] = {}
        self.entrances: dict[tuple[int, int, str], Place] = {}  # (compound, building, unit) → entrance
        self.households: dict[
            tuple[int, str], tuple
        ] = {}  # (entrance id, room) → (id, path, *HOUSEHOLD_FIELDS)
        self.residents: dict[tuple[int, str], tuple] = {}  # (household id, name) → (id, *RESIDENT_FIELDS)
        self.resident_tags: set[tuple[int, str]] = set()
        if not communities:
            return
        places = Place.objects.filter(q, level__in=(Level.GRID, Level.ENTRANCE)).only(
            "id",
            "parent_id",
            "level",
            "code",
            "name",
            "path",
            "grid_code",
            "compound_id",
            "building_id",
            "unit_no",
        )
        for p in places:
            self.max_code[p.parent_id] = max(self.max_code.get(p.parent_id, 0), int(p.code))
            if p.level == Level.GRID:
                self.grids[p.parent_id][p.code] = p
                self.grids_by_name[p.parent_id].setdefault(p.name, []).append(p)
                self.grid_by_id[p.pk] = p
            elif p.compound_id and p.building_id:
                self.entrances[(p.compound_id, p.building_id, p.unit_no)] = p
        households = Place.objects.filter(q, level=Level.HOUSEHOLD).values_list(
            "parent_id", "room", "code", "id", "path", *HOUSEHOLD_FIELDS
        )
        for parent_id, room, code, *values in households.iterator(chunk_size=5000):
            self.max_code[parent_id] = max(self.max_code.get(parent_id, 0), int(code))
            if values[3] is not None:
                values[3] = _area(values[3])
            self.households[(parent_id, room)] = tuple(values)
        for c in communities.values():
            self.max_code.setdefault(c.pk, 0)
        for compound in Compound.objects.filter(community_id__in=communities):
            self.compounds[(compound.community_id, compound.name)] = compound
        for building in Building.objects.filter(compound__community_id__in=communities):
            self.buildings[(building.compound_id, building.number)] = building
        residents = Resident.objects.filter(q).values_list("household_id", "name", "id", *RESIDENT_FIELDS)
        for household_id, name, *values in residents.iterator(chunk_size=5000):
            self.residents[(household_id, name)] = tuple(values)
        tags = ResidentTag.objects.filter(q).values_list("resident_id", "tag_id")
        self.resident_tags.update(tags.iterator(chunk_size=5000))

    # --- pass 2: rows against each other and the database ----------------------------------------
    def plan(self, rows: list[Row]) -> None:
        self.new_grids: list[_NewPlace] = []
        self.new_compounds: list[Compound] = []
        self.new_buildings: list[Building] = []
        self.new_entrances: list[_NewPlace] = []
        self.hh_nodes: dict[tuple, _Household] = {}
        self.res_nodes: dict[tuple, _Resident] = {}
        new_grid_by_name: dict[tuple[int, str], _NewPlace] = {}
        entrance_nodes: dict[tuple, tuple[object, int]] = {}  # key → (Place or _NewPlace, first row)
        seen_grids: set = set()
        seen_compounds: set = set()
        seen_buildings: set = set()
        mobiles: dict[str, int] = {}
        id_numbers: dict[str, tuple[int, tuple]] = {}
        total = len(rows)
        for done, row in enumerate(rows, 1):
            self._tick("check", total + done, total * 2)
            if row.community is None or not all(
                row.cells.get(k) for k in ("grid", "compound", "building", "unit", "room")
            ):
                continue
            community = row.community
            c = row.cells
            # grid
            grid = self._grid(row, community, new_grid_by_name)
            if grid is None:
                continue
            seen_grids.add(id(grid))
            # compound and building
            compound_name = c["compound"]
            compound = self.compounds.get((community.pk, compound_name))
            if compound is None:
                compound = Compound(community=community, name=compound_name, path=community.path)
                self.compounds[(community.pk, compound_name)] = compound
                self.new_compounds.append(compound)
            seen_compounds.add(id(compound))
            number = _normalise_building(c["building"])
            building_key = (compound.pk if compound.pk else id(compound), number)
            building = self.buildings.get(building_key)
            if building is None:
                building = Building(compound=compound, number=number, path=community.path)
                self.buildings[building_key] = building
                self.new_buildings.append(building)
            seen_buildings.add(id(building))
            # entrance
            unit = _normalise_unit(c["unit"])
            entrance_key = (building_key[0], building.pk if building.pk else id(building), unit)
            entrance = self.entrances.get(entrance_key) if compound.pk and building.pk else None
            if entrance is not None:
                grid_place = grid.place if isinstance(grid, _NewPlace) else grid
                if entrance.parent_id != grid_place.pk:
                    recorded = self.grid_by_id.get(entrance.parent_id)
                    self.error(
                        row.line,
                        "grid",
                        _("%(entrance)s is recorded under grid %(grid)s.")
                        % {"entrance": entrance.name, "grid": recorded.code if recorded else "?"},
                    )
                    continue
                node = entrance
            else:
                known = entrance_nodes.get(entrance_key)
                if known is not None:
                    node, first = known
                    if node.grid_node is not grid:
                        self.error(
                            row.line,
                            "grid",
                            _("The same entrance has another grid in row %(row)d.") % {"row": first},
                        )
                        continue
                else:
                    code = self._next_code(grid, row.line)
                    if code is None:
                        continue
                    parent = grid.place if isinstance(grid, _NewPlace) else grid
                    place = new_place(
                        parent,
                        level=Level.ENTRANCE,
                        code=code,
                        name=f"{compound_name}{number}{unit}",
                        compound=compound,
                        building=building,
                        unit_no=unit,
                    )
                    node = _NewPlace(place, row.line, grid_node=grid)
                    self.new_entrances.append(node)
            entrance_nodes.setdefault(entrance_key, (node, row.line))
            # household
            room = c["room"]
            household_key = (entrance_key, room)
            hh = self.hh_nodes.get(household_key)
            if hh is None:
                existing = self.households.get((node.pk, room)) if isinstance(node, Place) else None
                if existing is not None:
                    hh = _Household(row.line, id=existing[0], path=existing[1], current=existing[2:])
                else:
                    code = self._next_code(node, row.line)
                    if code is None:
                        continue
                    parent = node.place if isinstance(node, _NewPlace) else node
                    code = str(code).zfill(CODE_WIDTH[Level.HOUSEHOLD])
                    hh = _Household(
                        row.line, path=f"{parent.path}{code}.", entrance=parent, code=code, room=room
                    )
                self.hh_nodes[household_key] = hh
            for key, value in (
                ("floor", row.floor),
                ("area_m2", row.area),
                ("tenure", row.tenure),
                ("occupied", row.occupied),
            ):
                if value is None:
                    continue
                if key in hh.values and hh.values[key][0] != value:
                    self.error(
                        row.line,
                        key,
                        _("Differs from row %(row)d for the same household.") % {"row": hh.values[key][1]},
                    )
                else:
                    hh.values.setdefault(key, (value, row.line))
            if row.household_only:
                continue
            # resident
            name = c["name"]
            resident_key = (household_key, name)
            if resident_key in self.res_nodes:
                self.error(
                    row.line,
                    "name",
                    _("The same person (household and name) is already in row %(row)d.")
                    % {"row": self.res_nodes[resident_key].row},
                )
                continue
            existing = self.residents.get((hh.id, name)) if not hh.is_new else None
            if existing is not None:
                res = _Resident(row.line, hh, name, row, id=existing[0], current=existing[1:])
            else:
                res = _Resident(row.line, hh, name, row)
                for key, masked in (("mobile", row.mobile_masked), ("id_number", row.id_masked)):
                    if masked:
                        self.error(row.line, key, _("A masked number cannot be imported for a new resident."))
            self.res_nodes[resident_key] = res
            if row.mobile:
                if row.mobile in mobiles:
                    self.error(
                        row.line,
                        "mobile",
                        _("The same mobile number is already in row %(row)d.") % {"row": mobiles[row.mobile]},
                    )
                else:
                    mobiles[row.mobile] = row.line
            if row.id_number:
                if row.id_number in id_numbers and id_numbers[row.id_number][1] != resident_key:
                    self.error(
                        row.line,
                        "id_number",
                        _("The same ID number is already in row %(row)d.")
                        % {"row": id_numbers[row.id_number][0]},
                    )
                else:
                    id_numbers.setdefault(row.id_number, (row.line, resident_key))
        self._check_mobiles_in_db(mobiles)
        self.counts["grids"].created = len(self.new_grids)
        self.counts["grids"].unchanged = len(seen_grids) - len(self.new_grids)
        self.counts["compounds"].created = len(self.new_compounds)
        self.counts["compounds"].unchanged = len(seen_compounds) - len(self.new_compounds)
        self.counts["buildings"].created = len(self.new_buildings)
        self.counts["buildings"].unchanged = len(seen_buildings) - len(self.new_buildings)
        self.counts["entrances"].created = len(self.new_entrances)
        self.counts["entrances"].unchanged = len(entrance_nodes) - len(self.new_entrances)

    def _grid(self, row: Row, community: Place, new_grid_by_name: dict) -> Place | _NewPlace | None:
        text = row.cells["grid"]
        width = CODE_WIDTH[Level.GRID]
        if text.isdigit():
            if len(text) == 15:
                prefix = community.path.replace(".", "")
                if not text.startswith(prefix):
                    self.error(
                        row.line,
                        "grid",
                        _("Grid code %(value)s does not belong to community %(community)s.")
                        % {"value": text, "community": community.name},
                    )
                    return None
                text = text[len(prefix) :]
            if len(text) > width:
                self.error(row.line, "grid", _("A grid code has 3 digits (or the full 15-digit code)."))
                return None
            grid = self.grids[community.pk].get(text.zfill(width))
            if grid is None:
                self.error(
                    row.line,
                    "grid",
                    _("Unknown grid %(value)s in %(community)s (write a name to create a new grid).")
                    % {"value": text, "community": community.name},
                )
            return grid
        named = self.grids_by_name[community.pk].get(text, [])
        if len(named) == 1:
            return named[0]
        if len(named) > 1:
            self.error(
                row.line,
                "grid",
                _("More than one grid is called “%(value)s”; use its code.") % {"value": text},
            )
            return None
        node = new_grid_by_name.get((community.pk, text))
        if node is None:
            code = self._next_code(community, row.line)
            if code is None:
                return None
            node = _NewPlace(new_place(community, level=Level.GRID, code=code, name=text), row.line)
            new_grid_by_name[(community.pk, text)] = node
            self.new_grids.append(node)
        return node

    def _next_code(self, parent: Place | _NewPlace, line: int) -> int | None:
        if isinstance(parent, _NewPlace):
            code, parent.next_code = parent.next_code, parent.next_code + 1
            level = parent.place.level + 1
        else:
            code = self.max_code.get(parent.pk, 0) + 1
            self.max_code[parent.pk] = code
            level = parent.level + 1
        if code >= 10 ** CODE_WIDTH[Level(level)]:
            self.error(
                line,
                "room" if level == Level.HOUSEHOLD else "unit",
                _("No free code is left for a new %(level)s here.") % {"level": Level(level).label},
            )
            return None
        return code

    def _check_mobiles_in_db(self, mobiles: dict[str, int]) -> None:
        own: dict[str, int | None] = {}
        for res in self.res_nodes.values():
            row = res.data
            if row.mobile:
                own[row.mobile] = res.id
        numbers = list(mobiles)
        for start in range(0, len(numbers), 500):
            chunk = numbers[start : start + 500]
            # exclude(mobile=""): the partial unique index's own condition, so SQLite uses it (no table scan)
            found = Resident.objects.filter(mobile__in=chunk).exclude(mobile="").values_list("mobile", "id")
            for mobile, pk in found:
                if own.get(mobile) != pk:
                    self.error(
                        mobiles[mobile],
                        "mobile",
                        _("This mobile number is already recorded for another resident."),
                    )

    # --- compute changes (no writes) ---------------------------------------------------------
    def diff(self) -> None:
        self.hh_insert: list[dict] = []
        self.hh_update: list[tuple] = []  # (*HOUSEHOLD_FIELDS, id)
        self.res_insert: list[tuple[_Resident, dict]] = []
        self.res_update: list[tuple] = []  # (*RESIDENT_FIELDS, id)
        self.tag_insert: list[tuple[_Resident, dict]] = []
        tag_unchanged = 0
        keys = ("floor", "area_m2", "tenure", "occupied")
        for hh in self.hh_nodes.values():
            given = [hh.values[k][0] if k in hh.values else None for k in keys]
            if hh.is_new:
                floor, area, tenure, occupied = given
                if occupied is None:
                    occupied = tenure != Tenure.VACANT
                self.hh_insert.append(
                    {
                        "parent_id": None,
                        "level": int(Level.HOUSEHOLD),
                        "code": hh.code,
                        "path": hh.path,
                        "name": f"{hh.entrance.name}{hh.room}",
                        "room": hh.room,
                        "floor": floor,
                        "area_m2": area,
                        "tenure": tenure or "",
                        "is_occupied": occupied,
                        "_node": hh,
                    }
                )
                self.counts["households"].created += 1
                continue
            merged = tuple(cur if new is None else new for cur, new in zip(hh.current, given, strict=True))
            if merged != tuple(hh.current):
                self.hh_update.append((*merged, hh.id))
                self.counts["households"].updated += 1
            else:
                self.counts["households"].unchanged += 1
        for res in self.res_nodes.values():
            row: Row = res.data
            given = (row.mobile, row.id_number, row.birth_year, row.relation)
            if res.is_new:
                mobile, id_number, birth_year, relation = given
                self.res_insert.append(
                    (
                        res,
                        {
                            "household_id": None,
                            "path": res.household.path,
                            "name": res.name,
                            "mobile": mobile or "",
                            "id_number": id_number or "",
                            "birth_year": birth_year,
                            "relation": relation or str(Resident._meta.get_field("relation").default),
                        },
                    )
                )
                self.counts["residents"].created += 1
            else:
                merged = tuple(
                    cur if new is None else new for cur, new in zip(res.current, given, strict=True)
                )
                if merged != tuple(res.current):
                    self.res_update.append((*merged, res.id))
                    self.counts["residents"].updated += 1
                else:
                    self.counts["residents"].unchanged += 1
            for tag in row.tags:
                if not res.is_new and (res.id, tag.code) in self.resident_tags:
                    tag_unchanged += 1
                    continue
                self.tag_insert.append(
                    (
                        res,
                        {
                            "resident_id": res.id,
                            "tag_id": tag.code,
                            "path": res.household.path,
                            "consent_source": row.consent[:200] if tag.sensitive else "",
                            "recorded_by_id": getattr(self.actor, "pk", None),
                        },
                    )
                )
        self.counts["tags"].created = len(self.tag_insert)
        self.counts["tags"].unchanged = tag_unchanged

    # --- write ----------------------------------------------------------------------------------
    def write(self) -> None:
        """Few upper-level places through the ORM; households, residents and tags by executemany."""
        steps = (
            len(self.new_grids)
            + len(self.new_compounds)
            + len(self.new_buildings)
            + len(self.new_entrances)
            + len(self.hh_insert)
            + len(self.hh_update)
            + len(self.res_insert)
            + len(self.res_update)
            + len(self.tag_insert)
        )
        done = 0

        def tick(n: int) -> None:
            nonlocal done
            done += n
            if self.progress:
                self.progress("write", done, steps)

        tick(0)
        for objs, model in (
            ([n.place for n in self.new_grids], Place),
            (self.new_compounds, Compound),
            (self.new_buildings, Building),
            ([n.place for n in self.new_entrances], Place),
        ):
            model.objects.bulk_create(objs, batch_size=BATCH)
            tick(len(objs))
        # households: their entrance (maybe created just now) gives the parent id
        for values in self.hh_insert:
            values["parent_id"] = values["_node"].entrance.pk
        for chunk in chunks(self.hh_insert, BATCH * 5):
            insert_rows(Place, chunk)
            tick(len(chunk))
        ids = _ids_by(Place, "path", [v["path"] for v in self.hh_insert])
        for values in self.hh_insert:
            values["_node"].id = ids[values["path"]]
        update_rows(Place, HOUSEHOLD_FIELDS, self.hh_update)
        tick(len(self.hh_update))
        # residents
        for res, values in self.res_insert:
            values["household_id"] = res.household.id
        for chunk in chunks(self.res_insert, BATCH * 5):
            insert_rows(Resident, [values for _res, values in chunk])
            tick(len(chunk))
        now = timezone.now()
        stamped = [(*u[:-1], now, u[-1]) for u in self.res_update]
        update_rows(Resident, (*RESIDENT_FIELDS, "updated_at"), stamped)
        tick(len(self.res_update))
        # tags of new residents need the residents' new ids
        pending = [res for res, values in self.tag_insert if values["resident_id"] is None]
        if pending:
            household_ids = list({res.household.id for res in pending})
            found = {}
            for chunk in chunks(household_ids, 500):
                rows = Resident.objects.filter(household_id__in=chunk).values_list(
                    "household_id", "name", "id"
                )
                found.update({(h, n): i for h, n, i in rows})
            for res in pending:
                res.id = found[(res.household.id, res.name)]
        for res, values in self.tag_insert:
            values["resident_id"] = res.id
        for chunk in chunks(self.tag_insert, BATCH * 5):
            insert_rows(ResidentTag, [values for _res, values in chunk])
            tick(len(chunk))


def _ids_by(model, field_name: str, values: list) -> dict:
    found = {}
    for chunk in chunks(values, 500):
        found.update(model.objects.filter(**{f"{field_name}__in": chunk}).values_list(field_name, "id"))
    return found


def _common_path(paths: Iterable[str]) -> str:
    paths = sorted(paths)
    if not paths:
        return ""
    first, last = paths[0].split("."), paths[-1].split(".")
    common = []
    for a, b in zip(first, last, strict=False):
        if a != b or not a:
            break
        common.append(a)
    return ".".join(common) + "." if common else ""


def import_roster(
    actor, file, *, filename: str, dry_run: bool = False, progress: Progress | None = None
) -> ImportReport:
    """Check the whole file; if nothing is wrong (and not a dry run) write it in one transaction.

    Returns the report: errors (nothing written) or created / updated / unchanged counts per kind.
    Raises PermissionDenied when the actor may import a roster nowhere.
    """
    if scope_for(actor, IMPORT_PERM).is_empty:
        raise PermissionDenied(_("You may not import a roster."))
    with _gc_paused():
        return _import(actor, file, filename=filename, dry_run=dry_run, progress=progress)


def _import(actor, file, *, filename: str, dry_run: bool, progress: Progress | None) -> ImportReport:
    report = ImportReport(filename=filename, dry_run=dry_run)
    try:
        table = read_table(file, filename, progress)
    except FileProblem as problem:
        report.errors.append(RowError(None, "", str(problem)))
        return report
    report.rows = len(table.rows)
    index, written, ignored, header_errors = match_headers(table.headers, table.header_row)
    report.ignored_columns = ignored
    if header_errors:
        report.errors = header_errors
        return report
    if not table.rows:
        report.errors.append(RowError(None, "", _("The file has a header row but no data rows.")))
        return report
    importer = _Importer(actor, table, index, written, progress)
    return _run(importer, report, written, actor=actor, filename=filename, dry_run=dry_run)


@contextlib.contextmanager
def _gc_paused():
    """The import makes a few hundred thousand small objects that all live until it ends; the cyclic
    GC would walk them again and again (~25% of the run). Pause it for the run, restore it after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _run(importer: _Importer, report: ImportReport, written, *, actor, filename: str, dry_run: bool):
    # a dry run only reads: no write lock (SQLite takes it at BEGIN IMMEDIATE)
    with contextlib.nullcontext() if dry_run else transaction.atomic():
        rows = importer.parse_rows()
        importer.preload(rows)
        importer.plan(rows)
        if importer.errors:
            report.errors = sorted(importer.errors, key=_error_order(written))
            return report
        importer.diff()
        report.counts = importer.counts
        if dry_run:
            return report
        importer.write()
        paths = [c.path for c in importer.communities.values()]
        audit.record(
            "roster.imported",
            actor=actor,
            path=_common_path(paths),
            object_type="places.roster",
            object_repr=filename[:200],
            after={
                "file": filename[:200],
                "rows": report.rows,
                "dry_run": False,
                "communities": sorted(paths),
                **report.summary(),
            },
        )
        report.written = True
    return report


def _error_order(written: dict[str, str]):
    order = {COLUMN_BY_KEY[k].header: i for i, k in enumerate(COLUMN_BY_KEY)}
    order.update({h: order[COLUMN_BY_KEY[k].header] for k, h in written.items()})
    return lambda e: (e.row or 0, order.get(e.column, 99))


# --- template -------------------------------------------------------------------------------------
TEXT_KEYS = ("community", "grid", "room", "mobile", "id_number")


def template_rows() -> list[list[str]]:
    return [[c.header for c in COLUMNS], *[list(r) for r in EXAMPLE_ROWS]]


def template_bytes(fmt: str) -> bytes:
    """The import template: the header row and two example rows (xlsx, or CSV in UTF-8 with BOM)."""
    if fmt == "csv":
        return exports.csv_bytes(template_rows())
    if fmt != "xlsx":
        raise ValueError(fmt)
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "居民名册"
    for row in template_rows():
        exports.xlsx_append(ws, row)
    for i, col in enumerate(COLUMNS, 1):
        letter = get_column_letter(i)
        ws.column_dimensions[letter].width = 20 if col.key in ("id_number", "tags", "consent") else 12
        ws.cell(1, i).font = Font(bold=True, color="B3261E" if col.required else "000000")
        if col.key in TEXT_KEYS:  # typed numbers stay text (leading zeros, 18-digit IDs)
            ws.column_dimensions[letter].number_format = "@"
            for r in range(2, len(EXAMPLE_ROWS) + 2):
                ws.cell(r, i).number_format = "@"
    ws.freeze_panes = "A2"
    notes = wb.create_sheet("说明")
    exports.xlsx_append(notes, ["列", "必填", "说明"])
    for line in _template_notes():
        exports.xlsx_append(notes, line)
    notes.column_dimensions["A"].width = 14
    notes.column_dimensions["C"].width = 90
    return exports.xlsx_bytes(wb)


def _template_notes() -> list[list[str]]:
    try:  # tags are data; without a migrated database the template still writes, minus the tag list
        tags = list(TagType.objects.order_by("sensitive", "code"))
    except DatabaseError:
        tags = []
    plain = "、".join(t.name_zh for t in tags if not t.sensitive)
    sensitive = "、".join(t.name_zh for t in tags if t.sensitive)
    return [
        ["社区", "是", "社区名称或3位社区编码；必须已存在且在您的权限范围内"],
        ["网格", "是", "3位网格编码（或15位网格码）；写新的网格名称则新建网格"],
        ["小区", "是", "不存在时新建"],
        ["楼号", "是", "如 16号楼；只写数字时补“号楼”"],
        ["单元", "是", "如 251单元；只写数字时补“单元”。小区+楼号+单元 = 一个楼门，不存在时新建"],
        ["房号", "是", "楼门+房号 = 一户，不存在时新建"],
        ["楼层", "", "整数"],
        ["面积", "", "平方米，数字"],
        ["产权", "", "自有 / 租住 / 空置"],
        ["是否居住", "", "是 / 否"],
        ["姓名", "是", "户+姓名确定一位居民；只填户的列、不填姓名等居民列的行只登记这一户（如空置房）"],
        ["手机", "", "11位手机号，全文件及系统内不得重复"],
        ["身份证号", "", "18位，校验码按 GB 11643 检查"],
        ["出生年份", "", "四位年份；填了身份证号时可不填"],
        ["与户主关系", "", "、".join(RELATION_LABEL.values())],
        ["标签", "", f"多个用、或逗号分隔。普通标签：{plain}；敏感标签：{sensitive}"],
        ["同意来源", "", "有敏感标签时必填：居民同意的来源（如 本人书面同意 2026-03-01）"],
        [
            "",
            "",
            "空白单元格不修改已有数据；打码的号码（如 138****8000）保留原号码；导入只新增标签，不删除标签。",
        ],
    ]


# --- export ---------------------------------------------------------------------------------------
@dataclass
class Export:
    filename: str
    content_type: str
    rows: int
    columns: list[str]
    masked: bool
    chunks: Iterable[bytes | str] | None = None  # CSV: streamed text
    file: object | None = None  # XLSX: a temporary file, positioned at 0


def export_roster(actor, place: Place, *, fmt: str, full: bool = False, reason: str = "") -> Export:
    """Everything under `place` as import-ready rows; masked unless `full` with unmask permission and a
    reason; sensitive tags only with places.export_sensitive. One audit event per export."""
    if fmt not in ("xlsx", "csv"):
        raise ValidationError({"fmt": _("Export as xlsx or csv.")})
    if not scope_for(actor, EXPORT_PERM).covers(place.path):
        raise PermissionDenied(_("You may not export the roster here."))
    reason = (reason or "").strip()
    if full:
        if not scope_for(actor, UNMASK_PERM).covers(place.path):
            raise PermissionDenied(_("You may not export full numbers here."))
        reason = clean_reason(reason, message=_("Please say why you need the full numbers."))
    sensitive = scope_for(actor, EXPORT_SENSITIVE_PERM).covers(place.path)
    columns = [c for c in COLUMNS if sensitive or c.key != "consent"]
    residents = Resident.objects.filter(under(place.path), moved_out_at__isnull=True)  # not the anonymised
    household_count = Place.objects.filter(under(place.path), level=Level.HOUSEHOLD).count()
    with_residents = residents.values("household_id").distinct().count()
    rows = residents.count() + household_count - with_residents
    headers = [c.header for c in columns]
    with transaction.atomic():
        audit.record(
            "roster.exported",
            actor=actor,
            obj=place,
            reason=reason,
            after={
                "format": fmt,
                "columns": headers,
                "rows": rows,
                "masked": not full,
                "sensitive_tags": sensitive,
            },
        )
    stamp = timezone.localdate().strftime("%Y%m%d")
    name = f"roster-{place.path.rstrip('.').replace('.', '-')}-{stamp}.{fmt}"
    result = Export(name, "", rows, headers, not full)
    data = _export_rows(place, columns, full=full, sensitive=sensitive)
    if fmt == "csv":
        result.content_type = exports.CSV_TYPE
        result.chunks = exports.csv_chunks(itertools.chain([headers], data))
    else:
        result.content_type = exports.XLSX_TYPE
        result.file = _xlsx_file(headers, data)
    return result


def _xlsx_file(headers: list[str], data: Iterator[list]):
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("居民名册")
    exports.xlsx_append(ws, headers)
    for row in data:
        exports.xlsx_append(ws, row)
    spool = tempfile.TemporaryFile()  # noqa: SIM115  (handed to the response, which closes it)
    wb.save(spool)
    spool.seek(0)
    return spool


def _export_rows(place: Place, columns: list[Column], *, full: bool, sensitive: bool) -> Iterator[list]:
    entrance_q = Q(level=Level.ENTRANCE) & (under(place.path) | Q(path__in=place.ancestor_paths))
    entrances = {}
    for e in Place.objects.filter(entrance_q).select_related(
        "compound", "building", "parent", "parent__parent"
    ):
        grid, community = e.parent, e.parent.parent
        entrances[e.pk] = {
            "community": community.name,
            "grid": grid.code,
            "compound": e.compound.name if e.compound else "",
            "building": e.building.number if e.building else "",
            "unit": e.unit_no,
        }
    tags: dict[int, list[tuple[str, str]]] = {}
    tag_rows = ResidentTag.objects.filter(under(place.path)).order_by("tag__sensitive", "tag_id")
    if not sensitive:
        tag_rows = tag_rows.filter(tag__sensitive=False)
    for resident_id, name, is_sensitive, consent in tag_rows.values_list(
        "resident_id", "tag__name_zh", "tag__sensitive", "consent_source"
    ).iterator(chunk_size=5000):
        tags.setdefault(resident_id, []).append((name, consent if is_sensitive else ""))
    households = list(
        Place.objects.filter(under(place.path), level=Level.HOUSEHOLD)
        .order_by("path")
        .values_list("path", "parent_id", "room", "floor", "area_m2", "tenure", "is_occupied")
    )
    residents = (
        Resident.objects.filter(under(place.path), moved_out_at__isnull=True)
        .order_by("path", "id")
        .values_list("path", "id", "name", "mobile", "id_number", "birth_year", "relation")
        .iterator(chunk_size=2000)
    )
    keys = [c.key for c in columns]
    pending = next(residents, None)
    for path, entrance_id, room, floor, area, tenure, occupied in households:
        base = dict(entrances.get(entrance_id, {}))
        base.update(
            room=room,
            floor=floor,
            area_m2=float(area) if area is not None else None,
            tenure=TENURE_LABEL.get(tenure, ""),
            occupied="是" if occupied else "否",
        )
        wrote = False
        while pending is not None and pending[0] <= path:
            if pending[0] == path:
                _rpath, rid, name, mobile, id_number, birth_year, relation = pending
                own_tags = tags.get(rid, [])
                yield [
                    base.get(k) if k in base else v
                    for k, v in zip(
                        keys,
                        _resident_values(keys, name, mobile, id_number, birth_year, relation, own_tags, full),
                        strict=True,
                    )
                ]
                wrote = True
            pending = next(residents, None)
        if not wrote:
            yield [base.get(k, "") for k in keys]


def _resident_values(keys, name, mobile, id_number, birth_year, relation, tags, full) -> list:
    values = {
        "name": name,
        "mobile": mobile if full else mask_mobile(mobile),
        "id_number": id_number if full else mask_id_number(id_number),
        "birth_year": birth_year,
        "relation": RELATION_LABEL.get(relation, relation),
        "tags": "、".join(n for n, _c in tags),
        "consent": "；".join(sorted({c for _n, c in tags if c})),
    }
    return [values.get(k) for k in keys]
