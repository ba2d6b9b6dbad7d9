"""How long the records of one's sign-ins (device, address, last seen) are kept (core/retention.py).
A record outlives its session only as history for the sessions page; past the rule it is deleted."""

from django.utils.translation import gettext_lazy as _

from linjialin.core import retention


def _purge(cutoff) -> int:
    from .models import UserSession

    deleted, _rows = UserSession.objects.filter(last_seen__lt=cutoff).delete()
    return deleted


retention.register("signin_records", _("Sign-in records (device, address)"), purge=_purge, default_days=90)
