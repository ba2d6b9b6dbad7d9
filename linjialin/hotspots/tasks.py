"""Hotspot tasks run by the worker; detection is scheduled nightly by `linjialin beat`."""

from __future__ import annotations

from django.tasks import task

from linjialin.core import beat


@task
def detect_hotspots() -> dict:
    """Group, split and rank the requests (detection.py); store the board (services.run_detection)."""
    from .services import run_detection

    run = run_detection()
    return {"run": run.pk, "requests": run.requests_read, "hotspots": run.hotspots, "seconds": run.seconds}


beat.register("hotspots_detect", "40 1 * * *", detect_hotspots)  # nightly 01:40
