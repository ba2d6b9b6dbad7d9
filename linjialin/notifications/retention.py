"""How long notices are kept (core/retention.py): old notices are deleted by the nightly job."""

from django.utils.translation import gettext_lazy as _

from linjialin.core import retention


def _purge(cutoff) -> int:
    from .models import Notification

    deleted, _rows = Notification.objects.filter(created_at__lt=cutoff).delete()
    return deleted


retention.register("notifications", _("Notifications"), purge=_purge)
