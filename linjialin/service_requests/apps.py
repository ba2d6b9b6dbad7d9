from django.apps import AppConfig
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _


class ServiceRequestsConfig(AppConfig):
    name = "linjialin.service_requests"
    label = "service_requests"
    verbose_name = _("Requests (微诉求)")

    def ready(self):
        from linjialin.core import audit_labels

        from .labels import EVENT_LABELS

        request = _("Request")
        # the audit action of a step is "request.<its timeline kind>": one wording for both pages
        labels = {
            f"request.{kind}": format_lazy("{}: {}", request, text) for kind, text in EVENT_LABELS.items()
        }
        labels |= {
            f"request.{name}": format_lazy("{}: {}", request, text)
            for name, text in {
                "emergency": _("emergency: told to call 110 / 119 / 120 / 122"),
                "hotline_import": _("hotline work orders imported"),
                "contact_viewed": _("requester's contact shown in full"),
                "co_rated": _("a neighbour rated it"),
            }.items()
        }
        labels["requests.rates_exported"] = _("Rates exported")
        audit_labels.register(labels, personal=("request.contact_viewed",))
        audit_labels.register_fields(
            {
                "voices": _("voices (我也遇到)"),
                "merged": _("merged request"),
                "unmerged": _("request taken out"),
                "repeat_of": _("repeats request"),
                "keyword": _("matched words"),
                "referred_to": _("referred to"),
                "solved": _("solved"),
                "satisfaction": _("satisfaction"),
                "diversion": _("other channel"),
                "reached": _("reached"),
                "attempt": _("try"),
                "month": _("month"),
            },
            objects={"service_requests.hotline_import": _("Hotline work orders")},
        )
