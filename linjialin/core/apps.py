from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "linjialin.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self):
        from . import (
            audit_labels,
            calendar,  # noqa: F401  (cache-invalidation receivers and the calendar system check)
        )

        audit_labels.register(
            {
                "calendar.day_saved": _("Holiday calendar: day saved"),
                "calendar.day_deleted": _("Holiday calendar: day removed"),
            }
        )
        audit_labels.register(
            {
                "system.backup_created": _("Database backed up"),
                "system.restored": _("Database restored from a backup"),
                "retention.enforced": _("Retention rules applied (old data deleted)"),
                "retention.rule_changed": _("Retention rule changed"),
            }
        )
