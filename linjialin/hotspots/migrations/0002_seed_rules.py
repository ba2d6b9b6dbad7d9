"""Seed the hotspot rules (one row with the model defaults; edit it in the admin)."""

from django.db import migrations


def seed(apps, schema_editor):
    HotspotRules = apps.get_model("hotspots", "HotspotRules")
    if not HotspotRules.objects.exists():
        HotspotRules.objects.create()


class Migration(migrations.Migration):
    dependencies = [("hotspots", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
