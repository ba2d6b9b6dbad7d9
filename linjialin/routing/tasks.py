"""Router tasks: the nightly retraining from this instance's history (scheduled by `linjialin beat`)."""

from __future__ import annotations

from django.tasks import task

from linjialin.core import beat


@task
def retrain_router(user_id: int | None = None) -> dict:
    """Train a new version on the handled history; it replaces the current one only if it scores at least
    as well on held-out history. Without enough history nothing is written. Safe to run twice.
    `user_id`: who asked for it (the admin's button), recorded as the actor; None: the nightly run."""
    from django.contrib.auth import get_user_model

    from .services import train_from_history

    actor = get_user_model().objects.filter(pk=user_id, is_active=True).first() if user_id else None
    result = train_from_history(actor)
    return {
        "version": result.version.pk if result.version else None,
        "promoted": result.promoted,
        "message": str(result.message),
    }


beat.register("routing_retrain", "40 1 * * *", retrain_router)  # nightly 01:40
