"""`linjialin audit verify`: check the hash chain (links and keyed hashes) and the signed checkpoints
kept outside the database; print OK and a new checkpoint line to copy elsewhere, or the first event or
checkpoint that fails (exit 1)."""

import sys

from django.core.management.base import BaseCommand

from linjialin.core import audit_checkpoints


class Command(BaseCommand):
    help = "Audit trail tools."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        verify = sub.add_parser(
            "verify",
            help="check the chain and the checkpoints; exit 1 at the first event or checkpoint that fails",
        )
        verify.add_argument(
            "--checkpoint",
            action="append",
            default=[],
            metavar="LINE",
            help="a checkpoint line kept elsewhere (printed by an earlier verify); may be repeated",
        )
        verify.add_argument(
            "--since-checkpoint",
            action="store_true",
            help="walk only the events after the last checkpoint (the scheduled check); default: all",
        )

    def handle(self, *args, subcommand: str, **options):
        if subcommand == "verify":
            result = audit_checkpoints.check(
                since_checkpoint=options["since_checkpoint"], extra=options["checkpoint"]
            )
            if result.ok:
                self.stdout.write(result.message)
                self.stdout.write(f"checkpoint (keep a copy elsewhere): {result.checkpoint.line}")
                return
            self.stderr.write(result.message)
            sys.exit(1)
