"""What each audit action is called on the audit page, and which actions are a view or export of
someone's personal data (the auditor's "personal data seen or exported" filter).

Each app registers its own actions (in its AppConfig.ready) so the audit page, which lives in accounts,
needs to know no other app. Labels are lazy translations."""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext

_LABELS: dict[str, object] = {}
_PERSONAL: set[str] = set()
_FIELDS: dict[str, object] = {}  # before/after keys that are no model field (or have no verbose name)
_VALUES: dict[tuple[str, object], object] = {}  # (key, code) → label, for codes that are no field's choice
_OBJECTS: dict[str, object] = {}  # object types that are no model ("places.roster")


def register(labels: Mapping[str, object], *, personal: tuple[str, ...] = ()) -> None:
    _LABELS.update(labels)
    _PERSONAL.update(personal)


def register_fields(
    labels: Mapping[str, object],
    *,
    values: Mapping[tuple[str, object], object] | None = None,
    objects: Mapping[str, object] | None = None,
) -> None:
    """Words for the audit detail's before/after keys, values and object types (lazy translations)."""
    _FIELDS.update(labels)
    _VALUES.update(values or {})
    _OBJECTS.update(objects or {})


def field_label(key: str) -> str | None:
    text = _FIELDS.get(key)
    return str(text) if text is not None else None


def value_label(key: str, value) -> str | None:
    try:
        text = _VALUES.get((key, value))
    except TypeError:  # an unhashable value
        return None
    return str(text) if text is not None else None


def object_label(object_type: str) -> str | None:
    text = _OBJECTS.get(object_type)
    return str(text) if text is not None else None


def label(action: str) -> str:
    """The action in the viewer's words; an action no app registered is not shown by its code."""
    text = _LABELS.get(action)
    return str(text) if text is not None else gettext("Other action")


def known() -> set[str]:
    return set(_LABELS)


def personal() -> tuple[str, ...]:
    return tuple(sorted(_PERSONAL))
