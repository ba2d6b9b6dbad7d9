"""`linjialin worker`: run queued tasks (django-tasks-db `db_worker`; SKIP LOCKED on PostgreSQL).

Run as many as you like, on as many machines as you like."""

from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand


class Command(DbWorkerCommand):
    help = "Run the task worker (all options of django-tasks-db's db_worker)."
