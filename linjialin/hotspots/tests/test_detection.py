"""Detection: groups by category × place × window, splits a category into problems by text, ranks."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from linjialin.core.audit import AuditEvent
from linjialin.hotspots import detection, services
from linjialin.hotspots.models import DetectionRun, Hotspot, HotspotRules, PlaceLevel

from .conftest import CHARGING, CLUTTER, LAMP, make_request

T0 = datetime(2026, 11, 20)


def rows(texts, *, place="p1", category="c", days=1, entrance="", household=None):
    out = []
    for i, t in enumerate(texts):
        out.append(
            detection.Row(
                id=f"{place}-{category}-{days}-{i}",
                text=t,
                at=T0 - timedelta(days=days, hours=i),
                category=category,
                places=(detection.Place("entrance", place, place, "x."),),
                household=household or f"h{i}",
                entrance=entrance or place,
            )
        )
    return out


S = detection.Settings(window_days=30, trend_windows=3, similarity=0.16, min_count=3)


def test_text_splits_one_category_into_problems():
    found = detection.detect(rows(LAMP + CLUTTER + CHARGING), T0, S)
    labels = sorted(f.count for f in found)
    assert labels == [3, 4, 5]  # three problems in one category, not one group of 12
    lamp = next(f for f in found if f.count == 5)
    assert all("灯" in s for s in lamp.samples)
    assert not any("杂物" in s for s in lamp.samples)


def test_min_count_and_category_and_place_separate_groups():
    data = rows(LAMP[:2], place="a") + rows(LAMP[2:4], place="b") + rows(LAMP[:2], place="a", category="d")
    assert detection.detect(data, T0, S) == []  # no group reaches 3
    data += rows(LAMP[4:], place="a")
    data[-1].id = "extra"
    found = detection.detect(data, T0, S)
    assert [(f.place.key, f.category, f.count) for f in found] == [("a", "c", 3)]


def test_windows_growth_and_trend():
    current = rows(LAMP, days=1)
    previous = rows(LAMP[:2], days=35)
    old = rows(LAMP[:1], days=65)
    too_old = rows(LAMP, days=95)  # outside the three trend windows: not read
    found = detection.detect(current + previous + old + too_old, T0, S)
    (f,) = found
    assert (f.count, f.previous_count) == (5, 2)
    assert [n for _, n in f.trend] == [1, 2, 5]
    assert f.score == 5 + (5 - 2) + 5 + 0 * 0 + 2.0 * 1  # count, growth, households, spread (1 entrance)


def test_ranking_by_count_growth_households_and_spread():
    growing = rows(LAMP, place="a", days=1)
    steady = rows(CLUTTER[:3], place="b", days=1) + rows(CLUTTER[:3], place="b", days=40)
    one_household = rows(CHARGING, place="c", household="same") + rows(
        CHARGING, place="c", household="same", days=40
    )
    found = detection.detect(growing + steady + one_household, T0, S)
    assert [f.place.key for f in found] == ["a", "b", "c"]
    assert [f.rank for f in found] == [1, 2, 3]
    assert found[2].households == 1


def test_keep_per_level_bounds_what_is_stored():
    data = []
    for k in range(4):
        data += rows(LAMP[:3], place=f"p{k}")
    found = detection.detect(data, T0, detection.Settings(min_count=3, keep_per_level=2, trend_windows=2))
    assert len(found) == 2


def test_similar_count_for_before_and_after():
    assert detection.similar_count(["楼道灯坏了"], LAMP + CLUTTER, 0.16) >= 4
    assert detection.similar_count(["楼道灯坏了"], CLUTTER, 0.16) == 0
    assert detection.similar_count([], LAMP, 0.16) == 0


# --- the job over the database ------------------------------------------------------------------------
def test_job_stores_hotspots_per_level_with_anonymised_samples(lamp_hotspot, now):
    tree = lamp_hotspot
    make_request(
        tree.household_a1,
        "楼道灯坏了，请联系13812345678 张三",
        at=now - timedelta(hours=5),
        contact_name="张三",
    )
    run = services.run_detection(now=now)
    assert run.finished_at is not None and run.requests_read == 11
    lamps = Hotspot.objects.filter(run=run, category__code="corridor")
    levels = set(lamps.values_list("level", flat=True))
    # a request at a household counts at its entrance, building, compound and community
    assert levels == {PlaceLevel.ENTRANCE, PlaceLevel.BUILDING, PlaceLevel.COMPOUND, PlaceLevel.COMMUNITY}
    entrance = lamps.filter(level=PlaceLevel.ENTRANCE).order_by("-count").first()
    assert entrance.path == tree.grid_1.path and entrance.place_key == f"e:{tree.entrance_a.pk}"
    lamp = max(lamps.filter(level=PlaceLevel.ENTRANCE), key=lambda h: h.count)
    assert lamp.count == 6 and lamp.previous_count == 1
    assert lamp.households == 2 and lamp.spread == 1
    text = " ".join(h for x in Hotspot.objects.all() for h in x.samples) + lamp.label
    assert "13812345678" not in text and "张三" not in text
    assert len(lamp.trend) == HotspotRules.objects.get().trend_windows and lamp.trend[-1][1] == 6
    assert AuditEvent.objects.filter(action="hotspots.detected").count() == 1
    # a second run replaces the board
    run2 = services.run_detection(now=now)
    assert not Hotspot.objects.filter(run=run).exists() and Hotspot.objects.filter(run=run2).exists()
    assert DetectionRun.objects.count() == 2


def test_building_requests_filed_at_the_grid_count_for_the_building(tree, now):
    for text in LAMP[:3]:
        make_request(tree.grid_1, f"【1号楼】{text}")
    make_request(tree.grid_1, "【9号楼】楼道灯坏了")  # no such building: the community only
    services.run_detection(now=now)
    building = Hotspot.objects.get(level=PlaceLevel.BUILDING)
    assert building.place_key == f"b:{tree.building_1.pk}" and building.count == 3
    assert not Hotspot.objects.filter(level=PlaceLevel.ENTRANCE).exists()
    assert Hotspot.objects.get(level=PlaceLevel.COMMUNITY).count == 4


def test_rules_are_data(lamp_hotspot, now):
    HotspotRules.objects.update(min_count=10)
    services.run_detection(now=now)
    assert not Hotspot.objects.exists()
    HotspotRules.objects.update(min_count=3, window_days=2)  # only the last two days count
    services.run_detection(now=now)
    assert not Hotspot.objects.filter(count__gte=3).exists()


@pytest.mark.parametrize("state", ["withdrawn"])
def test_withdrawn_requests_are_left_out(tree, now, state):
    for text in LAMP[:3]:
        make_request(tree.entrance_a, text)
    from linjialin.service_requests.models import ServiceRequest

    ServiceRequest.objects.filter(pk=ServiceRequest.objects.first().pk).update(state=state)
    services.run_detection(now=now)
    assert not Hotspot.objects.exists()


LAMP_WORDS = (
    ["楼道灯", "声控灯", "走廊灯", "照明灯", "楼梯灯", "过道灯", "应急灯"],
    ["坏了", "不亮", "闪烁", "灭了", "损坏", "失灵", "故障"],
    ["晚上很黑", "看不见路", "老人摔倒", "黑漆漆", "摸黑上楼", "夜里危险", "没有照明"],
)
CLUTTER_WORDS = (
    ["杂物", "纸箱", "旧家具", "自行车", "花盆", "废品", "旧床垫"],
    ["堆放", "堆满", "占用", "乱放", "囤积", "摆放", "堆积"],
    ["堵塞通道", "影响通行", "消防隐患", "无法通过", "挡住楼梯", "占道", "难以行走"],
)


def test_large_groups_use_the_category_pairs_with_the_same_result():
    """A group of 300 distinct texts or more takes its pairs from the category's pair list (computed
    once); its components are the same as comparing the group's texts directly."""
    lamp = [a + b + c for a in LAMP_WORDS[0] for b in LAMP_WORDS[1] for c in LAMP_WORDS[2]]
    clutter = [a + b + c for a in CLUTTER_WORDS[0] for b in CLUTTER_WORDS[1] for c in CLUTTER_WORDS[2]]
    big = rows(lamp + clutter, place="big")
    small = rows(lamp[:20] + clutter[:10], place="small")
    for i, r in enumerate(small):
        r.id = f"small-{i}"
    found = detection.detect(big + small, T0, detection.Settings(similarity=0.16, min_count=3))
    assert sorted(f.count for f in found if f.place.key == "big") == [343, 343]
    assert sorted(f.count for f in found if f.place.key == "small") == [10, 20]
    positions, matrix = detection.vectorise(lamp + clutter)
    unique = np.arange(matrix.shape[0])
    direct = detection.components(matrix, 0.16)
    via_pairs = detection._CategoryEdges(matrix, {"c": set(unique.tolist())}, 0.16).labels("c", unique)
    assert (direct[:343] == direct[0]).all() and (direct[343:] == direct[343]).all()
    assert ((via_pairs == via_pairs[0]) == (direct == direct[0])).all()
