"""The seeded community-affairs taxonomy (issue 4 §1): two levels, bilingual, levels inherited."""

import pytest

from linjialin.service_requests.models import Category, HandlingLevel

ISSUE_FIELDS = [
    "物业服务", "环境卫生", "房屋漏水与修缮", "市政设施与照明", "停车与交通", "噪音扰民", "邻里纠纷",
    "充电设施与飞线充电", "垃圾分类", "绿化", "供水供电供气供暖", "治安与安全隐患", "养老助残", "政策咨询",
    "其他",
]  # fmt: skip


@pytest.mark.django_db
def test_every_field_of_the_issue_is_a_top_level_category_with_concrete_problems():
    tops = {c.name_zh: c for c in Category.objects.filter(parent__isnull=True)}
    assert set(ISSUE_FIELDS) <= set(tops)
    for name in ISSUE_FIELDS:
        if name != "其他":
            assert tops[name].children.count() >= 2, name
    assert all(c.name_en for c in Category.objects.all())


@pytest.mark.django_db
def test_a_problem_is_handled_where_its_field_is():
    light = Category.objects.get(code="corridor-light")
    assert light.parent.code == "corridor"
    assert light.level == light.parent.level == HandlingLevel.ENTRANCE and light.entrance_level
    assert (
        Category.objects.get(code="municipal-streetlight").level
        == Category.objects.get(code="municipal").level
    )
    # two levels only
    assert not Category.objects.filter(parent__parent__isnull=False).exists()


@pytest.mark.django_db
def test_a_problem_takes_its_fields_time_limits_unless_it_has_its_own():
    from linjialin.service_requests.models import TimeLimitPolicy
    from linjialin.service_requests.services import policy_for

    utilities = Category.objects.get(code="utilities")
    heating = Category.objects.get(code="utilities-heating")
    field_rows = TimeLimitPolicy.objects.filter(category=utilities, request_type="", urgency="")
    assert field_rows.exists()  # seeded: 24 h resolution for water, power, gas, heating
    assert policy_for("help", heating, "normal").pk == field_rows.get().pk
    own = TimeLimitPolicy.objects.create(category=heating, resolve_amount=12, resolve_unit="hours")
    assert policy_for("help", heating, "normal").pk == own.pk
    assert policy_for("help", Category.objects.get(code="utilities-gas"), "normal").pk == field_rows.get().pk
