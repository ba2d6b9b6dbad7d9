from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "linjialin.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from linjialin.core import audit_labels

        from . import signals  # noqa: F401  (login audit)
        from .audit_detail import COMMON_FIELDS
        from .audit_views import ACTION_LABELS

        audit_labels.register(ACTION_LABELS)
        from .signin_labels import SIGNIN_ACTION_LABELS, SIGNIN_FIELDS

        audit_labels.register(SIGNIN_ACTION_LABELS)
        audit_labels.register_fields(SIGNIN_FIELDS)
        audit_labels.register_fields(COMMON_FIELDS)
        audit_labels.register(
            {"privacy.data_downloaded": _("Personal data downloaded by the person")},
            personal=("privacy.data_downloaded",),
        )
