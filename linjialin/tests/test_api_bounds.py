"""Input bounds of the API: numbers, dates and bodies the database or the date-time format cannot hold
are refused with a 4xx naming the field, never a 500; the rates report's date-times follow RFC 3339."""

from __future__ import annotations

import re

import pytest

API = "/api/v1"
HUGE = 2**70  # beyond any id column (BIGINT, SQLite's INTEGER)

# RFC 3339 §5.6 date-time, the OpenAPI `date-time` format: the offset is hours and minutes only
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def test_a_huge_actor_id_on_the_audit_events_is_a_422_naming_the_field(tree, auditor, login):
    response = login(auditor).get(f"{API}/audit/events", {"actor": HUGE})
    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["actor"]


@pytest.mark.parametrize(
    "moment", ["0001-01-01T00:00:00", "9999-12-31T23:59:59-12:00", "1900-01-01T00:00:00Z"]
)
def test_an_audit_time_outside_the_supported_years_is_a_422_not_a_crash(tree, auditor, login, moment):
    response = login(auditor).get(f"{API}/audit/events", {"from": moment})
    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["from"]


def test_a_huge_place_id_on_submit_is_a_422_naming_the_field(tree, resident_a, login):
    body = {"place_id": HUGE, "request_type": "complaint", "description": "楼道灯坏了"}
    response = login(resident_a).post(f"{API}/requests/", body, content_type="application/json")
    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["place_id"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/places/{id}"),
        ("get", "/places/{id}/residents"),
        ("get", "/coverage/{id}"),
        ("get", "/requests/{id}"),
        ("get", "/requests/{id}/duplicates"),
        ("post", "/requests/{id}/accept"),
        ("post", "/requests/{id}/assists/1/check_in"),
        ("post", "/requests/1/assists/{id}/check_in"),
        ("get", "/mediation/cases/{id}"),
        ("post", "/mutual-aid/posts/{id}/respond"),
        ("post", "/residents/{id}/unmask"),
    ],
)
def test_a_huge_id_in_a_path_is_a_422_not_a_crash(tree, subdistrict_dispatcher, login, method, path):
    client = login(subdistrict_dispatcher)
    url = API + path.format(id=HUGE)
    body = {"reason": "home visit", "note": "ok"}  # valid, so only the id can be what is refused
    response = client.get(url) if method == "get" else client.post(url, body, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["detail"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/requests/{id}/summon", {"kind": "whistle", "unit_ids": [HUGE]}, "unit_ids.0"),
        ("/requests/{id}/summon", {"kind": "whistle", "unit_ids": list(range(1, 22))}, "unit_ids"),
        ("/requests/{id}/dispatch", {"level": 0, "unit_id": HUGE}, "unit_id"),
        ("/requests/{id}/merge", {"into": HUGE}, "into"),
    ],
)
def test_huge_ids_and_long_lists_in_a_body_are_a_422_naming_the_field(
    tree, subdistrict_dispatcher, resident_a, login, path, body, field
):
    from linjialin.service_requests import services

    req = services.submit_request(
        resident_a, place=tree.household_a1, request_type="complaint", description="灯坏了"
    )
    response = login(subdistrict_dispatcher).post(
        API + path.format(id=req.pk), body, content_type="application/json"
    )
    assert response.status_code == 422
    assert list(response.json()["fields"]) == [field]


def test_a_body_that_is_not_json_is_a_documented_400_in_the_error_shape(tree, resident_a, login):
    response = login(resident_a).post(f"{API}/requests/", b"{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"detail": "请求内容不是有效的 JSON。", "fields": {}}


def test_the_rates_report_period_is_an_rfc3339_date_time(tree, subdistrict_dispatcher, login):
    client = login(subdistrict_dispatcher)
    body = client.get(f"{API}/requests/rates", {"place": tree.subdistrict.pk, "from": "2026-03-01"}).json()
    assert RFC3339.match(body["period_from"]), body["period_from"]
    assert RFC3339.match(body["period_to"]), body["period_to"]
    assert body["period_from"] == "2026-03-01T00:00:00+08:00"


@pytest.mark.parametrize(
    ("first", "last"),
    [("1900-01-01", "1900-01-02"), ("0001-01-01", "0001-01-02"), ("2026-01-01", "9999-12-31")],
)
def test_a_rates_period_outside_the_supported_years_is_a_422_not_a_malformed_time_or_a_crash(
    tree, subdistrict_dispatcher, login, first, last
):
    # 1900 in Beijing time is local mean time (+08:05:43, not a date-time offset); year 1 and 9999 overflow
    response = login(subdistrict_dispatcher).get(
        f"{API}/requests/rates", {"place": tree.subdistrict.pk, "from": first, "to": last}
    )
    assert response.status_code == 422
    assert set(response.json()["fields"]) <= {"from", "to"}
