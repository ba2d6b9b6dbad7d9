"""Audit events about confidential objects (mediation cases and everything under them, counselling):
they carry no names, case numbers, titles, addresses or content for anyone outside the object's circle.

Two layers. At record time (core.audit.prepare) such an event keeps no description of its object
(object_repr becomes "#id") and only the before/after keys its app declared harmless, with values that
are ids, numbers, dates or codes — never free text. At read time (`redact`, on the audit page and in
the API) everything older or still sensitive is masked again for a viewer outside the circle: the
reason given (free text), the place below the community (a household is an address), and the same
before/after filter. The circle itself sees the details on the object's own timeline.

Each app registers its confidential actions, object types and notice kinds and how to decide its circle
(its AppConfig.ready), so core knows no domain app."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

_SAFE_TEXT = re.compile(r"[A-Za-z0-9_.:+\-]{0,40}")  # codes, ids, ISO dates and times: no words, no names


@dataclass(frozen=True)
class Rule:
    prefix: str  # actions, object types and notice kinds ("after.kind") starting with it
    keep: frozenset[str]  # before/after keys that carry no names or content
    circle: Callable  # (viewer, events) → the ids of the events the viewer may read in full


_RULES: list[Rule] = []


def register(prefix: str, *, keep: Iterable[str], circle: Callable) -> None:
    _RULES.append(Rule(prefix, frozenset(keep), circle))


def rule_for(action: str, object_type: str, after) -> Rule | None:
    kind = after.get("kind") if isinstance(after, dict) else None
    for rule in _RULES:
        if (
            action.startswith(rule.prefix)
            or object_type.startswith(rule.prefix)
            or (isinstance(kind, str) and kind.startswith(rule.prefix))
        ):
            return rule
    return None


def _harmless(value) -> bool:
    if value is None or isinstance(value, bool | int | float):
        return True
    if isinstance(value, str):
        return _SAFE_TEXT.fullmatch(value) is not None
    if isinstance(value, list):
        return all(_harmless(v) for v in value)
    if isinstance(value, dict):
        return all(_SAFE_TEXT.fullmatch(str(k)) and _harmless(v) for k, v in value.items())
    return False


def neutral(rule: Rule, data) -> dict:
    """`data` (before/after) with only the declared keys whose values are harmless."""
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if k in rule.keep and _harmless(v)}


def neutral_repr(object_id: str) -> str:
    return f"#{object_id}" if object_id else ""


def on_record(event) -> None:
    """Called by core.audit.prepare: strip what names or describes a confidential object."""
    rule = rule_for(event.action, event.object_type, event.after)
    if rule is None:
        return
    event.object_repr = neutral_repr(event.object_id)
    event.before, event.after = neutral(rule, event.before), neutral(rule, event.after)


def _community(path: str) -> str:
    """The path cut to the community (subdistrict.community.): below it a place is an address."""
    parts = [p for p in path.split(".") if p]
    return ".".join(parts[:2]) + "." if len(parts) > 2 else path


def redact(events: list, viewer) -> list:
    """Mask, in memory, the confidential events `viewer` is outside the circle of (each masked event
    gets `confidential = True`). Returns `events`."""
    by_rule: dict[int, list] = {}
    for event in events:
        event.confidential = False
        rule = rule_for(event.action, event.object_type, event.after)
        if rule is not None:
            by_rule.setdefault(id(rule), [rule]).append(event)
    for rule, *group in by_rule.values():
        inside = rule.circle(viewer, group)
        for event in group:
            if event.pk in inside:
                continue
            event.confidential = True
            event.object_repr = neutral_repr(event.object_id)
            event.before, event.after = neutral(rule, event.before), neutral(rule, event.after)
            event.reason = ""
            event.path = _community(event.path)
    return events


def prefixes() -> tuple[str, ...]:
    return tuple(rule.prefix for rule in _RULES)


def q():
    """A filter matching the confidential events (for searches by their object's description, which
    must find nothing about them: the search would tell a name apart)."""
    from django.db.models import Q

    condition = Q(pk__in=[])
    for rule in _RULES:
        condition |= (
            Q(action__startswith=rule.prefix)
            | Q(object_type__startswith=rule.prefix)
            # has_key first: a missing key compares as NULL, and NOT (… OR NULL) would drop every event
            | (Q(after__has_key="kind") & Q(after__kind__startswith=rule.prefix))
        )
    return condition
