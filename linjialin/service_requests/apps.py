from django.apps import AppConfig
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _


class ServiceRequestsConfig(AppConfig):
    name = "linjialin.service_requests"
    label = "service_requests"
    verbose_name = _("Requests (微诉求)")

    def ready(self):
        from linjialin.core import audit_labels

        from .workflow import workflow

        request = _("Request")
        labels = {f"request.{t.name}": format_lazy("{}: {}", request, t.label) for t in workflow.transitions}
        labels |= {
            f"request.{name}": format_lazy("{}: {}", request, text)
            for name, text in {
                "submitted": _("submitted"),
                "photos": _("photos added"),
                "supervised": _("put under supervision (督办)"),
                "overdue": _("overdue: put under supervision (督办)"),
                "whistle": _("units summoned (吹哨)"),
                "co_handle": _("co-handling units added"),
                "check_in": _("a unit reported for duty (报到)"),
                "report_back": _("a unit reported back"),
                "recategorise": _("category corrected"),
                "diverted": _("not accepted: belongs to another channel"),
                "emergency": _("emergency: told to call 110 / 119 / 120 / 122"),
                "diversion_overridden": _("submitted although a diversion rule matched"),
                "repeat_linked": _("linked to the open request it repeats"),
                "hotline_import": _("hotline work orders imported"),
                "contact_viewed": _("requester's contact shown in full"),
            }.items()
        }
        labels["requests.rates_exported"] = _("Rates exported")
        audit_labels.register(labels, personal=("request.contact_viewed",))
