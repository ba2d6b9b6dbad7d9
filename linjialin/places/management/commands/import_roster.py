"""`linjialin import-roster FILE --as MOBILE [--dry-run]` | `linjialin import-roster --template out.xlsx`."""

from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from linjialin.places import roster

PHASES = {"read": "reading", "check": "checking", "write": "writing"}


class Command(BaseCommand):
    help = (
        "Import places, households and residents from an .xlsx or .csv roster "
        "(the whole file is checked first; then all or nothing)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="the .xlsx or .csv file to import")
        parser.add_argument(
            "--as",
            dest="as_mobile",
            metavar="MOBILE",
            help="mobile number of the user who imports (their scope and permissions apply)",
        )
        parser.add_argument("--dry-run", action="store_true", help="check the whole file, write nothing")
        parser.add_argument(
            "--template", metavar="OUT", help="write the template (.xlsx or .csv) to OUT and stop"
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, **opts):
        if opts["template"]:
            out = Path(opts["template"])
            fmt = out.suffix.lower().lstrip(".")
            if fmt not in ("xlsx", "csv"):
                raise CommandError("The template file must end in .xlsx or .csv")
            out.write_bytes(roster.template_bytes(fmt))
            self.stdout.write(f"Template written to {out}")
            return
        if not opts["file"] or not opts["as_mobile"]:
            raise CommandError("Usage: import_roster FILE --as MOBILE [--dry-run]  (or --template OUT)")
        path = Path(opts["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        from linjialin.accounts.models import User

        user = User.objects.filter(mobile=opts["as_mobile"], is_active=True).first()
        if user is None:
            raise CommandError(f"No active user with mobile {opts['as_mobile']}")
        bars: dict[str, tqdm] = {}

        def progress(phase: str, done: int, total: int) -> None:
            if opts["no_progress"] or opts["verbosity"] == 0:
                return
            bar = bars.get(phase)
            if bar is None:
                for other in bars.values():
                    other.close()
                bar = bars[phase] = tqdm(
                    total=total or None,
                    desc=PHASES.get(phase, phase),
                    unit="row",
                    file=self.stderr._out,
                    dynamic_ncols=True,
                )
            if total and bar.total != total:
                bar.total = total
            bar.update(done - bar.n)

        try:
            with path.open("rb") as handle:
                report = roster.import_roster(
                    user, handle, filename=path.name, dry_run=opts["dry_run"], progress=progress
                )
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from None
        finally:
            for bar in bars.values():
                bar.close()
        if report.errors:
            for e in report.errors:
                where = f"row {e.row}" if e.row else "file"
                column = f", {e.column}" if e.column else ""
                self.stderr.write(f"{where}{column}: {e.message}")
            raise CommandError(f"{len(report.errors)} problem(s) found in {path.name}; nothing was written.")
        self.stdout.write(
            f"{path.name}: {report.rows} rows "
            + ("checked (dry run, nothing written)" if report.dry_run else "imported")
        )
        self.stdout.write(f"{'kind':<12}{'created':>10}{'updated':>10}{'unchanged':>11}")
        for key, _label, counts in report.table():
            self.stdout.write(f"{key:<12}{counts.created:>10}{counts.updated:>10}{counts.unchanged:>11}")
        if report.ignored_columns:
            self.stdout.write("ignored columns: " + ", ".join(report.ignored_columns))
