"""Request tasks run by the worker; the deadline sweep is scheduled every minute by `linjialin beat`."""

from __future__ import annotations

from django.tasks import task

from linjialin.core import beat


@task
def sweep_deadlines() -> dict:
    """Reminders, 督办 and automatic escalation (service_requests/sweep.py). Safe to run twice."""
    from .sweep import sweep

    return sweep().as_dict()


beat.register("requests_sweep", "* * * * *", sweep_deadlines)
