from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MediationConfig(AppConfig):
    name = "linjialin.mediation"
    label = "mediation"
    verbose_name = _("Mediation centre (全环节多元化解中心)")

    def ready(self):
        from linjialin.core import audit_confidential, audit_labels

        from . import selectors
        from .services import cases, exports, screening

        # everything the centre does is confidential in the audit trail: no names or content outside
        # the case's circle (DESIGN.md §3.2)
        audit_confidential.register(
            "mediation.", keep=selectors.AUDIT_HARMLESS_KEYS, circle=selectors.audit_circle
        )

        # each services module declares the audit actions it writes, and which are views of personal data
        for module in (cases, screening, exports):
            audit_labels.register(module.AUDIT_LABELS, personal=module.AUDIT_PERSONAL)
