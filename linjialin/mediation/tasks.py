"""Mediation tasks run by the worker; the sweep (overdue cases and follow-ups) is scheduled every 15
minutes by `linjialin beat`."""

from __future__ import annotations

from django.tasks import task

from linjialin.core import beat


@task
def sweep_mediation() -> dict:
    """Cases past their limit and follow-ups past their grace days: flagged and told once each
    (services.cases.sweep). Safe to run twice."""
    from .services.cases import sweep

    return sweep()


beat.register("mediation_sweep", "*/15 * * * *", sweep_mediation)
