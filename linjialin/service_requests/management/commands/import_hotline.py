"""`manage.py import_hotline FILE --actor MOBILE [--dry-run]` | `import_hotline --template out.xlsx`."""

from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from linjialin.service_requests import hotline


class Command(BaseCommand):
    help = (
        "Import hotline (12345) work orders from an .xlsx or .csv file: the whole file is checked first, "
        "then all new orders are written in one transaction; orders imported before are left as they are."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="the .xlsx or .csv file")
        parser.add_argument(
            "--actor", metavar="MOBILE", help="mobile of the dispatcher who imports (their scope applies)"
        )
        parser.add_argument("--dry-run", action="store_true", help="check the whole file, write nothing")
        parser.add_argument("--template", metavar="OUT", help="write the template (.xlsx or .csv) and stop")

    def handle(self, *args, **opts):
        if opts["template"]:
            out = Path(opts["template"])
            fmt = out.suffix.lower().lstrip(".")
            if fmt not in ("xlsx", "csv"):
                raise CommandError("The template file must end in .xlsx or .csv")
            out.write_bytes(hotline.template_bytes(fmt))
            self.stdout.write(f"Template written to {out}")
            return
        if not opts["file"] or not opts["actor"]:
            raise CommandError("Usage: import_hotline FILE --actor MOBILE [--dry-run]  (or --template OUT)")
        path = Path(opts["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        from linjialin.accounts.models import User

        user = User.objects.filter(mobile=opts["actor"], is_active=True).first()
        if user is None:
            raise CommandError(f"No active user with mobile {opts['actor']}")
        try:
            with path.open("rb") as handle:
                report = hotline.import_file(user, handle, path.name, dry_run=opts["dry_run"])
        except PermissionDenied as exc:
            raise CommandError(str(exc) or "Only a dispatcher may import hotline work orders.") from None
        if report.errors:
            for e in report.errors:
                where = f"row {e.row}" if e.row else "file"
                column = f", {e.column}" if e.column else ""
                self.stderr.write(f"{where}{column}: {e.message}")
            raise CommandError(f"{len(report.errors)} problem(s) found in {path.name}; nothing was written.")
        if report.dry_run:
            self.stdout.write(f"{path.name}: {len(report.rows)} orders checked (dry run, nothing written)")
            return
        self.stdout.write(
            f"{path.name}: {len(report.created)} created, "
            f"{len(report.already)} already imported (left as they are)"
        )
