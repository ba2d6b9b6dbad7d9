"""Retention per data class (PIPL art. 19: keep personal data no longer than needed).

Each app declares the classes of data it holds in its `retention.py` (`register(...)`): a label, a
default, a legal minimum, and `purge(cutoff)` that deletes or blanks what is older than the cutoff and
returns how many rows it touched. How long each class is kept is DATA: one `RetentionRule` row per class
(admin → Retention rules), created with the default on first use. The nightly `enforce_retention` job
runs every purge and writes one audit event with the counts, so the deletions are themselves accountable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import audit

DEFAULT_DAYS = 3 * 365
AUDIT_MINIMUM_DAYS = 183  # 等保 level 3: the audit trail is kept at least six months


@dataclass(frozen=True)
class DataClass:
    code: str
    label: object
    default_days: int
    minimum_days: int
    purge: Callable[[datetime], int] | None  # None: kept, only counted (see `due`)
    due: Callable[[datetime], int] | None = None


_CLASSES: dict[str, DataClass] = {}
_discovered = False


def register(
    code: str,
    label,
    *,
    purge: Callable[[datetime], int] | None,
    due: Callable[[datetime], int] | None = None,
    default_days: int = DEFAULT_DAYS,
    minimum_days: int = 0,
) -> DataClass:
    data_class = DataClass(code, label, default_days, minimum_days, purge, due)
    _CLASSES[code] = data_class
    return data_class


def classes() -> dict[str, DataClass]:
    global _discovered
    if not _discovered:
        autodiscover_modules("retention")
        _discovered = True
    return dict(sorted(_CLASSES.items()))


def minimum_days(code: str) -> int:
    data_class = classes().get(code)
    return data_class.minimum_days if data_class else 0


def rule(code: str):
    """The class's rule row, created with the class's default the first time it is needed."""
    from .models import RetentionRule

    data_class = classes()[code]
    row, _created = RetentionRule.objects.get_or_create(
        data_class=code, defaults={"keep_days": data_class.default_days}
    )
    return row


def set_keep_days(actor, code: str, *, keep_days: int, note: str = ""):
    """Change how long a class is kept; refuses less than its legal minimum. Audited."""
    if code not in classes():
        raise ValidationError({"data_class": _("Unknown data class.")})
    least = minimum_days(code)
    if keep_days < least:
        raise ValidationError(
            {"keep_days": _("This data must be kept at least %(days)d days.") % {"days": least}}
        )
    with transaction.atomic():
        row = rule(code)
        before = {"keep_days": row.keep_days}
        row.keep_days, row.note = keep_days, note or row.note
        row.save(update_fields=["keep_days", "note", "updated_at"])
        audit.record(
            "retention.rule_changed", actor=actor, obj=row, before=before, after={"keep_days": keep_days}
        )
    return row


def enforce(now: datetime | None = None) -> dict[str, dict]:
    """Purge every class past its rule; one audit event for the run with what each class did."""
    now = now or timezone.now()
    report: dict[str, dict] = {}
    with transaction.atomic():
        for code, data_class in classes().items():
            days = rule(code).keep_days
            cutoff = now - timedelta(days=days)
            if data_class.purge is not None:
                report[code] = {"days": days, "purged": data_class.purge(cutoff)}
            else:
                report[code] = {
                    "days": days,
                    "purged": 0,
                    "kept": data_class.due(cutoff) if data_class.due else 0,
                }
        audit.record(
            "retention.enforced",
            actor_name="retention",
            object_type="core.retentionrule",
            after={"classes": report, "at": now.isoformat()},
        )
    return report


# --- the classes core itself holds --------------------------------------------------------------------
def _audit_due(cutoff: datetime) -> int:
    from .models import AuditEvent

    return AuditEvent.objects.filter(at__lt=cutoff).count()


def _purge_sessions(cutoff: datetime) -> int:
    from django.contrib.sessions.models import Session

    deleted, _rows = Session.objects.filter(expire_date__lt=cutoff).delete()
    return deleted


# The audit trail is hash-chained from its first event: removing a prefix needs the verifier to start
# from a signed checkpoint, so old events are counted here (the run's event says how many are past
# their time) and not deleted. The rule still matters: it may never be set below six months.
register(
    "audit",
    gettext_lazy("Audit trail"),
    purge=None,
    due=_audit_due,
    minimum_days=AUDIT_MINIMUM_DAYS,
)
register("sessions", gettext_lazy("Expired sign-in sessions"), purge=_purge_sessions, default_days=30)
