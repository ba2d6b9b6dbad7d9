"""Small admin-edited rule tables, cached per process for the submit path and the duplicate lookup: the
time-limit policies, the intake rules (RequestRules: the repeat window and similarity), the active
diversion rules with their keywords normalised and compiled (intake.py) and DuplicateRules.

Each table is read once and kept for CACHE_SECONDS. A save or delete in this process clears its cache
(also when its transaction commits); other processes (web workers, the worker) see an admin's change
within CACHE_SECONDS, like the working-day calendar (core.calendar). Inside a transaction the rows are
read fresh and not cached: a change not yet committed (or rolled back, as in tests) never leaks into
the cache.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import DiversionRule, DuplicateRules, RequestRules, TimeLimitPolicy

CACHE_SECONDS = 60

_lock = threading.Lock()
_cached: dict[str, tuple[float, Any]] = {}


def _in_transaction() -> bool:
    return connection.in_atomic_block


def _read(name: str, load: Callable[[], Any]) -> Any:
    if _in_transaction():
        return load()
    hit = _cached.get(name)
    now = time.monotonic()
    if hit is not None and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    value = load()
    with _lock:
        _cached[name] = (now, value)
    return value


def policies() -> list[TimeLimitPolicy]:
    return _read("policies", lambda: list(TimeLimitPolicy.objects.all()))


def request_rules() -> RequestRules:
    """The RequestRules row (the model defaults when there is none). Read only: do not modify it."""
    return _read("request_rules", lambda: RequestRules.objects.first() or RequestRules())


def duplicate_rules() -> DuplicateRules:
    """The DuplicateRules row (the model defaults when there is none). Read only: do not modify it."""
    return _read("duplicate_rules", lambda: DuplicateRules.objects.first() or DuplicateRules())


def diversion_rules(load: Callable[[], Any]) -> Any:
    """The active diversion rules as intake.py prepares them (`load` reads and prepares them)."""
    return _read("diversion_rules", load)


def clear_cache() -> None:
    with _lock:
        _cached.clear()


@receiver(post_save, sender=TimeLimitPolicy, dispatch_uid="service_requests.policy_cache.saved")
@receiver(post_delete, sender=TimeLimitPolicy, dispatch_uid="service_requests.policy_cache.deleted")
@receiver(post_save, sender=RequestRules, dispatch_uid="service_requests.policy_cache.rules_saved")
@receiver(post_delete, sender=RequestRules, dispatch_uid="service_requests.policy_cache.rules_deleted")
@receiver(post_save, sender=DiversionRule, dispatch_uid="service_requests.policy_cache.diversion_saved")
@receiver(post_delete, sender=DiversionRule, dispatch_uid="service_requests.policy_cache.diversion_deleted")
@receiver(post_save, sender=DuplicateRules, dispatch_uid="service_requests.policy_cache.duplicates_saved")
@receiver(post_delete, sender=DuplicateRules, dispatch_uid="service_requests.policy_cache.duplicates_deleted")
def _invalidate(sender, **kwargs):
    clear_cache()
    transaction.on_commit(clear_cache)  # a reader may have cached the old rows meanwhile
