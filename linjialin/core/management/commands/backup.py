"""`linjialin backup [PATH]`: a consistent copy of the whole database, taken while the site runs."""

from django.core.management.base import BaseCommand, CommandError

from linjialin.core import audit, backups


class Command(BaseCommand):
    help = (
        "Back up the database to PATH (default var/backups/linjialin-<time>.sqlite3 or .dump): "
        "SQLite's online backup API, or pg_dump -Fc on PostgreSQL."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", help="the new backup file (must not exist)")

    def handle(self, *args, path=None, **options):
        try:
            result = backups.backup(path)
        except backups.BackupError as e:
            raise CommandError(str(e)) from None
        audit.record(
            "system.backup_created",
            actor_name="linjialin backup",
            object_type="system.database",
            after={"file": result.path.name, "engine": result.engine, "bytes": result.size},
        )
        self.stdout.write(f"{result.path} ({result.engine}, {result.size} bytes)")
