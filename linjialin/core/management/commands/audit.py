"""`linjialin audit verify`: walk the hash chain and print OK or the first broken link."""

import sys

from django.core.management.base import BaseCommand

from linjialin.core.audit import verify


class Command(BaseCommand):
    help = "Audit trail tools."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sub.add_parser("verify", help="recompute the hash chain; exit 1 at the first broken link")

    def handle(self, *args, subcommand: str, **options):
        if subcommand == "verify":
            result = verify()
            if result.ok:
                self.stdout.write(f"OK: {result.checked} events")
                return
            self.stderr.write(f"BROKEN at event #{result.broken_seq}: {result.problem}")
            sys.exit(1)
