"""`linjialin <command>`: the project's own commands, plus every Django management command."""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linjialin.settings")
    argv = list(sys.argv if argv is None else argv)
    argv[0] = "linjialin"
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
