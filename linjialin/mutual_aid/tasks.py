"""Mutual aid tasks run by the worker; the sweep (reach widening and expiry of posts) is scheduled every
minute by `linjialin beat`."""

from __future__ import annotations

from django.tasks import task

from linjialin.core import beat


@task
def sweep_mutual_aid() -> dict:
    """Open posts nobody answered reach one level further; open posts past their time expire
    (services.posts.sweep). Safe to run twice."""
    from .services.posts import sweep

    return sweep()


beat.register("mutual_aid_sweep", "* * * * *", sweep_mutual_aid)
