"""Small admin-edited rule tables, cached per process for the submit path and the duplicate lookup: the
time-limit policies (with the parent field of each category that has one: a field's row applies to its
problems), the intake rules (RequestRules: the repeat window and similarity), the active
diversion rules with their keywords normalised and compiled (intake.py) and DuplicateRules.

Each table is read once and kept for a minute (core.cache.ProcessCache): a save or delete clears it,
other processes see an admin's change within the minute, and inside a transaction the rows are read
fresh, so an uncommitted (or rolled back) change never leaks into the cache.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from linjialin.core.cache import ProcessCache

from .models import Category, DiversionRule, DuplicateRules, RequestRules, TimeLimitPolicy

_cache = ProcessCache(
    "service_requests.policy_cache",
    TimeLimitPolicy,
    RequestRules,
    DiversionRule,
    DuplicateRules,
    Category,
    seconds=60,
)


def policies() -> list[TimeLimitPolicy]:
    return _cache.read("policies", lambda: list(TimeLimitPolicy.objects.order_by("pk")))


def category_parents() -> dict[int, int]:
    """{category id: its parent field's id} for the categories that have a parent."""
    return _cache.read(
        "category_parents",
        lambda: dict(Category.objects.filter(parent__isnull=False).values_list("pk", "parent_id")),
    )


def request_rules() -> RequestRules:
    """The RequestRules row (the model defaults when there is none). Read only: do not modify it."""
    return _cache.read("request_rules", lambda: RequestRules.objects.first() or RequestRules())


def duplicate_rules() -> DuplicateRules:
    """The DuplicateRules row (the model defaults when there is none). Read only: do not modify it."""
    return _cache.read("duplicate_rules", lambda: DuplicateRules.objects.first() or DuplicateRules())


def diversion_rules(load: Callable[[], Any]) -> Any:
    """The active diversion rules as intake.py prepares them (`load` reads and prepares them)."""
    return _cache.read("diversion_rules", load)


def clear_cache() -> None:
    _cache.clear()
