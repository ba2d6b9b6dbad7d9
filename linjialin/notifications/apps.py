from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "linjialin.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        from linjialin.core import audit_labels

        from .channels import channel_label, channel_paths

        audit_labels.register({"notification.sent": _("Notices sent")})
        audit_labels.register_fields(
            {}, values={("channels", path): channel_label(path) for path in channel_paths()}
        )
