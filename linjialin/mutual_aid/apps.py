from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MutualAidConfig(AppConfig):
    name = "linjialin.mutual_aid"
    label = "mutual_aid"
    verbose_name = _("Mutual aid (近邻互助)")

    def ready(self):
        from linjialin.core import audit_labels

        from .services import care, emergency, posts

        # each services module declares the audit actions it writes, and which are views of personal data
        for module in (posts, care, emergency):
            audit_labels.register(module.AUDIT_LABELS, personal=module.AUDIT_PERSONAL)
        audit_labels.register_fields({}, objects={"mutual_aid.carelist": _("Care list")})
