"""User.grants_version: a number the database raises whenever one of the user's grants is written.

accounts/scope.py keeps each user's current grants per process under (user, date joined, version, day),
so a grant given, ended, edited or deleted by any path (the services, the Django admin, a bulk insert,
plain SQL) takes effect at the user's next request in every process. Triggers on the grants table raise
the number; another on the user table keeps it from going down (a full save of a User read before the
change would otherwise write the old number back).
"""

from django.db import migrations, models

SQLITE = [
    """CREATE TRIGGER accounts_grants_version_ins AFTER INSERT ON accounts_rolegrant BEGIN
         UPDATE accounts_user SET grants_version = grants_version + 1 WHERE id = NEW.user_id; END""",
    """CREATE TRIGGER accounts_grants_version_upd AFTER UPDATE ON accounts_rolegrant BEGIN
         UPDATE accounts_user SET grants_version = grants_version + 1 WHERE id IN (OLD.user_id, NEW.user_id); END""",
    """CREATE TRIGGER accounts_grants_version_del AFTER DELETE ON accounts_rolegrant BEGIN
         UPDATE accounts_user SET grants_version = grants_version + 1 WHERE id = OLD.user_id; END""",
    # SQLite cannot change NEW: put the old number back (recursive triggers are off, so this fires once)
    """CREATE TRIGGER accounts_grants_version_keep AFTER UPDATE OF grants_version ON accounts_user
         WHEN NEW.grants_version < OLD.grants_version BEGIN
         UPDATE accounts_user SET grants_version = OLD.grants_version WHERE id = NEW.id; END""",
]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS accounts_grants_version_{n}" for n in ("ins", "upd", "del", "keep")]

POSTGRESQL = [
    """CREATE FUNCTION accounts_grants_version_bump() RETURNS trigger AS $$
       BEGIN
         IF TG_OP <> 'INSERT' THEN
           UPDATE accounts_user SET grants_version = grants_version + 1 WHERE id = OLD.user_id;
         END IF;
         IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.user_id <> OLD.user_id) THEN
           UPDATE accounts_user SET grants_version = grants_version + 1 WHERE id = NEW.user_id;
         END IF;
         RETURN NULL;
       END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER accounts_grants_version AFTER INSERT OR UPDATE OR DELETE ON accounts_rolegrant
         FOR EACH ROW EXECUTE FUNCTION accounts_grants_version_bump()""",
    """CREATE FUNCTION accounts_grants_version_keep() RETURNS trigger AS $$
       BEGIN
         IF NEW.grants_version < OLD.grants_version THEN NEW.grants_version := OLD.grants_version; END IF;
         RETURN NEW;
       END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER accounts_grants_version_keep BEFORE UPDATE OF grants_version ON accounts_user
         FOR EACH ROW EXECUTE FUNCTION accounts_grants_version_keep()""",
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS accounts_grants_version ON accounts_rolegrant",
    "DROP FUNCTION IF EXISTS accounts_grants_version_bump()",
    "DROP TRIGGER IF EXISTS accounts_grants_version_keep ON accounts_user",
    "DROP FUNCTION IF EXISTS accounts_grants_version_keep()",
]


def _run(statements: dict):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor not in statements:
            raise RuntimeError(f"no grants_version triggers for {vendor}: add them to this migration")
        for sql in statements[vendor]:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_alter_rolegrant_role")]

    operations = [
        migrations.AddField(
            model_name="user",
            name="grants_version",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRESQL}),
            _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}),
        ),
    ]
