"""The community-affairs taxonomy (issue 4 §1): top-level fields and their concrete problems, with
bilingual names. Data: edit in the admin. Existing top-level codes keep their meaning; 环境卫生 is split
from 垃圾分类, 绿化 is added. A sub-category takes its parent's handling level unless given one."""

from django.db import migrations

# top-level code → (Chinese, English, level or None to keep, [(sub code, Chinese, English, level or None)])
TAXONOMY = {
    "corridor": (
        "楼道环境与公共照明",
        "stairwells and common lighting",
        None,
        [
            ("corridor-light", "楼道灯不亮", "stairwell light out", None),
            ("corridor-clutter", "楼道堆物", "things piled in the stairwell", None),
            ("corridor-clean", "楼道卫生", "stairwell cleanliness", None),
            ("corridor-door", "单元门与门禁", "entrance door and access control", None),
            ("corridor-ads", "楼道小广告", "flyers and ads in the stairwell", None),
        ],
    ),
    "property": (
        "物业服务",
        "property management service",
        None,
        [
            ("property-attitude", "物业服务态度", "property staff attitude", None),
            ("property-fee", "物业收费", "property fees", None),
            ("property-lift", "电梯故障", "lift out of order", None),
            ("property-repair", "公共设施报修", "repair of common facilities", None),
            ("property-security", "门岗与秩序维护", "gate and order keeping", None),
        ],
    ),
    "sanitation": (
        "环境卫生",
        "sanitation",
        None,
        [
            ("sanitation-collection", "垃圾清运不及时", "rubbish not collected in time", None),
            ("sanitation-water", "路面积水", "standing water", None),
            ("sanitation-pests", "蚊虫鼠害", "pests", None),
            ("sanitation-public", "公共区域脏乱", "dirty public areas", None),
        ],
    ),
    "leak": (
        "房屋漏水与修缮",
        "leaks and building repairs",
        None,
        [
            ("leak-roof", "屋顶漏水", "roof leak", None),
            ("leak-pipe", "管道漏水", "leaking pipes", None),
            ("leak-wall", "外墙脱落与墙体开裂", "falling render and cracked walls", None),
            ("leak-window", "公共窗户破损", "broken common windows", None),
        ],
    ),
    "municipal": (
        "市政设施与照明",
        "municipal facilities and street lighting",
        None,
        [
            ("municipal-streetlight", "路灯不亮", "street light out", None),
            ("municipal-road", "道路破损", "damaged road or pavement", None),
            ("municipal-manhole", "井盖缺损", "missing or broken manhole cover", None),
            ("municipal-drain", "下水道堵塞", "blocked drain", None),
        ],
    ),
    "parking": (
        "停车与交通",
        "parking and traffic",
        None,
        [
            ("parking-illegal", "乱停车", "illegal parking", None),
            ("parking-firelane", "占用消防通道", "fire lane blocked", None),
            ("parking-fee", "停车收费与车位", "parking fees and spaces", None),
            ("parking-signals", "交通设施", "traffic signs and signals", None),
        ],
    ),
    "noise": (
        "噪音扰民",
        "noise",
        None,
        [
            ("noise-renovation", "装修噪音", "renovation noise", None),
            ("noise-shop", "商铺与广场舞噪音", "shops and square dancing", None),
            ("noise-night", "夜间施工", "construction at night", None),
            ("noise-neighbour", "邻居噪音", "noisy neighbours", None),
        ],
    ),
    "neighbour": (
        "邻里纠纷",
        "neighbour disputes",
        None,
        [
            ("neighbour-leak", "楼上漏水纠纷", "leak from the flat above", None),
            ("neighbour-pets", "宠物扰民", "pets", None),
            ("neighbour-space", "占用公共空间", "common space taken over", None),
        ],
    ),
    "charging": (
        "充电设施与飞线充电",
        "e-bike charging",
        None,
        [
            ("charging-wires", "飞线充电", "charging with wires from windows", None),
            ("charging-points", "充电桩不足或损坏", "too few or broken charging points", None),
            ("charging-indoors", "电动车进楼道", "e-bikes kept in stairwells", None),
        ],
    ),
    "waste": (
        "垃圾分类",
        "waste sorting",
        3,
        [
            ("waste-points", "分类投放点", "sorting points", None),
            ("waste-bulky", "大件垃圾与装修垃圾", "bulky and renovation waste", None),
            ("waste-guidance", "分类指导", "sorting guidance", None),
        ],
    ),
    "greening": (
        "绿化",
        "green spaces",
        3,
        [
            ("greening-trees", "树木修剪", "tree trimming", None),
            ("greening-taken", "绿地被占或毁坏", "green space taken over or damaged", None),
        ],
    ),
    "utilities": (
        "供水供电供气供暖",
        "water, power, gas, heating",
        None,
        [
            ("utilities-water", "停水与水质", "water cuts and quality", None),
            ("utilities-power", "停电", "power cuts", None),
            ("utilities-gas", "燃气", "gas", None),
            ("utilities-heating", "供暖不热", "heating not warm", None),
        ],
    ),
    "safety": (
        "治安与安全隐患",
        "public order and safety hazards",
        None,
        [
            ("safety-fire", "消防隐患", "fire hazards", None),
            ("safety-falling", "高空抛物与坠物", "things thrown or falling from height", None),
            ("safety-suspicious", "可疑人员与治安", "suspicious persons and order", None),
        ],
    ),
    "elderly": (
        "养老助残",
        "elderly and disability services",
        None,
        [
            ("elderly-meals", "助餐", "meals", None),
            ("elderly-care", "助医与照护", "medical help and care", None),
            ("elderly-access", "无障碍设施", "accessibility", None),
        ],
    ),
    "policy": (
        "政策咨询",
        "policy questions",
        None,
        [
            ("policy-social", "社保与就业", "social insurance and jobs", None),
            ("policy-household", "户籍与证件", "household registration and papers", None),
            ("policy-housing", "住房政策", "housing policy", None),
        ],
    ),
    "other": ("其他", "other", None, []),
}


def seed(apps, schema_editor):
    Category = apps.get_model("service_requests", "Category")
    for code, (zh, en, level, subs) in TAXONOMY.items():
        defaults = {"name_zh": zh, "name_en": en}
        if level is not None:
            defaults["level"] = level
        parent, created = Category.objects.get_or_create(
            code=code, defaults={**defaults, "level": level or 4}
        )
        if not created:
            Category.objects.filter(pk=parent.pk).update(**defaults)
            parent.refresh_from_db()
        for sub_code, sub_zh, sub_en, sub_level in subs:
            Category.objects.update_or_create(
                code=sub_code,
                defaults={
                    "parent": parent,
                    "name_zh": sub_zh,
                    "name_en": sub_en,
                    "level": sub_level if sub_level is not None else parent.level,
                    "unit": parent.unit,
                },
            )


def unseed(apps, schema_editor):
    Category = apps.get_model("service_requests", "Category")
    Category.objects.filter(parent__isnull=False, servicerequest__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("service_requests", "0009_category_tree")]
    operations = [migrations.RunPython(seed, unseed)]
