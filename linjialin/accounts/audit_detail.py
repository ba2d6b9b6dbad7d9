"""An audit event's before/after values as people read them: one row per field, named by the model
field's verbose name (or a label registered in core.audit_labels), with choice values by their labels.

Generic over every app (it reads the model through django.apps from the event's object type), so the
audit page needs to know no domain app."""

from __future__ import annotations

import re

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from linjialin.core import audit_labels

_CODE = re.compile(r"[a-z][a-z0-9]*(?:[._][a-z0-9]+)+")


def _model(object_type: str) -> type[models.Model] | None:
    try:
        return apps.get_model(object_type)
    except (LookupError, ValueError):
        return None


def _field(model, key: str):
    if model is None:
        return None
    try:
        return model._meta.get_field(key)
    except FieldDoesNotExist:
        return None


def field_label(model, key: str) -> str:
    """The field's translated verbose name if the model gives one, else a registered label, else the
    key in plain words."""
    field = _field(model, key)
    verbose = getattr(field, "verbose_name", None)
    if isinstance(verbose, Promise):  # written by hand, translatable (Django's default is the bare name)
        return str(verbose)
    registered = audit_labels.field_label(key)
    if registered is not None:
        return registered
    return str(verbose or key).replace("_", " ")


def value_text(model, key: str, value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, list):
        return ", ".join(value_text(model, key, v) for v in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{field_label(model, k)}: {value_text(model, k, v)}" for k, v in value.items())
    field = _field(model, key)
    choices = dict(getattr(field, "flatchoices", None) or ())
    if value in choices:
        return str(choices[value])
    registered = audit_labels.value_label(key, value)
    if registered is not None:
        return registered
    if isinstance(value, str) and key not in ("file", "format") and _CODE.fullmatch(value):
        # a code no field or app names (a notice kind, a state of another model): never shown as is
        return audit_labels.label(value) if value in audit_labels.known() else re.sub(r"[._]", " ", value)
    return str(value)


def object_kind(object_type: str) -> str:
    """What kind of thing the event is about ("Request", "Household" …), or "" when nobody named it in
    words (a model without a translatable verbose name is not shown by its class name)."""
    registered = audit_labels.object_label(object_type)
    if registered is not None:
        return registered
    model = _model(object_type)
    verbose = model._meta.verbose_name if model is not None else None
    if not isinstance(verbose, Promise):
        return ""
    text = str(verbose)
    return text[:1].upper() + text[1:]


def changes(event) -> list[dict]:
    """Rows {label, before, after, changed} in the order the fields were recorded."""
    before, after = event.before or {}, event.after or {}
    if not isinstance(before, dict) or not isinstance(after, dict):
        return []
    model = _model(event.object_type)
    keys = list(before) + [k for k in after if k not in before]
    rows = []
    for key in keys:
        old = value_text(model, key, before[key]) if key in before else ""
        new = value_text(model, key, after[key]) if key in after else ""
        rows.append(
            {
                "label": field_label(model, key),
                "before": old,
                "after": new,
                "changed": key in before and key in after and before[key] != after[key],
            }
        )
    return rows


# words for before/after keys shared by many apps (an app registers its own in its AppConfig.ready)
COMMON_FIELDS = {
    "state": _("state"),
    "count": _("number"),
    "number": _("number"),
    "kind": _("kind"),
    "type": _("type"),
    "level": _("level"),
    "place": _("place"),
    "community": _("community"),
    "communities": _("communities"),
    "building": _("building"),
    "floor": _("floor"),
    "entrances": _("entrances"),
    "household": _("household"),
    "households": _("households"),
    "reason": _("reason"),
    "note": _("note"),
    "name": _("name"),
    "title": _("title"),
    "user": _("account"),
    "users": _("accounts"),
    "role": _("role"),
    "scope": _("scope"),
    "mobile": _("mobile"),
    "user_mobile": _("mobile"),
    "service_account": _("service account"),
    "masked": _("masked"),
    "channel": _("channel"),
    "channels": _("channels"),
    "seed": _("seed"),
    "rows": _("rows"),
    "created": _("created"),
    "source": _("source"),
    "format": _("format"),
    "file": _("file"),
    "size": _("size"),
    "from": _("from"),
    "to": _("to"),
    "on": _("date"),
    "days": _("days"),
    "deadline": _("deadline"),
    "active": _("active"),
    "public": _("public"),
    "version": _("version"),
    "period": _("period"),
    "month": _("month"),
    "location": _("location"),
    "how": _("how"),
    "items": _("items"),
    "seconds": _("seconds"),
    "task": _("task"),
    "tasks": _("tasks"),
    "category": _("category"),
    "categories": _("categories"),
    "requests": _("requests"),
    "member": _("member"),
    "members": _("members"),
    "owner": _("owner"),
    "person": _("person"),
    "tag": _("tag"),
    "expires_at": _("expires"),
    "revoked_at": _("revoked"),
    "locked_until": _("locked until"),
    "valid_to": _("valid until"),
    "due_on": _("due on"),
    "done_at": _("done at"),
    "held_at": _("held at"),
    "planned_on": _("planned on"),
    "dry_run": _("trial run only"),
    "outcome": _("outcome"),
    "urgency": _("urgency"),
    "unit": _("unit"),
    "units": _("units"),
    "post": _("post"),
}
