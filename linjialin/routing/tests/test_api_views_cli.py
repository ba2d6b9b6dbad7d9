"""The router's API, its htmx fragment and `linjialin routing evaluate|train`."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation

from linjialin.routing.models import ModelVersion

URL = "/api/v1/routing/suggest"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


# --- API -----------------------------------------------------------------------------------------
def test_anonymous_gets_401(client, tree):
    assert client.get(URL, {"text": "楼道灯坏了"}).status_code == 401
    assert client.post(URL, {"text": "楼道灯坏了"}, content_type="application/json").status_code == 401


def test_resident_gets_the_top_three_with_level_and_unit(login, resident_a):
    response = login(resident_a).get(URL, {"text": "楼道灯坏了,楼下路灯也不亮"})
    assert response.status_code == 200
    body = response.json()
    assert [s["code"] for s in body][:2] == ["corridor-light", "municipal-streetlight"]
    first = body[0]
    assert first["parent_code"] == "corridor" and first["source"] == "rules"
    assert 0 < first["confidence"] <= 1 and first["level_label"]
    assert set(first) >= {"unit_id", "unit_name", "name_zh", "name_en", "level"}


def test_post_with_a_place_in_view(login, resident_a, tree):
    client = login(resident_a)
    payload = {"text": "楼道灯坏了", "place": tree.household_a1.pk}
    response = client.post(URL, payload, content_type="application/json")
    assert response.status_code == 200 and response.json()[0]["code"] == "corridor-light"


def test_a_place_outside_the_callers_view_is_404(login, resident_a, tree):
    response = login(resident_a).get(URL, {"text": "楼道灯坏了", "place": tree.household_x1.pk})
    assert response.status_code == 404


def test_bad_input_is_422(login, resident_a):
    client = login(resident_a)
    assert client.get(URL).status_code == 422  # no text
    response = client.get(URL, {"text": "灯" * 2001})
    assert response.status_code == 422 and "text" in response.json()["fields"]


# --- the htmx fragment ---------------------------------------------------------------------------
def test_fragment_renders_buttons_that_set_the_category(login, resident_a):
    url = reverse("routing:suggest")
    response = login(resident_a).get(
        url, {"description": "楼道灯坏了", "target": "id_category"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    html = response.content.decode()
    codes = re.findall(r'data-category-code="([^"]+)"', html)
    assert codes[0] == "corridor-light" and len(codes) <= 3
    assert 'data-target="id_category"' in html
    # strict CSP: no inline script, no inline style, no handlers
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []
    assert "style=" not in html and "onclick" not in html
    assert "/static/routing/suggest.js" in html


def test_fragment_without_a_match_says_so_and_rejects_odd_targets(login, resident_a):
    response = login(resident_a).get(reverse("routing:suggest"), {"text": "今天天气不错", "target": '"><b'})
    html = response.content.decode()
    assert "No category suggestion" in html and "data-target" not in html


def test_fragment_needs_sign_in(client, tree):
    response = client.get(reverse("routing:suggest"), {"text": "楼道灯坏了"})
    assert response.status_code == 302 and "login" in response["Location"]


# --- CLI -----------------------------------------------------------------------------------------
TRAIN_ROWS = [
    ("社保转移", "社保关系转不过来,跑了好几趟", "劳动和社会保障"),
    ("养老保险", "养老保险补缴手续太复杂", "劳动和社会保障"),
    ("工资拖欠", "公司拖欠工资三个月", "劳动和社会保障"),
    ("学校收费", "学校乱收补课费", "教育文体"),
    ("学位问题", "孩子上学没有学位", "教育文体"),
    ("体育馆", "体育馆不对外开放", "教育文体"),
    ("公交线路", "公交线路调整后出行不便", "交通运输"),
    ("出租车", "出租车拒载还绕路", "交通运输"),
    ("道路拥堵", "路口拥堵红绿灯时间太短", "交通运输"),
]
TEST_ROWS = [
    ("社保问题", "社保补缴要跑很多趟", "劳动和社会保障"),
    ("补课费", "学校补课收费", "教育文体"),
    ("出租车", "出租车司机拒载", "交通运输"),
]


def write_csv(path, rows, encoding):
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # quotes a text with a comma in it
    writer.writerow(["id", "topic", "detail", "label"])
    writer.writerows([i, t, d, lb] for i, (t, d, lb) in enumerate(rows, 1))
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def test_evaluate_prints_the_scores_for_utf8_bom_and_gbk(tmp_path, db, capsys):
    train = write_csv(tmp_path / "a.csv", TRAIN_ROWS * 2, "utf-8-sig")
    test = write_csv(tmp_path / "b.csv", TEST_ROWS, "gbk")
    call_command(
        "routing",
        "evaluate",
        "--train",
        str(train),
        "--test",
        str(test),
        "--text-cols",
        "topic,detail",
        "--label-col",
        "label",
    )
    out = capsys.readouterr().out
    assert "train: 18 rows, 3 classes" in out and "test: 3 rows" in out
    assert re.search(r"accuracy=\d\.\d{4}\s+macro-F1=\d\.\d{4}", out)
    assert "precision" in out and "recall" in out and "confusion" in out
    assert "劳动和社会保障" in out and "交通运输" in out


def test_evaluate_names_a_missing_column(tmp_path, db):
    train = write_csv(tmp_path / "a.csv", TRAIN_ROWS, "utf-8")
    with pytest.raises(CommandError, match="no column body"):
        call_command(
            "routing", "evaluate", "--train", str(train), "--test", str(train), "--text-cols", "body"
        )
    with pytest.raises(CommandError, match="No such file"):
        call_command("routing", "evaluate", "--train", str(tmp_path / "x.csv"), "--test", str(train))


def test_train_from_a_file_stores_a_version(tmp_path, db, capsys):
    data = write_csv(tmp_path / "a.csv", TRAIN_ROWS * 2, "utf-8")
    call_command("routing", "train", "--data", str(data))
    version = ModelVersion.objects.get()
    assert version.source == "file" and version.trained_on == 18 and not version.current
    assert "held-out: 3 rows" in capsys.readouterr().out


def test_retrain_command_without_history_says_so(db, capsys):
    call_command("routing", "retrain")
    assert "Not enough handled history" in capsys.readouterr().out
    assert not ModelVersion.objects.exists()


# --- the admin's "Retrain now" button --------------------------------------------------------------
def test_admin_retrain_button_queues_the_task_as_the_user(login, admin):
    from django_tasks_db.models import DBTaskResult

    admin.is_staff = admin.is_superuser = True  # the Django admin site needs a staff account
    admin.save()
    client = login(admin)
    page = client.get(reverse("admin:routing_modelversion_changelist"))
    assert page.status_code == 200 and reverse("admin:routing_modelversion_retrain") in page.content.decode()
    assert client.get(reverse("admin:routing_modelversion_retrain")).status_code == 405  # POST only
    response = client.post(reverse("admin:routing_modelversion_retrain"))
    assert response.status_code == 302
    queued = DBTaskResult.objects.get(task_path="linjialin.routing.tasks.retrain_router")
    assert queued.args_kwargs["kwargs"] == {"user_id": admin.pk}


def test_task_runs_as_the_user_who_asked(history, subdistrict_dispatcher):
    from linjialin.routing.tasks import retrain_router

    outcome = retrain_router.call(user_id=subdistrict_dispatcher.pk)
    assert ModelVersion.objects.get(pk=outcome["version"]).created_by == subdistrict_dispatcher


def test_admin_retrain_button_refuses_who_may_not_retrain(login, resident_a):
    from django_tasks_db.models import DBTaskResult

    resident_a.is_staff = resident_a.is_superuser = True  # admin site access, but no dispatch grant
    resident_a.save()
    response = login(resident_a).post(reverse("admin:routing_modelversion_retrain"), follow=True)
    assert "Only a dispatcher or a system administrator" in response.content.decode()
    assert not DBTaskResult.objects.exists()


def write_taxonomy(path):
    rows = [
        ["l1", "l2", "l3"],
        ["劳动和社会保障", "城镇职工社会保险", "其他"],
        ["劳动和社会保障", "工资福利", "拖欠工资"],
        ["教育文体", "教育收费", "其他"],
        ["交通运输", "出租车管理", "其他"],
    ]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def test_a_taxonomy_beside_the_training_file_is_the_prior(tmp_path, db, capsys):
    train = write_csv(tmp_path / "a.csv", TRAIN_ROWS * 2, "utf-8")
    test = write_csv(tmp_path / "b.csv", TEST_ROWS, "utf-8")
    write_taxonomy(tmp_path / "taxonomy.csv")
    call_command("routing", "evaluate", "--train", str(train), "--test", str(test))
    # 其他 sits under every label: it says nothing and is left out
    assert f"prior: 5 names from {tmp_path / 'taxonomy.csv'}" in capsys.readouterr().out
    call_command("routing", "evaluate", "--train", str(train), "--test", str(test), "--no-prior")
    assert "prior: none" in capsys.readouterr().out


def test_read_prior_leaves_out_names_under_several_labels(tmp_path):
    from linjialin.routing.files import read_prior

    prior = read_prior(write_taxonomy(tmp_path / "t.csv"))
    assert ("拖欠工资", "劳动和社会保障") in prior and all(term != "其他" for term, _ in prior)
