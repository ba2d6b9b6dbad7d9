"""Resolving a user's Scope for one permission from their current grants (cached per user object)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.functional import LazyObject, empty

from linjialin.core import rows
from linjialin.core.scope import Scope

from .roles import ROLES, Role


def _own(user):
    """The User whose __dict__ holds the per-user caches: behind request.user's lazy wrapper, the user
    it wraps (or the wrapper and the user would each read the grants)."""
    if isinstance(user, LazyObject):
        if user._wrapped is empty:
            user._setup()
        return user._wrapped
    return user


def scope_for_user(user, perm: str) -> Scope:
    if not user.is_active:
        return Scope.nowhere()
    cache = _own(user).__dict__.setdefault("_scope_cache", {})
    if perm not in cache:
        cache[perm] = _compute(user, perm)
    return cache[perm]


def clear_cache(user) -> None:
    user = _own(user)
    user.__dict__.pop("_scope_cache", None)
    user.__dict__.pop("_current_grants", None)


def current_grants(user) -> list:
    user = _own(user)
    if "_current_grants" not in user.__dict__:
        from .models import RoleGrant

        # RoleGrant.objects.current(today).filter(user=user).select_related("place__parent", "building"),
        # in RoleGrant's order, as one plain statement: it runs on nearly every request (core/rows.py)
        today = timezone.localdate()
        user.__dict__["_current_grants"] = rows.fetch(
            RoleGrant,
            "t.user_id = %s AND t.valid_from <= %s AND (t.valid_to IS NULL OR t.valid_to >= %s)",
            [user.pk, today, today],
            related=("place", "building", "place__parent"),
            order_by="t.path, t.role, t.valid_from DESC",
        )
    return user.__dict__["_current_grants"]


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
