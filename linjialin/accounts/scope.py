"""Resolving a user's Scope for one permission from their current grants (cached per user object)."""

from __future__ import annotations

from django.utils import timezone

from linjialin.core.scope import Scope

from .roles import ROLES, Role


def scope_for_user(user, perm: str) -> Scope:
    if not user.is_active:
        return Scope.nowhere()
    cache = user.__dict__.setdefault("_scope_cache", {})
    if perm not in cache:
        cache[perm] = _compute(user, perm)
    return cache[perm]


def clear_cache(user) -> None:
    user.__dict__.pop("_scope_cache", None)
    user.__dict__.pop("_current_grants", None)


def current_grants(user) -> list:
    if "_current_grants" not in user.__dict__:
        from .models import RoleGrant

        user.__dict__["_current_grants"] = list(
            RoleGrant.objects.current(timezone.localdate())
            .filter(user=user)
            .select_related("place", "building")
        )
    return user.__dict__["_current_grants"]


def _compute(user, perm: str) -> Scope:
    from linjialin.places.selectors import building_entrance_paths, floor_household_paths

    prefixes: list[str] = []
    for grant in current_grants(user):
        if perm not in ROLES[Role(grant.role)].perms:
            continue
        if grant.role == Role.SYSTEM_ADMIN:
            return Scope(everywhere=True)
        if grant.building_id:
            prefixes += building_entrance_paths(grant.building_id)
        elif grant.floor is not None:
            prefixes += floor_household_paths(grant.place, grant.floor)
        else:
            prefixes.append(grant.path)
    return Scope.nowhere() | Scope(prefixes=tuple(prefixes))
