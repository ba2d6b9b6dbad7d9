"""Seed the one MediationRules row (the model defaults: one month, the court's 30/3/15+10 days,
follow-ups at 7, 30 and 90 days) so the admin can edit it."""

from django.db import migrations


def seed(apps, schema_editor):
    rules = apps.get_model("mediation", "MediationRules")
    if not rules.objects.exists():
        rules.objects.create()


class Migration(migrations.Migration):
    dependencies = [("mediation", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
