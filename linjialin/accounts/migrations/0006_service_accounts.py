"""User.is_service_account: the account of an integration, which holds API tokens and never signs in.

SQLite adds a NOT NULL column by rebuilding the table, which its triggers on accounts_user (migration
0005, grants_version) do not survive: they are dropped before and created again after, on SQLite only
(PostgreSQL adds the column in place).
"""

import importlib

from django.db import migrations, models

grants_version = importlib.import_module("linjialin.accounts.migrations.0005_grants_version")


def _sqlite(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            for sql in statements:
                schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_grants_version"),
    ]

    operations = [
        migrations.RunPython(_sqlite(grants_version.SQLITE_DROP), _sqlite(grants_version.SQLITE)),
        migrations.AddField(
            model_name="user",
            name="is_service_account",
            field=models.BooleanField(default=False, verbose_name="service account"),
        ),
        migrations.RunPython(_sqlite(grants_version.SQLITE), _sqlite(grants_version.SQLITE_DROP)),
    ]
