"""Small admin-edited tables (rules, policies, keyword lists) kept per process for a short time.

    rules = ProcessCache("service_requests.rules", TimeLimitPolicy, RequestRules, seconds=60)
    rules.read("policies", lambda: list(TimeLimitPolicy.objects.all()))

Each named value is loaded once and kept for `seconds`. A save or delete of any of the watched models in
this process clears the cache (again when its transaction commits: a reader may have cached the old rows
meanwhile); other processes (web workers, the task worker) see an admin's change within `seconds`, like
the working-day calendar. Inside a transaction the value is loaded fresh and not kept, so a change not yet
committed (or rolled back, as in tests) never leaks into the cache. Values are shared between threads:
treat them as read-only.

core knows no domain app: the watched models are passed in by the app that owns them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save


class ProcessCache:
    def __init__(self, name: str, *models, seconds: float = 60):
        self.name = name
        self.seconds = seconds
        self._lock = threading.Lock()
        self._values: dict[str, tuple[float, Any]] = {}
        for model in models:
            label = model._meta.label_lower
            post_save.connect(self._changed, sender=model, weak=False, dispatch_uid=f"{name}:{label}:saved")
            post_delete.connect(
                self._changed, sender=model, weak=False, dispatch_uid=f"{name}:{label}:deleted"
            )

    def read(self, key: str, load: Callable[[], Any]) -> Any:
        if self.in_transaction():
            return load()
        now = time.monotonic()
        hit = self._values.get(key)
        if hit is not None and now - hit[0] < self.seconds:
            return hit[1]
        value = load()
        with self._lock:
            self._values[key] = (now, value)
        return value

    @staticmethod
    def in_transaction() -> bool:
        return connection.in_atomic_block

    def clear(self) -> None:
        with self._lock:
            self._values.clear()

    def _changed(self, sender, **kwargs) -> None:
        self.clear()
        transaction.on_commit(self.clear)
