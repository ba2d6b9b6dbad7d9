from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoutingConfig(AppConfig):
    name = "linjialin.routing"
    label = "routing"
    verbose_name = _("category routing")

    def ready(self):
        from linjialin.core import audit_labels

        audit_labels.register({"routing.train": _("Category router: model trained")})
