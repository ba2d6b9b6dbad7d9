from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MediationConfig(AppConfig):
    name = "linjialin.mediation"
    label = "mediation"
    verbose_name = _("Mediation centre (全环节多元化解中心)")

    def ready(self):
        from linjialin.core import audit_labels

        from .services import cases, exports, screening

        # each services module declares the audit actions it writes, and which are views of personal data
        for module in (cases, screening, exports):
            audit_labels.register(module.AUDIT_LABELS, personal=module.AUDIT_PERSONAL)
