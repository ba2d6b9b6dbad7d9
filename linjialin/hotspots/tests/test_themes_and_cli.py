"""每月一题 (pages, limits, audit), the monthly report (xlsx, PDF) and the CLI on an external export."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from linjialin.core.audit import AuditEvent
from linjialin.hotspots import services
from linjialin.hotspots.models import Hotspot, HotspotRules, MonthlyTheme, PlaceLevel, ThemeProblem

from .conftest import CHARGING, CLUTTER, LAMP, NOW

MONTH = date(2027, 1, 1)


@pytest.fixture
def hotspot(lamp_hotspot):
    with time_machine.travel(NOW, tick=False):
        services.run_detection(now=NOW)
    return max(Hotspot.objects.filter(level=PlaceLevel.ENTRANCE), key=lambda h: (h.count, "灯" in h.label))


@pytest.fixture
def theme(tree, subdistrict_staff):
    return services.save_theme(
        subdistrict_staff,
        None,
        place=tree.subdistrict,
        month=MONTH,
        title="楼道安全月",
        description="楼道灯与堆物",
    )


def test_staff_create_a_theme_on_the_page_and_it_is_audited(tree, login, subdistrict_staff):
    client = login(subdistrict_staff)
    response = client.post(
        reverse("hotspots:theme_new"),
        {"place": tree.subdistrict.pk, "month": "2027-01", "title": "楼道安全月", "description": ""},
    )
    theme = MonthlyTheme.objects.get()
    assert response.status_code == 302 and theme.month == MONTH and theme.path == tree.subdistrict.path
    assert AuditEvent.objects.filter(action="hotspots.theme.saved", actor=subdistrict_staff).exists()
    with translation.override("en"):
        bad = client.post(
            reverse("hotspots:theme_new"), {"place": tree.subdistrict.pk, "month": "Jan", "title": ""}
        )
    assert bad.status_code == 422 and MonthlyTheme.objects.count() == 1


def test_theme_pages_need_supervise(tree, login, grid_worker, resident_a, theme):
    client = login(grid_worker)
    assert client.get(reverse("hotspots:theme_new")).status_code == 403
    # the subdistrict's theme is the grid's work too: shown, but not editable
    page = client.get(reverse("hotspots:theme", args=[theme.pk]))
    assert (
        page.status_code == 200
        and reverse("hotspots:theme_edit", args=[theme.pk]) not in page.content.decode()
    )
    assert client.post(reverse("hotspots:theme", args=[theme.pk]), {"form": "policy"}).status_code == 403
    assert login(resident_a).get(reverse("hotspots:theme", args=[theme.pk])).status_code == 404
    with pytest.raises(PermissionDenied):
        services.add_policy(grid_worker, theme, title="x")


def test_problems_from_hotspots_or_entered_at_most_the_maximum(theme, hotspot, login, subdistrict_staff):
    client = login(subdistrict_staff)
    url = reverse("hotspots:theme", args=[theme.pk])
    client.post(url, {"form": "problem", "hotspot": hotspot.pk, "title": "", "text": ""})
    picked = ThemeProblem.objects.get()
    assert (picked.title, picked.hotspot_count, picked.place_label) == (
        hotspot.label,
        hotspot.count,
        "紫荆雅园1号楼1单元",
    )
    client.post(url, {"form": "problem", "hotspot": "", "title": "飞线充电", "text": "夜间巡查"})
    client.post(url, {"form": "policy", "title": "北京市电动自行车管理条例", "link": "https://example.org/p"})
    assert theme.problems.count() == 2 and theme.policies.count() == 1
    HotspotRules.objects.update(max_problems=2)
    response = client.post(url, {"form": "problem", "title": "第三个"})
    errors = response.context["problem_form"].non_field_errors()
    assert response.status_code == 422 and len(errors) == 1 and "2" in errors[0]
    assert theme.problems.count() == 2
    actions = set(
        AuditEvent.objects.filter(action__startswith="hotspots.theme.").values_list("action", flat=True)
    )
    assert actions == {"hotspots.theme.saved", "hotspots.theme.problem_added", "hotspots.theme.policy_added"}


def test_bad_policy_link_is_refused(theme, subdistrict_staff):
    with pytest.raises(ValidationError):
        services.add_policy(subdistrict_staff, theme, title="x", link="javascript:alert(1)")
    assert not theme.policies.exists()


@pytest.fixture
def theme_with_task(theme, hotspot, subdistrict_staff, grid_worker):
    with time_machine.travel(NOW, tick=False):
        task = services.create_task(
            subdistrict_staff, hotspot, title="楼道灯统一更换", owner=grid_worker, deadline=date(2027, 3, 1)
        )
    problem = services.add_problem(subdistrict_staff, theme, hotspot=hotspot)
    assert list(problem.tasks.all()) == [task]  # the hotspot's task comes with it
    services.add_problem(subdistrict_staff, theme, title="飞线充电")
    services.add_policy(
        subdistrict_staff, theme, title="楼道管理办法", text="第三条", link="https://example.org"
    )
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        services.move_task(grid_worker, task, "start")
        services.move_task(grid_worker, task, "finish", result="换灯")
    return theme


def test_monthly_report_xlsx(theme_with_task, login, subdistrict_staff):
    client = login(subdistrict_staff)
    response = client.get(reverse("hotspots:report", args=["xlsx"]), {"month": "2027-01"})
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxml")
    ws = load_workbook(io.BytesIO(response.content)).worksheets[0]
    rows = [[c for c in row] for row in ws.iter_rows(min_row=4, values_only=True)]
    task_row = next(r for r in rows if r[5] == "楼道灯统一更换")
    assert task_row[0] == "楼道安全月" and task_row[2] == 100  # the one task is done
    assert (task_row[9], task_row[10]) == (5, 0)  # five lamp requests before, none after (so far)
    assert any(r[3] == "飞线充电" for r in rows)
    event = AuditEvent.objects.get(action="hotspots.report_exported")
    assert event.after == {"month": "2027-01", "format": "xlsx", "themes": 1}


def test_monthly_report_pdf(theme_with_task, login, subdistrict_staff):
    from linjialin.hotspots import report

    html = report.render_html(report.build([theme_with_task], MONTH))
    assert "楼道安全月" in html and "WenQuanYi Micro Hei" in html and 'lang="zh-Hans"' in html
    response = login(subdistrict_staff).get(reverse("hotspots:report", args=["pdf"]), {"month": "2027-01"})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF") and len(response.content) > 1000
    assert AuditEvent.objects.filter(action="hotspots.report_exported", after__format="pdf").exists()


def test_report_bad_month_and_outsider(
    theme_with_task, tree, login, outsider, resident_a, community_secretary
):
    services.save_theme(community_secretary, None, place=tree.community_1, month=MONTH, title="一社区停车月")
    client = login(outsider)
    assert client.get(reverse("hotspots:report", args=["xlsx"]), {"month": "xx"}).status_code == 422
    ok = client.get(reverse("hotspots:report", args=["xlsx"]), {"month": "2027-01"})
    ws = load_workbook(io.BytesIO(ok.content)).worksheets[0]
    titles = {r[0] for r in ws.iter_rows(min_row=4, values_only=True)}
    assert "一社区停车月" not in titles  # another community's theme is not theirs
    assert "楼道安全月" in titles  # their subdistrict's is
    assert (
        login(resident_a).get(reverse("hotspots:report", args=["xlsx"]), {"month": "2027-01"}).status_code
        == 404
    )


def test_the_theme_list_opens_for_every_staff_member_with_requests(tree, login, grid_worker, outsider):
    # no theme yet: an empty list, not a 404, for whoever the menu shows it to
    for user in (grid_worker, outsider):
        response = login(user).get(reverse("hotspots:themes"))
        assert response.status_code == 200 and list(response.context["themes"]) == []


def test_a_community_theme_is_hidden_from_another_community(
    tree, login, outsider, grid_worker, community_secretary
):
    theme = services.save_theme(
        community_secretary, None, place=tree.community_1, month=MONTH, title="停车月"
    )
    assert login(outsider).get(reverse("hotspots:theme", args=[theme.pk])).status_code == 404
    assert (
        login(grid_worker).get(reverse("hotspots:theme", args=[theme.pk])).status_code == 200
    )  # above the grid


# --- the CLI ----------------------------------------------------------------------------------------------
def test_cli_on_a_small_export(tmp_path, db):
    path = tmp_path / "export.csv"
    lines = ["id,when,text,kind,place"]
    for i, t in enumerate(LAMP):
        lines.append(f"{i},2026-11-{10 + i:02d} 09:00,{t.replace(',', ' ')},照明,甲小区")
    for i, t in enumerate(CHARGING):
        lines.append(f"{100 + i},2026-11-{10 + i:02d}T10:00:00,{t},充电,甲小区")
    for i, t in enumerate(CLUTTER[:2]):
        lines.append(f"{200 + i},2026-11-{10 + i:02d},{t},照明,乙小区")
    lines.append("300,not a date,楼道灯坏了,照明,甲小区")
    path.write_text("\n".join(lines), encoding="utf-8")
    out = io.StringIO()
    call_command(
        "hotspots",
        data=str(path),
        text_col="text",
        time_col="when",
        category_col="kind",
        place_col="place",
        stdout=out,
    )
    text = out.getvalue()
    assert "10 rows (1 skipped)" in text and "2 clusters" in text
    assert "#1  5 rows" in text and "category 照明" in text and "place 甲小区" in text
    assert "#2  3 rows" in text and "飞线充电" in text
    assert "杂物" not in text  # two rows only: below the minimum
    with pytest.raises(CommandError, match="no column 'nope'"):
        call_command("hotspots", data=str(path), text_col="nope", time_col="when", stdout=io.StringIO())
