from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "linjialin.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self):
        from . import calendar  # noqa: F401  (cache-invalidation receivers and the calendar system check)
