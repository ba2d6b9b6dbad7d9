"""`linjialin restore PATH [--replace]`: load a backup into the configured database, then check it."""

import sys

from django.core.management.base import BaseCommand, CommandError

from linjialin.core import audit, backups


class Command(BaseCommand):
    help = (
        "Restore a backup written by `linjialin backup` into the configured database (DATABASE_URL), "
        "then verify the audit trail. Refuses a database that already has tables unless --replace."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the backup file")
        parser.add_argument(
            "--replace", action="store_true", help="overwrite a database that already holds data"
        )

    def handle(self, *args, path: str, replace: bool = False, **options):
        try:
            backups.restore(path, replace=replace)
        except backups.BackupError as e:
            raise CommandError(str(e)) from None
        counts = backups.table_counts()
        result = audit.verify()
        # recorded after the check, so the check sees the chain exactly as it was backed up
        audit.record(
            "system.restored",
            actor_name="linjialin restore",
            object_type="system.database",
            after={"file": str(path).rsplit("/", 1)[-1], "tables": len(counts), "audit_ok": result.ok},
        )
        self.stdout.write(f"restored {len(counts)} tables, {sum(counts.values())} rows")
        if result.ok:
            self.stdout.write(f"audit verify OK: {result.checked} events")
            return
        self.stderr.write(f"audit verify BROKEN at event #{result.broken_seq}: {result.problem}")
        sys.exit(1)
