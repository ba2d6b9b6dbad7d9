"""The time-limit policies (a handful of admin-edited rows), cached per process for the submit path.

`policies()` reads TimeLimitPolicy once and keeps the rows for CACHE_SECONDS. A save or delete in this
process clears the cache (also when its transaction commits); other processes (web workers, the
worker) see an admin's change within CACHE_SECONDS, like the working-day calendar (core.calendar).
Inside a transaction the rows are read fresh and not cached: a change not yet committed (or rolled
back, as in tests) never leaks into the cache.
"""

from __future__ import annotations

import threading
import time

from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import TimeLimitPolicy

CACHE_SECONDS = 60

_lock = threading.Lock()
_cached: tuple[float, list[TimeLimitPolicy]] | None = None


def _in_transaction() -> bool:
    return connection.in_atomic_block


def policies() -> list[TimeLimitPolicy]:
    global _cached
    if _in_transaction():
        return list(TimeLimitPolicy.objects.all())
    hit = _cached
    now = time.monotonic()
    if hit is not None and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    rows = list(TimeLimitPolicy.objects.all())
    with _lock:
        _cached = (now, rows)
    return rows


def clear_cache() -> None:
    global _cached
    with _lock:
        _cached = None


@receiver(post_save, sender=TimeLimitPolicy, dispatch_uid="service_requests.policy_cache.saved")
@receiver(post_delete, sender=TimeLimitPolicy, dispatch_uid="service_requests.policy_cache.deleted")
def _invalidate(sender, **kwargs):
    clear_cache()
    transaction.on_commit(clear_cache)  # a reader may have cached the old rows meanwhile
