"""Roster import and export (issue 2 §4): validate everything first, write all or nothing, idempotent."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import Workbook, load_workbook

from linjialin.core.models import AuditEvent
from linjialin.places import roster
from linjialin.places.models import Building, Compound, Level, Place, Resident, ResidentTag

HEADER = [
    "社区",
    "网格",
    "小区",
    "楼号",
    "单元",
    "房号",
    "楼层",
    "面积",
    "产权",
    "是否居住",
    "姓名",
    "手机",
    "身份证号",
    "出生年份",
    "与户主关系",
    "标签",
    "同意来源",
]
VALID_ID = "11010519491231002X"  # GB 11643 sample, born 1949-12-31
VALID_ID_2 = "110101199003077758"


def row(**values) -> list[str]:
    base = {
        "社区": "社区一",
        "网格": "001",
        "小区": "荔景园",
        "楼号": "3",
        "单元": "2",
        "房号": "101",
        "楼层": "1",
        "面积": "72.5",
        "产权": "自有",
        "是否居住": "是",
        "姓名": "周一",
        "手机": "",
        "身份证号": "",
        "出生年份": "1960",
        "与户主关系": "户主",
        "标签": "",
        "同意来源": "",
    }
    base.update(values)
    return [base[h] for h in HEADER]


def csv_bytes(rows, header=HEADER, encoding="utf-8-sig") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows, header=HEADER) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def happy_rows() -> list[list[str]]:
    return [
        row(
            姓名="周一",
            手机="13700000001",
            身份证号=VALID_ID,
            出生年份="1949",
            标签="独居老人、党员",
            同意来源="本人书面同意",
        ),
        row(姓名="周二", 手机="13700000002", 与户主关系="配偶", 标签="volunteer"),
        row(
            房号="201",
            楼层="2",
            面积="90",
            产权="租住",
            姓名="吴三",
            手机="13700000003",
            出生年份="1990",
            身份证号=VALID_ID_2,
        ),
        row(
            单元="3", 房号="101", 姓名="", 出生年份="", 与户主关系="", 产权="空置", 是否居住="否"
        ),  # household only
        row(
            网格="新网格",
            小区="运河湾",
            楼号="8号楼",
            单元="1单元",
            房号="502",
            楼层="5",
            姓名="郑四",
            手机="13700000004",
        ),
    ]


def counts():
    return (
        Place.objects.count(),
        Compound.objects.count(),
        Building.objects.count(),
        Resident.objects.count(),
        ResidentTag.objects.count(),
        AuditEvent.objects.count(),
    )


def run(actor, data: bytes, name="roster.csv", **kw):
    return roster.import_roster(actor, io.BytesIO(data), filename=name, **kw)


# --- happy path ---------------------------------------------------------------------------------
def test_import_creates_places_households_and_residents_with_paths(tree, community_worker):
    report = run(community_worker, csv_bytes(happy_rows()))
    assert report.ok, report.errors
    assert report.written
    c = report.counts
    assert (c["grids"].created, c["grids"].unchanged) == (1, 1)
    assert c["compounds"].created == 2 and c["buildings"].created == 2
    assert c["entrances"].created == 3  # 荔景园3号楼2单元, 3单元, 运河湾8号楼1单元
    assert c["households"].created == 4 and c["residents"].created == 4
    assert c["tags"].created == 3

    entrance = Place.objects.get(level=Level.ENTRANCE, name="荔景园3号楼2单元")
    assert entrance.parent == tree.grid_1
    assert (
        entrance.path.startswith(tree.grid_1.path) and entrance.code == "0003"
    )  # next free after 0001, 0002
    assert entrance.building.number == "3号楼" and entrance.unit_no == "2单元"
    household = Place.objects.get(parent=entrance, room="101")
    assert household.path == f"{entrance.path}0001."
    assert household.floor == 1 and str(household.area_m2) == "72.50" and household.tenure == "owner"
    zhou = Resident.objects.get(name="周一")
    assert zhou.household == household and zhou.path == household.path
    assert abs(timezone.now() - zhou.created_at) < timedelta(minutes=5)  # stored as an aware UTC time
    assert zhou.mobile == "13700000001" and zhou.id_number == VALID_ID and zhou.birth_year == 1949
    assert set(zhou.tags.values_list("tag_id", flat=True)) == {"elderly_alone", "party_member"}
    assert zhou.tags.get(tag_id="elderly_alone").consent_source == "本人书面同意"
    assert Resident.objects.get(name="周二").relation == "spouse"
    wu = Resident.objects.get(name="吴三")
    assert wu.birth_year == 1990 and wu.household.tenure == "tenant"

    vacant = Place.objects.get(level=Level.HOUSEHOLD, parent__name="荔景园3号楼3单元")
    assert not vacant.is_occupied and vacant.tenure == "vacant" and not vacant.residents.exists()

    new_grid = Place.objects.get(level=Level.GRID, name="新网格")
    assert new_grid.parent == tree.community_1 and new_grid.code == "002"
    assert new_grid.grid_code == "110112008001002"
    assert Resident.objects.get(name="郑四").path.startswith(new_grid.path)

    event = AuditEvent.objects.get(action="roster.imported")
    assert event.actor == community_worker and event.path == tree.community_1.path
    assert event.after["residents"]["created"] == 4 and event.after["rows"] == 5


def test_existing_places_are_matched_not_duplicated(tree, community_worker):
    rows = [
        row(
            小区="紫荆雅园",
            楼号="1号楼",
            单元="1单元",
            房号="101",
            楼层="1",
            面积="86.5",
            姓名="张三",
            手机="13800000001",
            身份证号=VALID_ID,
            出生年份="1949",
            与户主关系="户主",
        )
    ]
    before = Place.objects.count()
    report = run(community_worker, csv_bytes(rows))
    assert report.ok, report.errors
    assert Place.objects.count() == before
    c = report.counts
    assert c["entrances"].unchanged == 1 and c["households"].unchanged == 1 and c["residents"].unchanged == 1
    assert not report.changed


def test_reimport_of_the_same_file_changes_nothing(tree, community_worker):
    data = csv_bytes(happy_rows())
    assert run(community_worker, data).ok
    snapshot = list(Resident.objects.order_by("id").values()), list(Place.objects.order_by("id").values())
    before = counts()
    report = run(community_worker, data)
    assert report.ok and report.written
    assert all(c.created == 0 and c.updated == 0 for c in report.counts.values())
    assert report.counts["residents"].unchanged == 4 and report.counts["households"].unchanged == 4
    assert report.counts["tags"].unchanged == 3
    assert (
        list(Resident.objects.order_by("id").values()),
        list(Place.objects.order_by("id").values()),
    ) == snapshot
    after = counts()
    assert after[:-1] == before[:-1] and after[-1] == before[-1] + 1  # only the one roster.imported event
    assert AuditEvent.objects.filter(action="roster.imported").count() == 2


def test_changed_file_updates_only_the_changed_rows(tree, community_worker):
    rows = happy_rows()
    assert run(community_worker, csv_bytes(rows)).ok
    untouched = Resident.objects.get(name="周二")
    first_stamp = Resident.objects.get(name="周一").updated_at
    rows[0] = row(**{**dict(zip(HEADER, rows[0], strict=True)), "手机": "13700000009"})
    rows[2] = row(**{**dict(zip(HEADER, rows[2], strict=True)), "面积": "95.5"})
    rows.append(row(姓名="周小五", 与户主关系="子女", 出生年份="2015"))
    report = run(community_worker, csv_bytes(rows))
    assert report.ok, report.errors
    assert report.counts["residents"].updated == 1 and report.counts["residents"].created == 1
    assert report.counts["residents"].unchanged == 3
    assert report.counts["households"].updated == 1 and report.counts["households"].unchanged == 3
    zhou = Resident.objects.get(name="周一")
    assert zhou.mobile == "13700000009" and zhou.updated_at > first_stamp
    assert str(Place.objects.get(residents__name="吴三").area_m2) == "95.50"
    assert Resident.objects.get(name="周二").updated_at == untouched.updated_at


def test_blank_cells_keep_stored_values(tree, community_worker):
    rows = [
        row(
            小区="紫荆雅园",
            楼号="1号楼",
            单元="1单元",
            房号="101",
            楼层="",
            面积="",
            产权="",
            是否居住="",
            姓名="张三",
            出生年份="",
            与户主关系="",
        )
    ]
    report = run(community_worker, csv_bytes(rows))
    assert report.ok and not report.changed
    tree.resident_a1.refresh_from_db()
    assert tree.resident_a1.mobile == "13800000001" and tree.resident_a1.birth_year == 1949


def test_dry_run_reports_counts_and_writes_nothing(tree, community_worker):
    before = counts()
    report = run(community_worker, csv_bytes(happy_rows()), dry_run=True)
    assert report.ok and not report.written
    assert report.counts["residents"].created == 4
    assert counts() == before


# --- errors -------------------------------------------------------------------------------------
def test_file_with_many_different_errors_reports_all_and_writes_nothing(tree, community_worker):
    rows = [
        row(姓名="甲", 手机="13700000011"),  # 2: fine
        row(姓名="乙", 手机="13700000011", 房号="102"),  # 3: duplicate mobile in file
        row(姓名="丙", 手机="13800000004", 房号="103"),  # 4: mobile used by another resident (赵六) in the DB
        row(姓名="丁", 手机="1234", 房号="104"),  # 5: bad mobile format
        row(社区="不存在的社区", 姓名="戊", 房号="105"),  # 6: unknown community
        row(网格="009", 姓名="己", 房号="106"),  # 7: unknown grid code
        row(姓名="庚", 身份证号="110105194912310021", 房号="107", 出生年份=""),  # 8: bad ID checksum
        row(姓名="辛", 面积="八十", 房号="108"),  # 9: area not a number
        row(姓名="壬", 楼层="2.5", 房号="109"),  # 10: floor not an integer
        row(姓名="癸", 出生年份="1850", 房号="110"),  # 11: birth year out of range
        row(姓名="子", 产权="公租", 房号="111"),  # 12: unknown tenure
        row(姓名="丑", 与户主关系="邻居", 房号="112"),  # 13: unknown relation
        row(姓名="寅", 标签="火星人", 房号="113"),  # 14: unknown tag
        row(姓名="卯", 标签="残疾", 同意来源="", 房号="114"),  # 15: sensitive tag without consent
        row(姓名="", 手机="13700000015", 房号="115"),  # 16: name missing
        row(姓名="甲", 房号="101"),  # 17: same person twice (same household as row 2)
        row(社区="社区二", 姓名="辰", 房号="116"),  # 18: community outside the importer's scope
        row(小区="", 姓名="巳", 房号="117"),  # 19: compound missing
    ]
    before = counts()
    with translation.override("en"):  # the message checks below read the English text
        report = run(community_worker, csv_bytes(rows))
    assert not report.ok and not report.written
    found = {(e.row, e.column) for e in report.errors}
    expected = {
        (3, "手机"),
        (4, "手机"),
        (5, "手机"),
        (6, "社区"),
        (7, "网格"),
        (8, "身份证号"),
        (9, "面积"),
        (10, "楼层"),
        (11, "出生年份"),
        (12, "产权"),
        (13, "与户主关系"),
        (14, "标签"),
        (15, "同意来源"),
        (16, "姓名"),
        (17, "姓名"),
        (18, "社区"),
        (19, "小区"),
    }
    assert expected <= found
    assert not any(e.row == 2 for e in report.errors)
    messages = {(e.row, e.column): e.message for e in report.errors}
    assert "row 2" in messages[(3, "手机")] and "row 2" in messages[(17, "姓名")]
    assert "checksum" in messages[(8, "身份证号")]
    assert "火星人" in messages[(14, "标签")]
    assert counts() == before  # nothing written, not even an audit event


def test_missing_required_columns_are_named(tree, community_worker):
    header = [h for h in HEADER if h not in ("姓名", "房号")]
    data = csv_bytes([[v for h, v in zip(HEADER, row(), strict=True) if h in header]], header=header)
    with translation.override("en"):  # the message check below reads the English text
        report = run(community_worker, data)
    assert {(e.row, e.column) for e in report.errors} == {(1, "姓名"), (1, "房号")}
    assert all("missing" in e.message for e in report.errors)


def test_conflicting_household_values_and_entrance_in_other_grid(tree, community_worker):
    rows = [
        row(姓名="甲", 面积="70"),
        row(姓名="乙", 面积="71"),  # same household, other area
        row(
            小区="紫荆雅园", 楼号="1号楼", 单元="1单元", 网格="新网格", 姓名="丙", 房号="301"
        ),  # entrance is in grid 001
    ]
    report = run(community_worker, csv_bytes(rows))
    found = {(e.row, e.column) for e in report.errors}
    assert (3, "面积") in found and (4, "网格") in found


def test_masked_number_is_kept_for_existing_but_refused_for_new_resident(tree, community_worker):
    rows = [
        row(
            小区="紫荆雅园",
            楼号="1号楼",
            单元="1单元",
            房号="101",
            面积="86.5",
            姓名="张三",
            手机="138****0001",
            身份证号="1101**********002X",
            出生年份="1949",
        ),
        row(姓名="新人", 手机="137****0000"),
    ]
    report = run(community_worker, csv_bytes(rows))
    assert [(e.row, e.column) for e in report.errors] == [(3, "手机")]
    report = run(community_worker, csv_bytes(rows[:1]))
    assert report.ok and not report.changed


def test_outsider_importing_into_another_community_gets_row_errors(tree, outsider):
    before = counts()
    report = run(outsider, csv_bytes(happy_rows()))
    assert not report.ok
    assert {e.column for e in report.errors} == {"社区"}
    assert {e.row for e in report.errors} == {2, 3, 4, 5, 6}
    assert counts() == before


def test_importer_without_permission_anywhere_is_refused(tree, grid_worker):
    with pytest.raises(PermissionDenied):
        run(grid_worker, csv_bytes(happy_rows()))


def test_sensitive_tag_records_consent_source_and_who_recorded_it(tree, community_worker):
    report = run(community_worker, csv_bytes([row(标签="残疾，党员", 同意来源="监护人书面同意")]))
    assert report.ok, report.errors
    tags = {t.tag_id: t for t in ResidentTag.objects.filter(resident__name="周一")}
    assert set(tags) == {"disability", "party_member"}
    assert tags["disability"].consent_source == "监护人书面同意" and tags["party_member"].consent_source == ""
    assert tags["disability"].recorded_by == community_worker
    assert tags["disability"].path == Resident.objects.get(name="周一").path


# --- formats ------------------------------------------------------------------------------------
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_in_utf8_with_or_without_bom_and_gbk_parses(tree, community_worker, encoding):
    report = run(community_worker, csv_bytes(happy_rows(), encoding=encoding))
    assert report.ok, report.errors
    assert Resident.objects.filter(name="周一", household__parent__compound__name="荔景园").exists()


def test_xlsx_parses_numbers_as_text(tree, community_worker):
    rows = happy_rows()
    for r in rows:  # Excel stores numbers: mobile, floor, area, year as numbers
        for i, h in enumerate(HEADER):
            if h in ("手机", "楼层", "出生年份", "房号") and r[i].isdigit():
                r[i] = int(r[i])
            if h == "面积" and r[i]:
                r[i] = float(r[i])
    report = run(community_worker, xlsx_bytes(rows), name="名册.xlsx")
    assert report.ok, report.errors
    assert Resident.objects.get(name="吴三").mobile == "13700000003"
    assert Place.objects.get(residents__name="吴三").room == "201"


def test_english_headers_are_accepted_and_unknown_columns_ignored(tree, community_worker):
    header = [
        roster.COLUMN_BY_KEY[k].label
        for k in ("community", "grid", "compound", "building", "unit", "room", "name")
    ] + ["备注"]
    data = csv_bytes([["001", "1", "荔景园", "3", "2", "101", "周一", "x"]], header=header)
    report = run(community_worker, data)
    assert report.ok, report.errors
    assert report.ignored_columns == ["备注"]


def test_unreadable_and_wrong_type_files_are_reported(tree, community_worker):
    assert "xlsx" in run(community_worker, b"abc", name="roster.xls").errors[0].message
    assert run(community_worker, b"not a zip", name="roster.xlsx").errors[0].row is None
    assert not run(community_worker, b"", name="roster.csv").ok


# --- command ------------------------------------------------------------------------------------
def test_command_imports_and_reports_errors(tree, community_worker, tmp_path, capsys):
    good = tmp_path / "good.csv"
    good.write_bytes(csv_bytes(happy_rows()))
    call_command("import_roster", str(good), "--as", community_worker.mobile, "--no-progress")
    assert "residents" in capsys.readouterr().out
    assert Resident.objects.filter(name="周一").exists()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes([row(面积="很大")]))
    with pytest.raises(CommandError):
        call_command("import_roster", str(bad), "--as", community_worker.mobile, "--no-progress")
    assert "row 2" in capsys.readouterr().err


def test_command_writes_templates_that_open(tmp_path, db):
    for name in ("t.xlsx", "t.csv"):
        call_command("import_roster", "--template", str(tmp_path / name))
    ws = load_workbook(tmp_path / "t.xlsx", read_only=True).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == HEADER and len(rows) == 3
    raw = (tmp_path / "t.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert len(list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))) == 3


def test_template_example_rows_import_cleanly(tree, community_worker):
    report = run(community_worker, roster.template_bytes("xlsx"), name="t.xlsx", dry_run=True)
    assert report.ok, report.errors
    assert report.counts["residents"].created == 2


# --- pages --------------------------------------------------------------------------------------
def test_import_page_shows_counts_and_errors(tree, community_worker, login):
    client = login(community_worker)
    url = reverse("places:import")
    assert client.get(url).status_code == 200
    bad = io.BytesIO(csv_bytes([row(面积="八十"), row(楼层="x", 房号="102", 姓名="乙")]))
    bad.name = "bad.csv"
    response = client.post(url, {"file": bad})
    assert response.status_code == 422
    assert response.context["report"].errors and Resident.objects.filter(name="乙").count() == 0
    assert "面积" in response.content.decode()
    good = io.BytesIO(csv_bytes(happy_rows()))
    good.name = "good.csv"
    response = client.post(url, {"file": good, "dry_run": "on"})
    assert response.status_code == 200 and not response.context["report"].written
    assert not Resident.objects.filter(name="周一").exists()
    good.seek(0)
    response = client.post(url, {"file": good})
    assert response.context["report"].written and Resident.objects.filter(name="周一").exists()


def test_import_page_needs_import_permission(tree, resident_a, login, client):
    assert client.get(reverse("places:import")).status_code == 302  # anonymous → login
    assert login(resident_a).get(reverse("places:import")).status_code == 403


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_template_downloads_open(tree, community_worker, login, fmt):
    response = login(community_worker).get(reverse("places:import_template", args=[fmt]))
    assert response.status_code == 200
    if fmt == "xlsx":
        ws = load_workbook(io.BytesIO(response.content)).worksheets[0]
        assert [c.value for c in ws[1]] == HEADER and ws.max_row == 3
    else:
        assert response.content.startswith(b"\xef\xbb\xbf")
        assert next(csv.reader(io.StringIO(response.content.decode("utf-8-sig")))) == HEADER


# --- export -------------------------------------------------------------------------------------
def export(client, place, fmt="csv", **params):
    response = client.get(reverse("places:export", args=[place.pk, fmt]), params)
    if response.status_code != 200:
        return response, None
    if fmt == "csv":
        body = b"".join(response.streaming_content)
        assert body.startswith(b"\xef\xbb\xbf")
        return response, list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    body = b"".join(response.streaming_content)
    ws = load_workbook(io.BytesIO(body), read_only=True).worksheets[0]
    return response, [["" if v is None else str(v) for v in r] for r in ws.iter_rows(values_only=True)]


def _tag(resident, code, consent=""):
    ResidentTag.objects.create(resident=resident, tag_id=code, path=resident.path, consent_source=consent)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_masks_numbers_and_is_audited(tree, community_worker, login, fmt):
    _tag(tree.resident_a1, "elderly_alone", "本人同意")
    _tag(tree.resident_a1, "party_member")
    response, rows = export(login(community_worker), tree.community_1, fmt)
    assert response.status_code == 200
    header, data = rows[0], rows[1:]
    assert header == [h for h in HEADER if h != "同意来源"]  # no sensitive-export permission
    assert len(data) == 3
    zhang = next(r for r in data if r[header.index("姓名")] == "张三")
    assert zhang[header.index("手机")] == "138****0001"
    assert zhang[header.index("身份证号")] == "1101**********002X"
    assert zhang[header.index("标签")] == "党员"  # the sensitive tag is left out
    assert "赵六" not in {r[header.index("姓名")] for r in data}  # community 2 is not under community 1
    body = "".join(",".join(r) for r in rows)
    assert "13800000001" not in body and VALID_ID not in body
    event = AuditEvent.objects.get(action="roster.exported")
    assert event.actor == community_worker and event.path == tree.community_1.path
    assert event.after["rows"] == 3 and event.after["masked"] is True and event.after["format"] == fmt
    assert event.after["columns"] == header and event.after["sensitive_tags"] is False


def test_export_full_numbers_needs_reason_and_unmask(tree, community_secretary, login):
    _tag(tree.resident_a1, "elderly_alone", "本人同意")
    client = login(community_secretary)
    response = client.get(reverse("places:export", args=[tree.entrance_a.pk, "csv"]), {"full": "1"})
    assert response.status_code == 200 and b"reason" in response.content  # asks for the reason
    assert not AuditEvent.objects.filter(action="roster.exported").exists()
    response, rows = export(client, tree.entrance_a, "csv", full="1", reason="上门核实")
    header = rows[0]
    zhang = next(r for r in rows[1:] if r[header.index("姓名")] == "张三")
    assert zhang[header.index("手机")] == "13800000001" and zhang[header.index("身份证号")] == VALID_ID
    assert "独居老人" in zhang[header.index("标签")] and zhang[header.index("同意来源")] == "本人同意"
    event = AuditEvent.objects.get(action="roster.exported")
    assert (
        event.after["masked"] is False
        and event.after["sensitive_tags"] is True
        and event.reason == "上门核实"
    )


def test_export_full_without_unmask_permission_is_forbidden(tree, subdistrict_staff, login):
    response, _rows = export(login(subdistrict_staff), tree.community_1, "csv", full="1", reason="查看")
    assert response.status_code == 403
    response, rows = export(login(subdistrict_staff), tree.community_1, "csv")
    assert response.status_code == 200 and len(rows) == 4


def test_outsider_gets_404_and_no_permission_gets_403(tree, outsider, grid_worker, login, client):
    assert export(login(outsider), tree.community_1)[0].status_code == 404
    assert export(login(grid_worker), tree.grid_1)[0].status_code == 403
    assert not AuditEvent.objects.filter(action="roster.exported").exists()


def test_export_of_masked_file_reimports_without_changes(tree, community_worker, login):
    Place.objects.filter(pk=tree.household_a2.pk).update(tenure="vacant")
    Resident.objects.filter(pk=tree.resident_a2.pk).delete()
    response, rows = export(login(community_worker), tree.community_1, "xlsx")
    header, data = rows[0], rows[1:]
    assert any(
        r[header.index("姓名")] == "" and r[header.index("房号")] == "201" for r in data
    )  # household only
    report = run(community_worker, xlsx_bytes(data, header=header), name="back.xlsx")
    assert report.ok, report.errors
    assert not report.changed
    assert report.counts["households"].unchanged == 3 and report.counts["residents"].unchanged == 2
