"""What each audit action is called on the audit page, and which actions are a view or export of
someone's personal data (the auditor's "personal data seen or exported" filter).

Each app registers its own actions (in its AppConfig.ready) so the audit page, which lives in accounts,
needs to know no other app. Labels are lazy translations."""

from __future__ import annotations

from collections.abc import Mapping

_LABELS: dict[str, object] = {}
_PERSONAL: set[str] = set()


def register(labels: Mapping[str, object], *, personal: tuple[str, ...] = ()) -> None:
    _LABELS.update(labels)
    _PERSONAL.update(personal)


def label(action: str) -> str:
    return str(_LABELS.get(action, action))


def known() -> set[str]:
    return set(_LABELS)


def personal() -> tuple[str, ...]:
    return tuple(sorted(_PERSONAL))
