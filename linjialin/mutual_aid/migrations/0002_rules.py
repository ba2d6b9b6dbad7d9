"""Seed the one AidRules row (the model defaults) so the admin can edit it."""

from django.db import migrations


def seed(apps, schema_editor):
    rules = apps.get_model("mutual_aid", "AidRules")
    if not rules.objects.exists():
        rules.objects.create()


class Migration(migrations.Migration):
    dependencies = [("mutual_aid", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
