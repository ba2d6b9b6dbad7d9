from django.apps import AppConfig
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _


class HotspotsConfig(AppConfig):
    name = "linjialin.hotspots"
    label = "hotspots"
    verbose_name = _("Hotspots (未诉先办)")

    def ready(self):
        from linjialin.core import audit_labels

        from .workflow import workflow

        task = _("Proactive task")
        labels = {
            f"hotspots.task.{t.name}": format_lazy("{}: {}", task, t.label) for t in workflow.transitions
        }
        labels |= {
            "hotspots.task.created": format_lazy("{}: {}", task, _("created from a hotspot (立项)")),
            "hotspots.detected": _("Hotspot detection run"),
            "hotspots.rules_changed": _("Hotspot rules changed"),
            "hotspots.theme.saved": _("Monthly theme (每月一题) saved"),
            "hotspots.theme.problem_added": _("Monthly theme: problem added"),
            "hotspots.theme.problem_removed": _("Monthly theme: problem removed"),
            "hotspots.theme.policy_added": _("Monthly theme: policy added"),
            "hotspots.theme.task_attached": _("Monthly theme: task attached"),
            "hotspots.report_exported": _("Monthly report exported"),
        }
        audit_labels.register(labels)
