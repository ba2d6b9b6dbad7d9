"""Seed one keyword rule per concrete problem of the taxonomy (routing/seed.py) and the settings row."""

from django.db import migrations


def seed(apps, schema_editor):
    from linjialin.routing.seed import KEYWORDS

    Category = apps.get_model("service_requests", "Category")
    KeywordRule = apps.get_model("routing", "KeywordRule")
    RoutingRules = apps.get_model("routing", "RoutingRules")
    RoutingRules.objects.get_or_create(pk=1)
    by_code = {c.code: c for c in Category.objects.filter(code__in=KEYWORDS)}
    for code, words in KEYWORDS.items():
        if code in by_code and not KeywordRule.objects.filter(category=by_code[code]).exists():
            KeywordRule.objects.create(category=by_code[code], keywords="\n".join(words))


def unseed(apps, schema_editor):
    apps.get_model("routing", "KeywordRule").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("routing", "0001_initial"), ("service_requests", "0010_seed_taxonomy")]
    operations = [migrations.RunPython(seed, unseed)]
