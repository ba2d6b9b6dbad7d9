"""Router tasks: the nightly retraining from this instance's history (scheduled by `linjialin beat`)."""

from __future__ import annotations

from django.tasks import task

from linjialin.core import beat


@task
def retrain_router() -> dict:
    """Train a new version on the handled history; it replaces the current one only if it scores at least
    as well on held-out history. Without enough history nothing is written. Safe to run twice."""
    from .services import train_from_history

    result = train_from_history(None)
    return {
        "version": result.version.pk if result.version else None,
        "promoted": result.promoted,
        "message": str(result.message),
    }


beat.register("routing_retrain", "40 1 * * *", retrain_router)  # nightly 01:40
