"""The scope policy's plumbing: a user's reach for one permission is a set of place-path prefixes.

Every governed object stores the materialized path of the place it belongs to (`path`, or the field
named by `scope_field` on its model). A place path is a dot-terminated string of codes, e.g.
`110112008.001.002.0042.` for an entrance; everything below starts with that prefix. A scope filter
is therefore one indexed range query per prefix: `path >= p AND path < p + "~"`, which uses the
B-tree index on SQLite and on PostgreSQL (the column has the "C" collation there, see PathField).

core knows no domain app: the user object supplies `scope_for(perm) -> Scope` (accounts does).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.db.models import Q

PATH_END = "~"  # sorts after every character used in codes ("0-9", "A-Z", ".")


class PathField(models.CharField):
    """A materialized place path. Binary collation on PostgreSQL so range scans follow byte order."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("db_index", True)
        super().__init__(*args, **kwargs)

    def db_parameters(self, connection):
        params = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            params["collation"] = "C"
        return params


def ancestor_paths(path: str) -> list[str]:
    """The paths of the place at `path` and of every place above it, top first."""
    parts = path.rstrip(".").split(".")
    return [".".join(parts[: i + 1]) + "." for i in range(len(parts))]


def under(prefix: str, field: str = "path") -> Q:
    """Q for rows whose `field` starts with `prefix` (inclusive), as an index-friendly range."""
    return Q(**{f"{field}__gte": prefix, f"{field}__lt": prefix + PATH_END})


@dataclass(frozen=True)
class Scope:
    """Where a permission reaches: everywhere, or under any of `prefixes`."""

    prefixes: tuple[str, ...] = ()
    everywhere: bool = False

    @classmethod
    def nowhere(cls) -> Scope:
        return cls()

    @property
    def is_empty(self) -> bool:
        return not self.everywhere and not self.prefixes

    def covers(self, path: str) -> bool:
        return self.everywhere or any(path.startswith(p) for p in self.prefixes)

    def q(self, field: str = "path") -> Q:
        if self.everywhere:
            # Every row, also when OR-ed with another condition: Q() | other would be just `other`.
            # Django compiles ~pk__in=[] to no SQL condition at all (a full result set).
            return ~Q(pk__in=[])
        if not self.prefixes:
            return Q(pk__in=[])
        condition = Q()
        for prefix in _minimal(self.prefixes):
            condition |= under(prefix, field)
        return condition

    def __or__(self, other: Scope) -> Scope:
        if self.everywhere or other.everywhere:
            return Scope(everywhere=True)
        return Scope(prefixes=_minimal(self.prefixes + other.prefixes))


def _minimal(prefixes: tuple[str, ...]) -> tuple[str, ...]:
    """Drop prefixes covered by a shorter one: (a., a.b., c.) -> (a., c.)."""
    kept: list[str] = []
    for prefix in sorted(set(prefixes)):
        if not kept or not prefix.startswith(kept[-1]):
            kept.append(prefix)
    return tuple(kept)


def scope_for(user, perm: str) -> Scope:
    if user is None or not getattr(user, "is_authenticated", False):
        return Scope.nowhere()
    return user.scope_for(perm)


class ScopedQuerySet(models.QuerySet):
    """`Model.objects.visible_to(user, perm)`: the one entry for governed reads."""

    def visible_to(self, user, perm: str):
        field = getattr(self.model, "scope_field", "path")
        scope = scope_for(user, perm)
        if scope.is_empty:
            return self.none()
        return self.filter(scope.q(field))
