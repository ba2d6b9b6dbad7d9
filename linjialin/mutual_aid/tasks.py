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


@task
def sweep_care_visits() -> dict:
    """Care visits past their planned day: the visitor and the household's 楼门长 and 网格员 are told
    once each (services.care.sweep_care). Safe to run twice."""
    from .services.care import sweep_care

    return sweep_care()


beat.register("mutual_aid_care_sweep", "30 7 * * *", sweep_care_visits)  # every morning at 07:30
