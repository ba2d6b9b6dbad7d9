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


@task
def sample_callbacks() -> int:
    """Last month's sample of rated requests for a phone call-back (callbacks.py). A month is sampled
    once, so the daily run only acts on the first run of a month (or after the beat was down)."""
    from .callbacks import sample_month

    return sample_month()


beat.register("requests_callback_sample", "20 7 * * *", sample_callbacks)
