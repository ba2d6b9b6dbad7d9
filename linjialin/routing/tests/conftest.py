"""Fixture history for the router tests: handled requests in three categories, texts varied by
templates (no real data)."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

import pytest

from linjialin.service_requests.models import Category, ServiceRequest, State

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
_numbers = itertools.count(1)

PHRASES = {
    "corridor-light": [
        "楼道的灯不亮了",
        "三楼楼梯间一片黑",
        "单元里声控灯坏了好几天",
        "晚上上楼看不见,灯坏了",
    ],
    "municipal-streetlight": [
        "小区外面马路上的路灯不亮",
        "大街路灯坏了一排",
        "路口那根灯杆晚上黑着",
        "主路照明没了",
    ],
    "noise-renovation": [
        "楼上装修电钻声太吵",
        "邻居装修砸墙中午不停",
        "装修噪音影响孩子休息",
        "周末一早就在钻墙",
    ],
}
PREFIXES = ["", "你好,", "麻烦看一下,", "反映个问题:", "急!"]
SUFFIXES = ["", "谢谢", "请尽快处理", "已经好几天了", "联系电话13812345678"]


def history_texts(n_per_class: int, seed: int = 7) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    rows = []
    for code, phrases in PHRASES.items():
        for _ in range(n_per_class):
            rows.append((rng.choice(PREFIXES) + rng.choice(phrases) + rng.choice(SUFFIXES), code))
    rng.shuffle(rows)
    return rows


def make_request(place, text: str, code: str | None, *, state=State.CLOSED, at=None) -> ServiceRequest:
    n = next(_numbers)
    return ServiceRequest.objects.create(
        number=f"RT{n:06d}",
        request_type="help",
        place=place,
        path=place.path,
        description=text,
        category=Category.objects.get(code=code) if code else None,
        state=state,
        submitted_at=at or T0 + timedelta(hours=n),
    )


@pytest.fixture
def history(tree):
    """60 handled requests, 20 per category, oldest first."""
    return [
        make_request(tree.entrance_a, text, code, at=T0 + timedelta(hours=i))
        for i, (text, code) in enumerate(history_texts(20))
    ]
