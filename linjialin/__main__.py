"""`linjialin <command>`: the project's own commands, plus every Django management command.

    linjialin up                 web + worker + beat (runs migrate and collectstatic first)
    linjialin web [--bind H:P]   gunicorn (gthread) + whitenoise, DEBUG off
    linjialin worker             run queued tasks (django-tasks-db db_worker)
    linjialin beat               enqueue scheduled jobs on time
    linjialin demo               load the demo subdistrict
    linjialin import-roster F    import places, households and residents
    linjialin audit verify       check the audit hash chain
    linjialin backup [PATH]      consistent copy of the database (SQLite backup API / pg_dump -Fc)
    linjialin restore PATH       load a backup into the configured (fresh) database, then verify
    linjialin <django command>   migrate, createsuperuser, shell, check --deploy, …

Dashes in a command name map to Django's underscores (`import-roster` → `import_roster`).
"""

import os
import sys

# Commands that serve production traffic never run with DEBUG on, whatever the environment says.
PRODUCTION_COMMANDS = {"up", "web"}


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    argv[0] = "linjialin"
    if len(argv) > 1 and not argv[1].startswith("-"):
        argv[1] = argv[1].replace("-", "_")
        if argv[1] in PRODUCTION_COMMANDS:
            os.environ["DEBUG"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linjialin.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
