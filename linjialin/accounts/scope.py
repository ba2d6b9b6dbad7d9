"""Resolving a user's Scope for one permission from their current grants (cached per user object, and the
grants also per process: current_grants)."""

from __future__ import annotations

import threading
import time

from django.db import connection
from django.utils import timezone
from django.utils.functional import LazyObject, empty

from linjialin.core import rows
from linjialin.core.scope import Scope

from .roles import ROLES, Role


def _own(user):
    """The User whose __dict__ holds the per-user caches: behind request.user's lazy wrapper, the user
    it wraps (or the wrapper and the user would each read the grants). Wrappers may nest: django-otp's
    middleware wraps the authentication middleware's."""
    while isinstance(user, LazyObject):
        if user._wrapped is empty:
            user._setup()
        user = user._wrapped
    return user


def scope_for_user(user, perm: str) -> Scope:
    if not user.is_active:
        return Scope.nowhere()
    cache = _own(user).__dict__.setdefault("_scope_cache", {})
    if perm not in cache:
        cache[perm] = _compute(user, perm)
    return cache[perm]


def clear_cache(user) -> None:
    """Forget what this user object knows of its grants, after a change to them in this process: its
    grants_version predates the change, so from now on it reads its grants from the database."""
    user = _own(user)
    user.__dict__.pop("_scope_cache", None)
    user.__dict__.pop("_current_grants", None)
    user.__dict__["_grants_version_stale"] = True


# Each user's current grants (with their places), kept per process for the users' next requests: the rows
# are read on nearly every request. The key holds User.grants_version, which the database raises in the
# same transaction as any write to the user's grants (accounts migration 0005), so a grant given or ended
# takes effect at the user's next request in every process; the day, as grants start and end by date;
# and the date joined, so that a user id used again (a test database) is another key. Rows are kept at
# most SHARED_SECONDS (a place renamed shows within that time, as with core.cache) and shared between
# threads: read-only.
SHARED_SECONDS = 60
SHARED_MAX = 10_000  # users; beyond that the cache starts again empty
_shared: dict[tuple, tuple[float, list]] = {}
_shared_lock = threading.Lock()


def clear_shared() -> None:
    with _shared_lock:
        _shared.clear()


def current_grants(user) -> list:
    user = _own(user)
    if "_current_grants" not in user.__dict__:
        today = timezone.localdate()
        if connection.in_atomic_block or user.__dict__.get("_grants_version_stale") or user.pk is None:
            grants = _read_grants(user, today)  # a change not yet committed must not be kept
        else:
            key = (user.pk, user.date_joined, user.grants_version, today)
            now = time.monotonic()
            hit = _shared.get(key)
            if hit is not None and now - hit[0] < SHARED_SECONDS:
                grants = hit[1]
            else:
                grants = _read_grants(user, today)
                with _shared_lock:
                    if len(_shared) >= SHARED_MAX:
                        _shared.clear()
                    _shared[key] = (now, grants)
        user.__dict__["_current_grants"] = grants
    return user.__dict__["_current_grants"]


def _read_grants(user, today) -> list:
    from .models import RoleGrant

    # RoleGrant.objects.current(today).filter(user=user).select_related("place__parent", "building"), in
    # RoleGrant's order, as one plain statement (core/rows.py)
    return rows.fetch(
        RoleGrant,
        "t.user_id = %s AND t.valid_from <= %s AND (t.valid_to IS NULL OR t.valid_to >= %s)",
        [user.pk, today, today],
        related=("place", "building", "place__parent"),
        order_by="t.path, t.role, t.valid_from DESC",
    )


def granted_place(user, place_id):
    """The place with this id when it is a place of the user's current grants or the parent of one (a
    resident's flat or its entrance), as read with the grants (no query of its own); otherwise None.
    Says nothing about what the user may do there."""
    for grant in current_grants(user):
        if grant.place_id is None:
            continue
        for place in (grant.place, grant.place.parent):  # the parent came with the grants (place__parent)
            if place is not None and place.pk == place_id:
                return place
    return None


def _grant_prefixes(grant) -> list[str]:
    """Where one grant reaches: its place, a 楼长's building entrances, or a 层长's floor."""
    from linjialin.places.selectors import building_entrance_paths, floor_household_paths

    if grant.building_id:
        return building_entrance_paths(grant.building_id)
    if grant.floor is not None:
        return floor_household_paths(grant.place, grant.floor)
    return [grant.path]


def _compute(user, perm: str) -> Scope:
    prefixes: list[str] = []
    for grant in current_grants(user):
        if perm not in ROLES[Role(grant.role)].perms:
            continue
        if grant.role == Role.SYSTEM_ADMIN:
            return Scope(everywhere=True)
        prefixes += _grant_prefixes(grant)
    return Scope.nowhere() | Scope(prefixes=tuple(prefixes))


# The handling level of a department (区住建委, a property company …): below the subdistrict in the
# 接诉即办 chain. Place levels are 1 (subdistrict) … 4 (entrance).
DEPARTMENT_LEVEL = 0


def grant_levels(user, perm: str, path: str) -> set[int]:
    """The levels at which `user` holds `perm` over `path`: the place level of each covering grant
    (a department handler's grant counts as DEPARTMENT_LEVEL). A system admin holds every level."""
    if not user.is_active:
        return set()
    levels: set[int] = set()
    for grant in current_grants(user):
        if perm not in ROLES[Role(grant.role)].perms:
            continue
        if grant.role == Role.SYSTEM_ADMIN:
            return {DEPARTMENT_LEVEL, 1, 2, 3, 4}
        if any(path.startswith(p) for p in _grant_prefixes(grant)):
            levels.add(DEPARTMENT_LEVEL if grant.role == Role.DEPARTMENT_HANDLER else grant.place.level)
    return levels
