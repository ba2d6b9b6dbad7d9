from django.db import migrations

# Seeded defaults; editable in the admin. Sensitive tags need a recorded consent source.
TAGS = [
    ("elderly_alone", "独居老人", "elderly living alone", True),
    ("disability", "残疾", "disability", True),
    ("serious_illness", "重病", "serious illness", True),
    ("pregnancy", "孕期", "pregnancy", True),
    ("under_14", "未满14周岁", "under 14", True),
    ("low_income", "低保/低收入", "low income", True),
    ("party_member", "党员", "party member", False),
    ("volunteer", "志愿者", "volunteer", False),
    ("veteran", "退役军人", "veteran", False),
    ("resident_rep", "居民代表", "resident representative", False),
]


def seed(apps, schema_editor):
    TagType = apps.get_model("places", "TagType")
    for code, zh, en, sensitive in TAGS:
        TagType.objects.update_or_create(code=code, defaults={"name_zh": zh, "name_en": en, "sensitive": sensitive})


class Migration(migrations.Migration):
    dependencies = [("places", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
