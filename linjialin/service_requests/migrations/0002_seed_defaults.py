"""Seeded defaults (DOMAIN.md §2), all editable in the admin. Marked as defaults in their note."""

from django.db import migrations

CATEGORIES = [
    # code, zh, en, handling level (4 entrance, 3 grid, 2 community, 1 subdistrict)
    ("corridor", "楼道环境与公共照明", "stairwell cleanliness and lighting", 4),
    ("neighbour", "邻里纠纷", "neighbour dispute", 4),
    ("noise", "噪音扰民", "noise", 4),
    ("property", "物业服务", "property management service", 3),
    ("leak", "房屋漏水与修缮", "leaks and repairs", 3),
    ("charging", "充电设施与飞线充电", "e-bike charging", 3),
    ("sanitation", "环境卫生与垃圾分类", "sanitation and waste sorting", 3),
    ("parking", "停车与交通", "parking and traffic", 2),
    ("utilities", "供水供电供气供暖", "water, power, gas, heating", 2),
    ("municipal", "市政设施与照明", "municipal facilities and street lighting", 1),
    ("safety", "治安与安全隐患", "public order and safety hazards", 2),
    ("elderly", "养老助残", "elderly and disability services", 2),
    ("policy", "政策咨询", "policy questions", 2),
    ("other", "其他", "other", 4),
]

# request_type, category code, urgency, accept (n, unit), contact, resolve, max extension, note
POLICIES = [
    ("", None, "", (24, "hours"), (24, "hours"), (7, "working_days"), (10, "working_days"),
     "default: first response 24 h, solved in 7 working days, extension ≤ 10 working days"),
    ("", None, "risk", (2, "hours"), (2, "hours"), (7, "working_days"), (10, "working_days"),
     "default: life or property at risk, respond within 2 h"),
    ("", "utilities", "", (24, "hours"), (24, "hours"), (24, "hours"), (3, "working_days"),
     "default: water, power, gas or heating outage fixed within 24 h"),
    ("report", None, "", (24, "hours"), (24, "hours"), (15, "working_days"), (10, "working_days"),
     "default: complex matters (reports) solved in 15 working days"),
]


def seed(apps, schema_editor):
    Category = apps.get_model("service_requests", "Category")
    TimeLimitPolicy = apps.get_model("service_requests", "TimeLimitPolicy")
    RequestRules = apps.get_model("service_requests", "RequestRules")
    for code, zh, en, level in CATEGORIES:
        Category.objects.update_or_create(code=code, defaults={"name_zh": zh, "name_en": en, "level": level})
    for rtype, cat, urgency, accept, contact, resolve, ext, note in POLICIES:
        TimeLimitPolicy.objects.create(
            request_type=rtype, category=Category.objects.get(code=cat) if cat else None, urgency=urgency,
            accept_amount=accept[0], accept_unit=accept[1], contact_amount=contact[0], contact_unit=contact[1],
            resolve_amount=resolve[0], resolve_unit=resolve[1], max_extension_amount=ext[0],
            max_extension_unit=ext[1], note=note,
        )
    RequestRules.objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("service_requests", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
