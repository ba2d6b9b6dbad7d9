"""Hotline work-order import (12345 style): the whole file checked first (every problem with its row and
column, nothing written), then one transaction; idempotent by work-order number; CSV in UTF-8 / BOM /
GBK and .xlsx; only dispatchers; the page, the template and the command."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone, translation

from linjialin.core.models import AuditEvent
from linjialin.service_requests import hotline
from linjialin.service_requests.models import Channel, ServiceRequest, State

HEADER = ["工单编号", "受理时间", "诉求内容", "联系人", "联系电话", "诉求分类", "所属社区", "办理时限"]


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def rows_ok():
    return [
        ["GD001", "2026-11-27 09:30", "3号楼门口路灯不亮", "李女士", "13800001234", "corridor", "社区一", ""],
        [
            "GD002",
            "2026/11/27 10:05",
            "小区垃圾没人清运",
            "王先生",
            "010-62345678",
            "环境卫生",
            "网格一",
            "2026-12-05 18:00",
        ],
    ]


def csv_bytes(rows, encoding="utf-8-sig"):
    lines = [",".join(HEADER)] + [",".join(r) for r in rows]
    return ("\n".join(lines) + "\n").encode(encoding)


def xlsx_bytes(rows):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def run(actor, data, name="orders.csv", **kw):
    return hotline.import_file(actor, io.BytesIO(data), name, **kw)


def test_happy_path_creates_hotline_requests(subdistrict_dispatcher, tree):
    report = run(subdistrict_dispatcher, csv_bytes(rows_ok()))
    assert report.ok and report.written and len(report.created) == 2 and report.already == []
    a, b = (ServiceRequest.objects.get(external_id=x) for x in ("GD001", "GD002"))
    assert a.channel == Channel.HOTLINE and a.requester is None and a.submitted_by == subdistrict_dispatcher
    assert a.place == tree.community_1 and a.category.code == "corridor" and a.state == State.SUBMITTED
    assert a.level == 2  # a community place: not below the community, whatever the category says
    assert a.contact_name == "李女士" and a.contact_mobile == "13800001234"
    assert timezone.localtime(a.submitted_at).replace(tzinfo=None) == datetime(2026, 11, 27, 9, 30)
    assert b.place == tree.grid_1 and b.contact_mobile == "01062345678"
    assert timezone.localtime(b.resolve_by).replace(tzinfo=None) == datetime(2026, 12, 5, 18, 0)
    assert a.events.get(kind="submitted").data["external_id"] == "GD001"
    assert AuditEvent.objects.filter(action="request.submitted", object_id=str(a.pk)).exists()
    summary = AuditEvent.objects.get(action="request.hotline_import")
    assert summary.after == {"rows": 2, "created": 2, "already_imported": 0}


def test_reimport_creates_nothing_and_a_changed_row_is_not_overwritten(subdistrict_dispatcher):
    run(subdistrict_dispatcher, csv_bytes(rows_ok()))
    changed = rows_ok()
    changed[0][2] = "内容被改过了"
    changed.append(["GD003", "2026-11-28 08:00", "新的工单", "", "", "other", "社区一", ""])
    report = run(subdistrict_dispatcher, csv_bytes(changed))
    assert report.ok and [r.external_id for r in report.created] == ["GD003"]
    assert sorted(row.external_id for row, _req in report.already) == ["GD001", "GD002"]
    assert ServiceRequest.objects.count() == 3
    assert ServiceRequest.objects.get(external_id="GD001").description == "3号楼门口路灯不亮"


def test_gbk_csv_and_xlsx_are_read(subdistrict_dispatcher):
    assert len(run(subdistrict_dispatcher, csv_bytes(rows_ok(), "gbk")).created) == 2
    ServiceRequest.objects.all().delete()
    report = run(subdistrict_dispatcher, xlsx_bytes(rows_ok()), "orders.xlsx")
    assert report.ok and len(report.created) == 2


def test_excel_date_cells_are_read():
    assert timezone.localtime(hotline.parse_datetime("46354.5")).replace(tzinfo=None) == datetime(
        2026, 11, 28, 12, 0
    )
    assert hotline.parse_datetime("2026年11月28日 9:05").minute == 5
    assert hotline.parse_datetime("明天") is None


def test_bad_rows_are_all_reported_and_nothing_is_written(subdistrict_dispatcher):
    rows = rows_ok() + [
        ["GD003", "2026-11-27 09:30", "内容", "", "", "no-such-category", "社区一", ""],
        ["GD004", "2026-11-27 09:30", "内容", "", "", "corridor", "火星社区", ""],
        ["GD005", "昨天上午", "内容", "", "", "corridor", "社区一", ""],
        ["GD006", "2026-11-27 09:30", "", "", "", "corridor", "社区一", ""],
        ["GD001", "2026-11-27 09:30", "重复编号", "", "12", "corridor", "社区一", "2026-11-01"],
    ]
    report = run(subdistrict_dispatcher, csv_bytes(rows))
    assert not report.ok and not report.written
    found = {(e.row, e.column) for e in report.errors}
    assert {(4, "诉求分类"), (5, "所属社区"), (6, "受理时间"), (7, "诉求内容")} <= found
    assert {(8, "工单编号"), (8, "联系电话"), (8, "办理时限")} <= found
    messages = {e.row: e.message for e in report.errors}
    assert "Unknown category" in messages[4] and "Unknown place" in messages[5]
    assert "Not a date and time" in messages[6] and "content is missing" in messages[7]
    assert ServiceRequest.objects.count() == 0
    assert not AuditEvent.objects.filter(action__startswith="request.").exists()


def test_missing_columns_and_unreadable_files_are_reported(subdistrict_dispatcher):
    report = run(subdistrict_dispatcher, "工单编号,诉求内容\nGD1,x\n".encode())
    assert {e.column for e in report.errors} >= {"受理时间", "诉求分类", "地址"}
    report = run(subdistrict_dispatcher, b"\x00\x01not a workbook", "x.xlsx")
    assert not report.ok and report.errors[0].row is None
    assert ServiceRequest.objects.count() == 0


def test_places_outside_the_dispatch_scope_are_unknown(community_secretary, subdistrict_dispatcher):
    # a community secretary does not dispatch: nothing is in their import scope
    report = run(community_secretary, csv_bytes(rows_ok()))
    assert not report.ok and all(
        "Unknown place" in e.message for e in report.errors if e.column == "所属社区"
    )
    from linjialin.service_requests import services

    good = run(subdistrict_dispatcher, csv_bytes(rows_ok()), dry_run=True)
    assert good.ok and not good.written and ServiceRequest.objects.count() == 0
    with pytest.raises(Exception, match="dispatcher"):
        services.import_hotline_orders(community_secretary, good.rows)


# --- the page, the template, the command ------------------------------------------------------------
def test_page_only_for_dispatchers(client, login, community_worker, resident_a, subdistrict_dispatcher):
    url = reverse("requests:hotline_import")
    assert client.get(url).status_code == 302  # anonymous → login
    assert login(community_worker).get(url).status_code == 403
    assert login(resident_a).get(reverse("requests:hotline_template", args=["csv"])).status_code == 403
    assert login(subdistrict_dispatcher).get(url).status_code == 200


def test_page_upload_shows_errors_or_counts(login, subdistrict_dispatcher):
    client = login(subdistrict_dispatcher)
    url = reverse("requests:hotline_import")
    bad = rows_ok() + [["GD009", "2026-11-27 09:30", "内容", "", "", "nope", "社区一", ""]]
    response = client.post(url, {"file": SimpleUploadedFile("o.csv", csv_bytes(bad))})
    assert response.status_code == 422 and "Nothing was written" in response.content.decode()
    assert "Unknown category" in response.content.decode() and ServiceRequest.objects.count() == 0
    response = client.post(url, {"file": SimpleUploadedFile("o.csv", csv_bytes(rows_ok()))})
    html = response.content.decode()
    assert response.status_code == 200 and "2 orders created" in html and "0 already imported" in html
    response = client.post(url, {"file": SimpleUploadedFile("o.csv", csv_bytes(rows_ok()))})
    assert "0 orders created" in response.content.decode() and ServiceRequest.objects.count() == 2


def test_templates_download_and_reimport_their_header(login, subdistrict_dispatcher):
    client = login(subdistrict_dispatcher)
    csv_template = client.get(reverse("requests:hotline_template", args=["csv"]))
    assert csv_template.status_code == 200 and csv_template.content.startswith(b"\xef\xbb\xbf")
    assert "工单编号" in csv_template.content.decode("utf-8-sig")
    xlsx = client.get(reverse("requests:hotline_template", args=["xlsx"]))
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert client.get(reverse("requests:hotline_template", args=["pdf"])).status_code == 404
    filled = hotline.template_bytes("csv", example_category="corridor", example_place="社区一")
    assert run(subdistrict_dispatcher, filled).ok


def test_command_imports_and_reports(subdistrict_dispatcher, community_worker, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_bytes(csv_bytes(rows_ok()))
    out = io.StringIO()
    call_command("import_hotline", str(path), actor=subdistrict_dispatcher.mobile, stdout=out)
    assert "2 created, 0 already imported" in out.getvalue()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes([["GD7", "x", "内容", "", "", "corridor", "社区一", ""]]))
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("import_hotline", str(bad), actor=subdistrict_dispatcher.mobile, stderr=err)
    assert "row 2, 受理时间" in err.getvalue()
    with pytest.raises(CommandError):
        call_command("import_hotline", str(path), actor=community_worker.mobile)


def test_place_by_path_and_an_ambiguous_name(subdistrict_dispatcher, tree):
    from linjialin.places.models import Place

    Place.objects.filter(pk=tree.grid_2.pk).update(name="网格一")  # two grids now share the name
    rows = [
        ["GD1", "2026-11-27 09:30", "内容一", "", "", "corridor", tree.entrance_x.path, ""],
        ["GD2", "2026-11-27 09:30", "内容二", "", "", "corridor", "网格一", ""],
    ]
    report = run(subdistrict_dispatcher, csv_bytes(rows))
    assert [(e.row, e.column) for e in report.errors] == [(3, "所属社区")]
    assert "2 places have this name" in report.errors[0].message
    report = run(subdistrict_dispatcher, csv_bytes(rows[:1]))
    assert report.ok and report.created[0].place == tree.entrance_x
